/**
 * The state store writing from its own thread (state/store.ts `openStateStoreInThread`,
 * writer-thread.ts) against the store writing on the scan's thread: the same rows, the same
 * commits with cursors, a failed write that stops the scan instead of being lost, and a thread
 * behind that holds the scan back. The thread runs compiled files only: the built modules
 * (`npm run build` first, as `npm test` does).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Category, Finding } from '../../src/model/finding.js';
import type { MessageOutcome, ScanSummary } from '../../src/model/records.js';
import type { StateStore } from '../../src/state/store.js';
import { storeThread } from '../../src/pipeline/scanner.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { DEMO } from '../helpers/demo.js';
import { built } from '../helpers/built.js';

const storeModule = (): Promise<typeof import('../../src/state/store.js')> => built('state/store.js');

type Mode = 'inline' | 'thread';
const KEY = Buffer.from('writer-thread-test-key-0123456789');

async function open(file: string, mode: Mode): Promise<StateStore> {
  const { openStateStore, openStateStoreInThread } = await storeModule();
  const run = { sources: ['mbox:x'], sinceLast: true, minConfidence: 'medium' as const, details: true, key: KEY };
  return mode === 'inline' ? openStateStore(file, run) : openStateStoreInThread(file, run);
}

function finding(category: Category, rule: string, n: number, location = 'body'): Finding {
  return {
    rule,
    category,
    confidence: 'high',
    score: 0.91,
    location,
    masked: `•••-••-${String(n).padStart(4, '0')}`,
    fingerprint: n.toString(16).padStart(16, '0'),
    why: { pattern: 'p', verdict: 'valid', baseScore: 0.9, score: 0.91 },
  };
}

function outcome(messageId: string, findings: Finding[], people?: MessageOutcome['people']): MessageOutcome {
  return { messageId, date: '2024-03-04T09:15:00.000Z', maskedSubject: 'Re: claim •••-••-0000', findings, problems: [], ...(people ? { people } : {}) };
}

const ctx = (mailbox: string, n: number, folder = 'INBOX') => ({ source: 'mbox:x', mailbox, folder, locator: `x/${mailbox}@${n}` });

const summary = (messages: number): ScanSummary => ({
  sources: ['mbox:x'],
  startedAt: '',
  finishedAt: '2026-01-01T00:00:00.000Z',
  minConfidence: 'medium',
  mailboxes: [],
  messages,
  messagesWithPhi: messages,
  errors: 1,
  skipped: 0,
  bytes: 0,
  strict: false,
  status: 'incomplete',
});

/** Two runs that use every kind of write: messages with people, a message met twice, errors, mailboxes, cursors, Graph removals. */
async function script(file: string, mode: Mode): Promise<{ before: unknown; after: unknown }> {
  const first = await open(file, mode);
  await first.write({ type: 'message', context: ctx('a', 0), outcome: outcome('<c@x>', [finding('ssn', 'ssn', 1)]) });
  first.put({ unitId: 'unit-a', cursor: '100' });
  await first.close(summary(1));
  await first.dispose();

  const store = await open(file, mode);
  const people = [
    { keys: ['s:0123456789abcdef', 'n:fedcba9876543210'] },
    { keys: ['e:42', 'not a key', 'd:0000000000000001'] },
  ] as unknown as MessageOutcome['people'];
  await store.write({ type: 'message', context: ctx('a', 1), outcome: outcome('<1@x>', [finding('ssn', 'ssn', 2), finding('medicare-id', 'mbi', 3, 'attachment:roster.csv')], people) });
  // (its people and findings are replaced below, when it is met again)
  await store.write({ type: 'error', record: { type: 'error', source: 'mbox:x', mailbox: 'a', folder: 'INBOX', messageId: '<1@x>', location: 'attachment:x.pdf', error: 'PDF could not be read', code: 'corrupt-attachment', severity: 'failed' } });
  store.put({ unitId: 'unit-a', cursor: '200' });
  const before = store.get('unit-a');
  await store.write({ type: 'message', context: ctx('b', 2), outcome: outcome('<2@x>', Array.from({ length: 150 }, (_, i) => finding('insurance', 'member-id', 1000 + i)), people) });
  await store.write({ type: 'error', record: { type: 'error', source: 'mbox:x', mailbox: 'b', folder: 'INBOX', messageId: '<2@x>', location: 'attachment:y.pdf', error: 'PDF could not be read', code: 'corrupt-attachment', severity: 'failed' } });
  // The same message again in this run: its latest scan replaces the first (and its error record).
  await store.write({ type: 'message', context: ctx('a', 3), outcome: outcome('<1@x>', [finding('date-of-birth', 'date-of-birth', 4)]) });
  store.present?.({ source: 'mbox:x', mailbox: 'a', folder: 'INBOX' }, { removed: ['x/a@0'] });
  store.put({ unitId: 'unit-a', cursor: '300' });
  await store.write({ type: 'mailbox', record: { type: 'mailbox', source: 'mbox:x', mailbox: 'a', messages: 2, messagesWithPhi: 2, byCategory: { ssn: 1 }, errors: 1, skipped: 0 } });
  await store.flush();
  await store.close(summary(3));
  const after = store.get('unit-a');
  await store.dispose();
  return { before, after };
}

/** A table's rows in the order they were written (a table without rowid: its key's order). */
function rowsOf(db: { prepare(sql: string): { all(): unknown[] } }, name: string): unknown[] {
  try {
    return db.prepare(`SELECT * FROM ${name} ORDER BY rowid`).all();
  } catch {
    return db.prepare(`SELECT * FROM ${name}`).all();
  }
}

async function tables(file: string): Promise<Record<string, unknown[]>> {
  const { openStateDb } = await storeModule();
  const db = openStateDb(file, { create: false, readonly: true });
  try {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const when = /^\d{4}-\d\d-\d\dT[\d:.]+Z$/;
    return Object.fromEntries(
      names.map((name) => [
        name,
        (rowsOf(db, name) as Record<string, unknown>[]).map((row) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && when.test(v) && k !== 'date' ? 'TIME' : v])),
        ),
      ]),
    );
  } finally {
    db.close();
  }
}

describe('when the store has its own thread', () => {
  it.each([
    [undefined, 1, false], // the small machine's default: parsing thread, rules here; no spare core
    [undefined, 2, false],
    [0, 8, false], // --threads 0: no thread at all
    [undefined, 3, true], // whole-message threads: this thread receives and writes every outcome
    [undefined, 8, true],
    [1, 2, true], // an explicit --threads N scans whole messages
    [2, 8, true],
  ])('--threads %s on %i cores: %s', (threads, cores, expected) => {
    expect(storeThread(threads, cores)).toBe(expected);
  });
});

describe('the state store in its own thread', () => {
  it('writes the same rows, cursors and runs as the store on the scan thread', async () => {
    const dir = tempDir();
    const inline = path.join(dir, 'inline.db');
    const thread = path.join(dir, 'thread.db');
    const gotInline = await script(inline, 'inline');
    const gotThread = await script(thread, 'thread');
    expect(gotThread).toEqual(gotInline);
    expect(gotThread).toEqual({ before: { unitId: 'unit-a', cursor: '200' }, after: { unitId: 'unit-a', cursor: '300' } });
    const a = await tables(inline);
    const b = await tables(thread);
    expect(b).toEqual(a);
    // The script reached every table it meant to (a store that wrote nothing would also compare equal).
    expect(a.findings).toHaveLength(1 + 150 + 1);
    expect(a.person_keys).toHaveLength(4); // of <2@x>: <1@x>'s were replaced
    expect(a.people_scans).toHaveLength(1);
    expect(a.errors).toHaveLength(1);
    expect((a.errors as { message: number | null }[])[0]?.message).not.toBeNull();
    expect(a.gone).toHaveLength(1);
    expect(a.run_mailboxes).toHaveLength(1);
    expect(a.checkpoints).toHaveLength(1);
    expect((a.runs as { status: string }[]).map((r) => r.status)).toEqual(['incomplete', 'incomplete']);
    expect((a.checkpoints as { unit_id: string }[])[0]?.unit_id).toMatch(/^h:[0-9a-f]{32}$/);
  });

  it('commits messages only with the cursor after them, and reads its own cursors before they are committed', async () => {
    const file = path.join(tempDir(), 'state.db');
    const store = await open(file, 'thread');
    await store.write({ type: 'message', context: ctx('a', 0), outcome: outcome('<1@x>', [finding('ssn', 'ssn', 1)]) });
    store.put({ unitId: 'u', cursor: '10' });
    await store.flush();
    await store.write({ type: 'message', context: ctx('a', 1), outcome: outcome('<2@x>', [finding('ssn', 'ssn', 2)]) });
    // Applied by the thread but not committed: no cursor after it, no flush.
    await store.write({ type: 'message', context: ctx('a', 2), outcome: outcome('<3@x>', [finding('ssn', 'ssn', 3)]) });
    await new Promise((r) => setTimeout(r, 100));
    const { openStateDb } = await storeModule();
    const reader = openStateDb(file, { create: false, readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 1 });
    expect(reader.prepare('SELECT cursor FROM checkpoints').get()).toEqual({ cursor: '10' });
    store.put({ unitId: 'u', cursor: '30' });
    expect(store.get('u')).toEqual({ unitId: 'u', cursor: '30' });
    await store.flush();
    expect(reader.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 3 });
    expect(reader.prepare('SELECT cursor FROM checkpoints').get()).toEqual({ cursor: '30' });
    reader.close();
    await store.dispose();
  });

  it.each<Mode>(['thread', 'inline'])('a write that fails stops the scan with the reason (%s), and its transaction is rolled back', async (mode) => {
    const file = path.join(tempDir(), 'state.db');
    const store = await open(file, mode);
    // Another connection makes every findings insert fail (as a full disk would, in place).
    const { openStateDb } = await storeModule();
    const other = openStateDb(file, { create: false });
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON findings BEGIN SELECT RAISE(ABORT, 'refused for the test'); END");
    other.close();
    const write = async (n: number): Promise<void> => {
      await store.write({ type: 'message', context: ctx('a', n), outcome: outcome(`<${n}@x>`, []) });
      await store.write({ type: 'message', context: ctx('a', n), outcome: outcome(`<${n}b@x>`, [finding('ssn', 'ssn', 123456789)]) });
      await store.flush();
    };
    await expect(write(1)).rejects.toThrow(/^state database: refused for the test$/);
    // Every later write fails the same way: nothing is written after the failure.
    await expect(write(2)).rejects.toThrow(/^state database: refused for the test$/);
    await expect(Promise.resolve(store.dispose())).resolves.toBeUndefined();
    const reader = openStateDb(file, { create: false, readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
    expect(reader.prepare('SELECT count(*) AS n FROM findings').get()).toEqual({ n: 0 });
    reader.close();
  });

  it('holds the scan back while the thread is far behind, and writes everything', async () => {
    const file = path.join(tempDir(), 'state.db');
    const store = await open(file, 'thread');
    // One roster message far past what may wait unwritten (~130,000 cells: 9 a finding).
    const roster = Array.from({ length: 40_000 }, (_, i) => finding('ssn', 'ssn', i, 'attachment:roster.csv'));
    const first = store.write({ type: 'message', context: ctx('a', 0), outcome: outcome('<roster@x>', roster) });
    expect(first).toBeInstanceOf(Promise);
    await first;
    store.put({ unitId: 'u', cursor: '1' });
    await store.close(summary(1));
    await store.dispose();
    const { openStateDb } = await storeModule();
    const reader = openStateDb(file, { create: false, readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM findings').get()).toEqual({ n: 40_000 });
    reader.close();
  });
});

describe('a state database that refuses writes, from the command line', () => {
  it.each([[[] as string[]], [['--threads', '1']]])('stops the scan with one line and exit 3 (%j)', { timeout: 60_000 }, async (threads) => {
    const state = tempDir();
    const source = `mbox:${path.join(DEMO, 'mbox')}`;
    const first = await runCli(['scan', source, '--out', path.join(state, 'first.jsonl'), ...threads], { env: { PHI_SCAN_STATE: state } });
    expect(first.code).toBe(3); // the demo holds unreadable attachments on purpose
    expect(first.stderr).not.toMatch(/internal error/);
    const { openStateDb } = await storeModule();
    const db = openStateDb(path.join(state, 'state.db'), { create: false });
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON findings BEGIN SELECT RAISE(ABORT, 'refused for the test'); END");
    db.close();
    const second = await runCli(['scan', source, ...threads], { env: { PHI_SCAN_STATE: state } });
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/^phi-scan: internal error: state database: refused for the test$/m);
    expect(second.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });
});
