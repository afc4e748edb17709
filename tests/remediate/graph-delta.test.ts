/**
 * The picture follows the mailbox between full scans on Microsoft 365: a `--since-last` scan of a
 * Graph folder runs the folder's `changeType=deleted` delta round from its stored deltaLink, and
 * each `@removed` entry (deleted, or moved out) marks that message gone (report, diff), as the
 * IMAP vanished-UID path does; a message moved into a folder is new there. Scanning stays GET-only.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../src/model/records.js';
import { parseBatch, writeBatch } from '../../src/queue/protocol.js';
import type { UnitEvent } from '../../src/pipeline/unit.js';
import { openStateDb, openStateStore } from '../../src/state/store.js';
import { jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { checkpointCursors } from '../helpers/state.js';
import type { FakeUser, RecordedRequest } from '../graph/fake-graph-server.js';
import { startFake, type StartedFake } from '../graph/tenant.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const run = requireOrSkip('openssl (to make the fake Graph server certificate)', hasOpenssl);
/** Structurally valid, made-up SSNs: planted, and searched for in every output. */
const SSNS = ['489-36-8350', '512-84-3921', '401-52-7713', '514-14-8905'];

function message(id: string, body: string): Buffer {
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\n${body}\r\n`,
  );
}

/** Read-only: GETs, the token POST to the authority, and POST $batch whose steps are all GETs. */
function writesIn(requests: readonly RecordedRequest[]): string[] {
  const bad: string[] = [];
  for (const r of requests) {
    if (r.method === 'GET') continue;
    if (r.method === 'POST' && /\/oauth2\/v2\.0\/token(\?|$)/.test(r.url)) continue;
    if (r.method === 'POST' && r.url === '/v1.0/$batch' && (r.batchSteps ?? []).every((st) => st.method === 'GET')) continue;
    bad.push(`${r.method} ${r.url}`);
  }
  return bad;
}

describe('queue protocol carries Graph @removed locators', () => {
  it('a present event with removed locators parses; one with anything else is refused', () => {
    const ok: UnitEvent[] = [{ type: 'present', present: { removed: ['graph:u-1/AAMk+id=='] } }];
    expect(parseBatch(writeBatch(ok))).toEqual(ok);
    // (a batch as a worker writes it: src/queue/protocol.ts writeBatch)
    const batch = (events: unknown[]): string => JSON.stringify({ strings: [], events });
    expect(parseBatch(batch(ok))).toEqual(ok);
    expect(() => parseBatch(batch([{ type: 'present', present: { removed: ['x'], subject: 'y' } }]))).toThrow();
    expect(() => parseBatch(batch([{ type: 'present', present: { removed: [''] } }]))).toThrow();
  });
});

describe('the state store writes @removed with the cursor after it', () => {
  const where = { source: 'graph://t.example', mailbox: 'owner', folder: 'Inbox' };
  const message = (id: string, locator: string): ScanEvent => ({
    type: 'message',
    context: { ...where, locator },
    outcome: { messageId: id, date: null, maskedSubject: null, findings: [], problems: [] },
  });
  const gone = (file: string): number => {
    const db = openStateDb(file, { create: false });
    try {
      return (db.prepare('SELECT count(*) AS n FROM gone').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('a run killed after the removals but before their cursor is committed leaves nothing gone (the next round reports them again); committed with the cursor, they are gone', async () => {
    const file = path.join(tempDir(), 'state.db');
    const first = openStateStore(file, { sources: [where.source], sinceLast: true, minConfidence: 'medium' });
    first.write(message('<a@x>', 'graph:u/A'));
    first.write(message('<b@x>', 'graph:u/B'));
    first.put({ unitId: 'u/inbox', cursor: 'c1' });
    first.dispose();

    // kill -9 after the removals reached the store, before the cursor moving past them: the open
    // transaction dies with the process (closing the database without COMMIT rolls it back).
    const killed = openStateStore(file, { sources: [where.source], sinceLast: true, minConfidence: 'medium' });
    killed.present?.(where, { removed: ['graph:u/A'] });
    killed.db.close();
    expect(gone(file)).toBe(0);

    const again = openStateStore(file, { sources: [where.source], sinceLast: true, minConfidence: 'medium' });
    again.present?.(where, { removed: ['graph:u/A', 'graph:u/unknown'] });
    again.put({ unitId: 'u/inbox', cursor: 'c2' });
    await again.flush(); // the pipeline's periodic commit
    again.db.close(); // killed right after: the removal and its cursor were committed together
    expect(gone(file)).toBe(1);
    const db = openStateDb(file, { create: false });
    expect((db.prepare('SELECT cursor FROM checkpoints').get() as { cursor: string }).cursor).toBe('c2');
    db.close();
  });
});

describe.runIf(run)('--since-last follows Graph delta @removed (fake server)', () => {
  let s: StartedFake;
  let owner: FakeUser;
  beforeAll(async () => {
    s = await startFake({ latencyMs: 1 });
    owner = s.fake.addUser(`owner@${s.fake.tenant}`);
  });
  afterAll(async () => s?.fake.close());

  it('a message deleted or moved out is gone (resolved in diff and report, counts drop); one moved in is new; a changed one is not read again; GET only', { timeout: 240_000 }, async () => {
    const inbox = s.fake.folder(owner, 'Inbox');
    const archive = s.fake.folder(owner, 'Archive');
    const p1 = s.fake.addMessage(inbox, message('p1', `Patient SSN: ${SSNS[0]} for the claim.`));
    const p2 = s.fake.addMessage(inbox, message('p2', `Member SSN ${SSNS[1]} on file.`));
    const p3 = s.fake.addMessage(inbox, message('p3', `Patient SSN: ${SSNS[2]} for the referral.`));
    s.fake.addMessage(inbox, message('p4', `Patient SSN: ${SSNS[3]} for the intake.`));
    s.fake.addMessage(inbox, message('c1', 'Lunch on Friday?'));
    const spec = `graph://${s.fake.tenant}/owner@${s.fake.tenant}`;
    const state = tempDir();
    const outputs: string[] = [];
    const cli = async (args: string[], code?: number): Promise<string> => {
      const r = await runCli(args, { env: s.env({ PHI_SCAN_STATE: state }) });
      if (code !== undefined) expect(r.code, r.stderr).toBe(code);
      outputs.push(r.stdout, r.stderr);
      return r.stdout;
    };
    const totals = async (): Promise<{ messages: number; messagesWithPhi: number }> =>
      (JSON.parse(await cli(['report', '--format', 'json'], 0)) as { totals: { messages: number; messagesWithPhi: number } }).totals;

    const first = s.fake.requests.length;
    await cli(['scan', spec, '--since-last', '--format', 'jsonl'], 1);
    expect(await totals()).toMatchObject({ messages: 5, messagesWithPhi: 4 });
    // Each folder keeps both rounds' deltaLinks: the deleted round's and the created round's.
    for (const c of checkpointCursors(state).split('\n')) expect(JSON.parse(c)).toEqual({ v: 2, removed: expect.stringContaining('$deltatoken='), delta: expect.stringContaining('$deltatoken=') });
    expect(s.fake.requests.slice(first).some((r) => r.url.includes('changeType=deleted'))).toBe(true);

    // The owner purges p1, drags p2 to Archive (a new item with a new id there, as Exchange
    // moves), and tags p3 with a category (an update: not a new message).
    s.fake.deleteMessage(inbox, p1.id);
    const moved = s.fake.userMove(inbox, p2.id, archive);
    s.fake.setCategories(p3, ['Reviewed']);

    const mark = s.fake.requests.length;
    const records = jsonLines(await cli(['scan', spec, '--since-last', '--format', 'jsonl'], 1));
    const second = s.fake.requests.slice(mark);
    // Only the moved-in message is read (in Archive); p3's category change reads nothing again.
    expect(records.filter((r) => r.type === 'message').map((r) => [r.messageId, r.folder])).toEqual([['<p2@test.example>', 'Archive']]);
    expect(second.filter((r) => r.url.endsWith('/$value')).map((r) => decodeURIComponent(r.url))).toEqual([expect.stringContaining(`/messages/${moved.id}/$value`)]);
    // The Inbox's deleted round returned the two @removed entries.
    const removedPages = second.filter((r) => r.url.includes('/messages/delta') && r.status === 200);
    expect(removedPages.length).toBeGreaterThan(0);
    expect(writesIn(s.fake.requests)).toEqual([]);

    // p1 and p2 leave the Inbox's figures; p2 is counted again in Archive.
    expect(await totals()).toMatchObject({ messages: 4, messagesWithPhi: 3 });
    // Exit 1: B has a message holding PHI that A had not (p2, now in Archive).
    const diff = jsonLines(await cli(['diff', '1', '2', '--format', 'jsonl'], 1));
    expect(diff.filter((r) => r.type === 'resolved').map((r) => [r.messageId, r.folder, r.gone]).sort()).toEqual([
      ['<p1@test.example>', 'Inbox', true],
      ['<p2@test.example>', 'Inbox', true],
    ]);
    expect(diff.filter((r) => r.type === 'added').map((r) => [r.messageId, r.folder])).toEqual([['<p2@test.example>', 'Archive']]);
    expect(await cli(['diff', '1', '2'], 1)).toMatch(/- Inbox {2}<p1@test\.example>.*\(gone from the folder\)/);
    const report = JSON.parse(await cli(['report', '--format', 'json'], 0)) as { remediation: unknown };
    expect(report.remediation).toEqual([
      { type: 'remediation-status', source: spec, mailbox: expect.any(String), remaining: 3, quarantined: 0, tagged: 0, resolved: 2 },
    ]);

    // Nothing more happened: a third --since-last scan reads nothing and marks nothing more.
    const third = jsonLines(await cli(['scan', spec, '--since-last', '--format', 'jsonl'], 0));
    expect(third.filter((r) => r.type === 'message')).toEqual([]);
    expect(await totals()).toMatchObject({ messages: 4, messagesWithPhi: 3 });

    // p2 dragged back to the Inbox: found there again (a new id), no longer gone.
    s.fake.userMove(archive, moved.id, inbox);
    const back = jsonLines(await cli(['scan', spec, '--since-last', '--format', 'jsonl'], 1));
    expect(back.filter((r) => r.type === 'message').map((r) => [r.messageId, r.folder])).toEqual([['<p2@test.example>', 'Inbox']]);
    expect(await totals()).toMatchObject({ messages: 4, messagesWithPhi: 3 });
    const diff14 = jsonLines(await cli(['diff', '1', '4', '--format', 'jsonl'], 0));
    expect(diff14.filter((r) => r.type === 'resolved').map((r) => r.messageId)).toEqual(['<p1@test.example>']);
    expect(writesIn(s.fake.requests)).toEqual([]);

    for (const t of outputs) for (const ssn of SSNS) expect(t).not.toContain(ssn);
  });
});
