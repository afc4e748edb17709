/** The SQLite state store through its library API: transactions, runs, breach sizing, remediation. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Category, Finding } from '../../src/model/finding.js';
import type { MessageOutcome } from '../../src/pipeline/scan-message.js';
import type { ScanSummary } from '../../src/sinks/types.js';
import { HHS_THRESHOLD, diffRuns, pictureRecords, recommendedAction, remediationRows, summarize } from '../../src/report/picture.js';
import { openStateDb, openStateStore, type StateStore } from '../../src/state/store.js';
import { tempDir } from '../helpers/cli.js';

const RULE: Record<Category, string> = {
  ssn: 'ssn',
  'medicare-id': 'mbi',
  'date-of-birth': 'date-of-birth',
  'date-of-death': 'date-of-death',
  insurance: 'member-id',
  'medical-record-number': 'mrn',
  'health-condition': 'icd10',
};

function finding(category: Category, fingerprint: string, location = 'body'): Finding {
  return {
    rule: RULE[category],
    category,
    confidence: 'high',
    score: 0.9,
    location,
    masked: '•••-••-0000',
    fingerprint,
    why: { pattern: 'p', verdict: 'valid', baseScore: 0.9, score: 0.9 },
  };
}

function outcome(messageId: string, findings: Finding[]): MessageOutcome {
  return { messageId, date: '2024-03-04T09:15:00.000Z', maskedSubject: 'Re: claim •••-••-0000', findings, problems: [] };
}

const summary = (messages: number): ScanSummary => ({
  sources: ['mbox:x'],
  startedAt: '',
  finishedAt: new Date().toISOString(),
  minConfidence: 'medium',
  mailboxes: [],
  messages,
  messagesWithPhi: 0,
  errors: 0,
  skipped: 0,
  bytes: 0,
  strict: false,
  status: 'complete',
});

const ctx = (mailbox: string, folder = 'INBOX') => ({ source: 'mbox:x', mailbox, folder, locator: `x/${mailbox}@0` });
const fp = (n: number): string => n.toString(16).padStart(16, '0');

function open(file: string): StateStore {
  return openStateStore(file, { sources: ['mbox:x'], sinceLast: false, minConfidence: 'medium' });
}

describe('state store', () => {
  it('commits messages only together with the checkpoint after them', async () => {
    const file = path.join(tempDir(), 'state.db');
    const store = open(file);
    store.write({ type: 'message', context: ctx('a'), outcome: outcome('<1@x>', [finding('ssn', fp(1))]) });
    store.put({ unitId: 'u', cursor: '10' });
    await store.flush();
    store.write({ type: 'message', context: ctx('a'), outcome: outcome('<2@x>', [finding('ssn', fp(2))]) });
    // A second connection (another process) sees only the committed prefix.
    const reader = openStateDb(file, { create: false });
    expect(reader.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 1 });
    expect(reader.prepare('SELECT cursor FROM checkpoints').get()).toEqual({ cursor: '10' });
    reader.close();
    store.db.close(); // a crash: the open transaction is rolled back
    const again = open(file);
    expect(again.get('u')).toEqual({ unitId: 'u', cursor: '10' });
    expect(again.db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 1 });
    again.dispose();
  });

  it('a message scanned again replaces its findings; --run shows the older picture', async () => {
    const file = path.join(tempDir(), 'state.db');
    const run1 = open(file);
    run1.write({ type: 'message', context: ctx('a'), outcome: outcome('<1@x>', [finding('ssn', fp(1)), finding('date-of-birth', fp(2))]) });
    run1.write({ type: 'message', context: ctx('a'), outcome: outcome('<2@x>', []) });
    await run1.close(summary(2));
    run1.dispose();
    const run2 = open(file);
    // <1@x> no longer holds PHI (the identifier was removed); <3@x> is new.
    run2.write({ type: 'message', context: ctx('a'), outcome: outcome('<1@x>', []) });
    run2.write({ type: 'message', context: ctx('a'), outcome: outcome('<3@x>', [finding('medicare-id', fp(3))]) });
    await run2.close(summary(2));
    const db = run2.db;
    const now = [...pictureRecords(db)];
    expect(now.filter((r) => r.type === 'message').map((r) => (r as { messageId: string }).messageId)).toEqual(['<3@x>']);
    expect(now.find((r) => r.type === 'mailbox')).toMatchObject({ messages: 3, messagesWithPhi: 1, byCategory: { 'medicare-id': 1 } });
    const before = [...pictureRecords(db, run2.runId - 1)];
    expect(before.filter((r) => r.type === 'message').map((r) => (r as { messageId: string }).messageId)).toEqual(['<1@x>']);
    expect(before.find((r) => r.type === 'mailbox')).toMatchObject({ messages: 2, messagesWithPhi: 1, byCategory: { ssn: 1, 'date-of-birth': 1 } });
    expect(diffRuns(db, run2.runId - 1, run2.runId)).toEqual([
      {
        source: 'mbox:x',
        mailbox: 'a',
        added: [{ folder: 'INBOX', messageId: '<3@x>', categories: ['medicare-id'] }],
        resolved: [{ folder: 'INBOX', messageId: '<1@x>', categories: ['date-of-birth', 'ssn'], gone: false }],
      },
    ]);
    expect(diffRuns(db, run2.runId, run2.runId)).toEqual([]);
    run2.dispose();
  });

  it('the same message twice in one run: the second scan replaces the first (findings, people, errors); a message gone earlier and scanned again is not gone', async () => {
    const file = path.join(tempDir(), 'state.db');
    const run1 = open(file);
    run1.write({ type: 'message', context: ctx('a'), outcome: outcome('<g@x>', []) });
    await run1.close(summary(1));
    run1.db.prepare('INSERT INTO gone (message, run_id) SELECT id, ? FROM messages').run(run1.runId);
    run1.dispose();
    const run2 = open(file);
    const first = { ...outcome('<1@x>', [finding('ssn', fp(1)), finding('ssn', fp(2))]), people: [{ keys: [`s:${fp(1)}`] }, { keys: [`s:${fp(2)}`] }] };
    run2.write({ type: 'message', context: ctx('a'), outcome: first });
    run2.write({ type: 'error', record: { type: 'error', source: 'mbox:x', mailbox: 'a', folder: 'INBOX', messageId: '<1@x>', location: 'attachment:a.pdf', code: 'corrupt-attachment', severity: 'failed', error: 'a.pdf: cannot be read' } });
    run2.write({ type: 'message', context: ctx('a'), outcome: { ...outcome('<1@x>', [finding('medicare-id', fp(3))]), people: [{ keys: [`m:${fp(3)}`] }] } });
    run2.write({ type: 'message', context: ctx('a'), outcome: outcome('<g@x>', []) });
    await run2.close(summary(2));
    const db = run2.db;
    const rows = (sql: string): unknown[] => db.prepare(sql).all(run2.runId);
    expect(rows('SELECT fingerprint FROM findings WHERE run_id = ? ORDER BY id')).toEqual([{ fingerprint: fp(3) }]);
    expect(rows('SELECT key FROM person_keys WHERE run_id = ? ORDER BY key')).toEqual([{ key: `m:${fp(3)}` }]);
    expect(rows('SELECT records FROM people_scans WHERE run_id = ?')).toEqual([{ records: 1 }]);
    expect(rows('SELECT count(*) AS n FROM errors WHERE run_id = ? AND message IS NOT NULL')).toEqual([{ n: 0 }]);
    expect(rows('SELECT findings, categories FROM messages WHERE last_run = ? ORDER BY id')).toEqual([
      { findings: 0, categories: '' },
      { findings: 1, categories: 'medicare-id' },
    ]);
    expect(db.prepare('SELECT count(*) AS n FROM gone').get()).toEqual({ n: 0 });
    run2.dispose();
  });

  it('counts distinct individuals per mailbox and overall, and flags the HHS threshold', async () => {
    const file = path.join(tempDir(), 'state.db');
    const store = open(file);
    // Mailbox "big": 500 distinct SSNs, each in two messages (the same person twice counts once).
    for (let i = 0; i < 2 * HHS_THRESHOLD; i++) {
      store.write({ type: 'message', context: ctx('big'), outcome: outcome(`<b${i}@x>`, [finding('ssn', fp(i % HHS_THRESHOLD))]) });
    }
    // Mailbox "small": 3 people by SSN/MBI (one shared with "big"), plus one DOB-only message.
    store.write({ type: 'message', context: ctx('small'), outcome: outcome('<s1@x>', [finding('ssn', fp(0)), finding('medicare-id', fp(9001))]) });
    store.write({ type: 'message', context: ctx('small'), outcome: outcome('<s2@x>', [finding('ssn', fp(9002)), finding('date-of-birth', fp(9100))]) });
    store.write({ type: 'message', context: ctx('small'), outcome: outcome('<s3@x>', [finding('date-of-birth', fp(9101)), finding('health-condition', fp(9200))]) });
    await store.close(summary(1003));
    const p = summarize(store.db);
    expect(p.mailboxes.map((m) => [m.mailbox, m.individuals, m.dobOnlyIndividuals, m.overThreshold])).toEqual([
      ['big', 500, 0, true],
      ['small', 3, 1, false],
    ]);
    // fp(0) is one person in both mailboxes.
    expect(p.totals).toMatchObject({ messages: 1003, messagesWithPhi: 1003, individuals: 502, dobOnlyIndividuals: 1, mailboxesOverThreshold: 1 });

    const rows = [...remediationRows(store.db)].filter((r) => r.mailbox === 'small');
    expect(rows.map((r) => [r.messageId, r.individuals, r.action, r.maskedSubject])).toEqual([
      ['<s1@x>', 2, 'secure-portal-and-delete', 'Re: claim •••-••-0000'],
      ['<s2@x>', 1, 'secure-portal-and-delete', 'Re: claim •••-••-0000'],
      ['<s3@x>', 1, 'review', 'Re: claim •••-••-0000'],
    ]);
    store.dispose();
  });

  it('recommended actions', () => {
    expect(recommendedAction(['ssn'], true)).toBe('delete');
    expect(recommendedAction(['health-condition', 'ssn'], true)).toBe('secure-portal-and-delete');
    expect(recommendedAction(['medicare-id'], true)).toBe('secure-portal-and-delete');
    expect(recommendedAction(['date-of-birth', 'health-condition'], false)).toBe('review');
  });

  it('refuses a database from a newer phi-scan, naming the file', () => {
    const file = path.join(tempDir(), 'state.db');
    open(file).dispose();
    const db = openStateDb(file);
    db.prepare('UPDATE schema_version SET version = 99').run();
    db.close();
    expect(() => openStateDb(file)).toThrow(/schema 99 is newer/);
  });
});

describe('checkpoints.json of earlier versions', () => {
  it('are carried into the database once, so --since-last does not start over', async () => {
    const { writeFileSync } = await import('node:fs');
    const { importLegacyCheckpoints } = await import('../../src/state/store.js');
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'checkpoints.json'),
      JSON.stringify({ version: 1, units: { 'mbox:a|INBOX': { cursor: '1234', updatedAt: '2024-01-01T00:00:00.000Z' } } }),
    );
    const file = path.join(dir, 'state.db');
    expect(importLegacyCheckpoints(file, dir)).toBe(1);
    const store = open(file);
    expect(store.get('mbox:a|INBOX')).toEqual({ unitId: 'mbox:a|INBOX', cursor: '1234' });
    store.put({ unitId: 'mbox:a|INBOX', cursor: '5678' });
    store.dispose();
    // Not again: the database's checkpoints are the truth from now on.
    expect(importLegacyCheckpoints(file, dir)).toBe(0);
    const again = open(file);
    expect(again.get('mbox:a|INBOX')?.cursor).toBe('5678');
    again.dispose();
  });
});
