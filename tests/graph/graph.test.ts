/**
 * `graph://` against a local HTTPS server that behaves as Graph is documented to
 * (fake-graph-server.ts). The CLI runs as a real process and reaches the server only through
 * PHI_SCAN_GRAPH_AUTHORITY_HOST / PHI_SCAN_GRAPH_ENDPOINT and NODE_EXTRA_CA_CERTS.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, requireOrSkip, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { DEMO, leakNeedles, planted } from '../helpers/demo.js';
import { AnyRecord } from '../helpers/records.js';
import { checkpointCursors } from '../helpers/state.js';
import type { RecordedRequest } from './fake-graph-server.js';
import { addDemoUsers, addGenerated, startFake, type StartedFake } from './tenant.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const run = requireOrSkip('openssl (to make the fake Graph server certificate)', hasOpenssl);

type Rec = Record<string, unknown>;
function records(r: CliResult): Rec[] {
  const recs = jsonLines(r.stdout);
  for (const rec of recs) AnyRecord.parse(rec);
  return recs;
}
const byType = (recs: Rec[], type: string): Rec[] => recs.filter((r) => r.type === type);

/** Read-only: GETs, the token POST to the authority, and POST $batch whose steps are all GETs. */
function assertReadOnly(requests: RecordedRequest[]): void {
  for (const r of requests) {
    if (r.method === 'GET') continue;
    if (r.method === 'POST' && /\/oauth2\/v2\.0\/token(\?|$)/.test(r.url)) continue;
    expect(r.method, r.url).toBe('POST');
    expect(r.url, 'the only Graph POST is $batch').toMatch(/^\/v1\.0\/\$batch$/);
    for (const step of r.batchSteps ?? []) expect(step.method).toBe('GET');
  }
}

async function scanGraph(s: StartedFake, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['scan', ...args, '--format', 'jsonl'], { env: s.env(env) });
}

describe.runIf(run)('graph:// source', () => {
  let s: StartedFake;
  beforeAll(async () => {
    s = await startFake({ latencyMs: 2 });
    addDemoUsers(s.fake);
    s.fake.addUser(`nomail@${s.fake.tenant}`, 'not-enabled');
    s.fake.addUser(`locked@${s.fake.tenant}`, 'denied');
  });
  afterAll(async () => s?.fake.close());

  it('scans every mailbox of the tenant: the same findings as the EML archive, errors for mailboxes it cannot read', async () => {
    const r = await scanGraph(s, [`graph://${s.fake.tenant}/*`]);
    const recs = records(r);
    expect(r.code).toBe(3); // two mailboxes could not be read
    const errors = byType(recs, 'error');
    expect(errors.filter((e) => e.code === 'mailbox-unavailable').map((e) => [e.mailbox, e.error])).toEqual(
      expect.arrayContaining([
        [`nomail@${s.fake.tenant}`, expect.stringContaining('MailboxNotEnabledForRESTAPI')],
        [`locked@${s.fake.tenant}`, expect.stringContaining('ErrorAccessDenied')],
      ]),
    );
    // Per mailbox: every message scanned once; the UPN is the mailbox name.
    for (const [name, m] of Object.entries(planted.mailboxes)) {
      const box = byType(recs, 'mailbox').find((x) => x.mailbox === `${name}@${s.fake.tenant}`);
      expect(box?.messages, name).toBe(m.messages);
    }
    // Same findings (by fingerprint, message and location) as scanning the EML form of each mailbox.
    const eml = (
      await Promise.all(Object.keys(planted.mailboxes).map((name) => runCli(['scan', `eml:${path.join(DEMO, 'eml', name)}`, '--format', 'jsonl'])))
    ).flatMap((x) => byType(jsonLines(x.stdout), 'finding'));
    const key = (f: Rec): string => `${String(f.messageId)} ${String(f.location)} ${String(f.rule)} ${String(f.fingerprint)}`;
    expect(byType(recs, 'finding').map(key).sort()).toEqual(eml.map(key).sort());
    expect(byType(recs, 'finding').length).toBeGreaterThan(0);
    // Folder paths by display name.
    expect(new Set(byType(recs, 'message').map((m) => m.folder))).toEqual(new Set(['Inbox', 'Sent Items', 'Archive/2023']));
    assertReadOnly(s.fake.requests);
    const graph = s.fake.requests.filter((q) => q.url.startsWith('/v1.0/'));
    expect(graph.every((q) => q.authorized)).toBe(true);
    expect(graph.filter((q) => q.url === '/v1.0/$batch').length).toBeGreaterThan(0);
    expect(s.fake.concurrencyRejections).toBe(0);
    // Nothing raw leaves the process.
    for (const needle of leakNeedles()) {
      expect(r.stdout.includes(needle), 'stdout leak').toBe(false);
      expect(r.stderr.includes(needle), 'stderr leak').toBe(false);
    }
    expect(r.stderr).toMatch(/^phi-scan: graph: \d+ requests .* retries .* waited \d+\.\d s$/m);
    expect(r.stderr).not.toContain(s.fake.secret);
  });

  it('--users (a list or @file) and graph://TENANT/USER scan only those; an unknown user is an error record', async () => {
    const file = path.join(tempDir(), 'users.txt');
    writeFileSync(file, `# who\nbilling@${s.fake.tenant}\n\nghost@${s.fake.tenant}\n`);
    for (const args of [[`graph://${s.fake.tenant}`, '--users', `@${file}`], [`graph://${s.fake.tenant}/*`, '--users', `billing@${s.fake.tenant},ghost@${s.fake.tenant}`]]) {
      const recs = records(await scanGraph(s, args));
      expect(byType(recs, 'mailbox').map((m) => [m.mailbox, m.messages])).toEqual([
        [`ghost@${s.fake.tenant}`, 0],
        [`billing@${s.fake.tenant}`, 10],
      ]);
      expect(byType(recs, 'error')).toHaveLength(1);
      expect(byType(recs, 'error')[0]).toMatchObject({ mailbox: `ghost@${s.fake.tenant}`, code: 'mailbox-unavailable' });
    }
    const one = records(await scanGraph(s, [`graph://${s.fake.tenant}/sales@${s.fake.tenant}`]));
    expect(byType(one, 'mailbox').map((m) => [m.mailbox, m.messages])).toEqual([[`sales@${s.fake.tenant}`, 10]]);
  });

  it('--group scans the group members; a wrong group is an error record', async () => {
    const sales = s.fake.users.find((u) => u.upn.startsWith('sales@'));
    s.fake.groups.set('g-sales', [sales?.id ?? '']);
    const recs = records(await scanGraph(s, [`graph://${s.fake.tenant}`, '--group', 'g-sales']));
    expect(byType(recs, 'mailbox').map((m) => m.mailbox)).toEqual([`sales@${s.fake.tenant}`]);
    const bad = await scanGraph(s, [`graph://${s.fake.tenant}`, '--group', 'nope']);
    expect(bad.code).toBe(3);
    // Error text goes through the subject redaction, which masks a short number near a group
    // keyword (the status may show as ••4): the Graph error code says what happened.
    expect(byType(records(bad), 'error')[0]?.error).toMatch(/HTTP (404|••4) Request_ResourceNotFound \(no such group\)/);
  });

  it('a bad client secret is one auth-failed error record (exit 3), and the secret is never printed', async () => {
    const r = await scanGraph(s, [`graph://${s.fake.tenant}/*`], { PHI_SCAN_GRAPH_CLIENT_SECRET: 'wrong-secret-value-123' });
    expect(r.code).toBe(3);
    const errors = byType(records(r), 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'auth-failed' });
    expect(String(errors[0]?.error)).toContain('AADSTS7000215');
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain('wrong-secret-value-123');
      expect(out).not.toContain(s.fake.secret);
    }
  });

  it('missing credentials or an http:// endpoint are configuration errors (exit 2)', async () => {
    const noId = await runCli(['scan', `graph://${s.fake.tenant}/*`], { env: { NODE_EXTRA_CA_CERTS: s.caFile } });
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/PHI_SCAN_GRAPH_CLIENT_ID/);
    const http = await scanGraph(s, [`graph://${s.fake.tenant}/*`], { PHI_SCAN_GRAPH_ENDPOINT: s.fake.url.replace('https:', 'http:') });
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/PHI_SCAN_GRAPH_ENDPOINT: must be an https:\/\/ URL/);
    const badSpec = await scanGraph(s, ['graph://'], {});
    expect(badSpec.code).toBe(2);
  });
});

describe.runIf(run)('graph:// folders, certificates, incremental scans', () => {
  let s: StartedFake & { appPem?: string };
  beforeAll(async () => {
    s = await startFake({ latencyMs: 1, appCert: true });
  });
  afterAll(async () => s?.fake.close());

  it('authenticates with a certificate (PHI_SCAN_GRAPH_CERT) instead of a secret', async () => {
    const u = s.fake.addUser(`cert@${s.fake.tenant}`);
    addGenerated(s.fake, s.fake.folder(u, 'Inbox'), 3, 'cert');
    const r = await runCli(['scan', `graph://${s.fake.tenant}/cert@${s.fake.tenant}`, '--format', 'jsonl'], {
      env: s.env({ PHI_SCAN_GRAPH_CLIENT_SECRET: '', PHI_SCAN_GRAPH_CERT: s.appPem ?? '' }),
    });
    expect(r.code).toBe(1);
    expect(byType(records(r), 'mailbox')[0]?.messages).toBe(3);
    const tokenPost = s.fake.requests.filter((q) => q.url.includes('/oauth2/v2.0/token'));
    expect(tokenPost.at(-1)?.status).toBe(200);
  });

  it('walks child folders and the Archive folder; hidden folders only on request; search folders never', async () => {
    const u = s.fake.addUser(`tree@${s.fake.tenant}`);
    addGenerated(s.fake, s.fake.folder(u, 'Inbox'), 2, 'inbox');
    addGenerated(s.fake, s.fake.folder(u, 'Inbox/Patients/2024'), 2, 'deep');
    addGenerated(s.fake, s.fake.folder(u, 'Archive'), 1, 'archive');
    // More child folders than one page (the default page is 10, §3) to exercise folder paging.
    for (let i = 0; i < 12; i++) addGenerated(s.fake, s.fake.folder(u, `Inbox/Box ${String(i).padStart(2, '0')}`), 1, `box${i}`);
    addGenerated(s.fake, s.fake.folder(u, 'Hidden Stuff', { hidden: true }), 1, 'hidden');
    const search = s.fake.folder(u, 'All PHI', { search: true });
    addGenerated(s.fake, search, 1, 'inbox'); // a search folder shows messages that live elsewhere
    const spec = `graph://${s.fake.tenant}/tree@${s.fake.tenant}`;
    const plain = records(await scanGraph(s, [spec]));
    const folders = (recs: Rec[]): string[] => [...new Set(byType(recs, 'message').map((m) => String(m.folder)))].sort();
    expect(folders(plain)).toEqual(['Archive', 'Inbox', ...Array.from({ length: 12 }, (_, i) => `Inbox/Box ${String(i).padStart(2, '0')}`), 'Inbox/Patients/2024'].sort());
    expect(byType(plain, 'mailbox')[0]?.messages).toBe(2 + 2 + 1 + 12);
    const hidden = records(await scanGraph(s, [spec, '--include-hidden-folders']));
    expect(folders(hidden)).toContain('Hidden Stuff');
    expect(byType(hidden, 'mailbox')[0]?.messages).toBe(2 + 2 + 1 + 12 + 1);
  });

  it('--since-last: only new messages, nothing when nothing is new, a full folder rescan when the delta token expired', { timeout: 240_000 }, async () => {
    const u = s.fake.addUser(`inc@${s.fake.tenant}`);
    const inbox = s.fake.folder(u, 'Inbox');
    addGenerated(s.fake, inbox, 25, 'inc');
    addGenerated(s.fake, s.fake.folder(u, 'Sent Items'), 5, 'incsent');
    const state = tempDir();
    const spec = `graph://${s.fake.tenant}/inc@${s.fake.tenant}`;
    const once = async (): Promise<{ messages: unknown; ids: string[] }> => {
      const r = await scanGraph(s, [spec, '--since-last'], { PHI_SCAN_STATE: state });
      const recs = records(r);
      return { messages: byType(recs, 'mailbox')[0]?.messages, ids: byType(recs, 'message').map((m) => String(m.messageId)) };
    };
    expect((await once()).messages).toBe(30);
    expect(await once()).toEqual({ messages: 0, ids: [] });
    const added = addGenerated(s.fake, inbox, 2, 'inc', 100);
    const deltaCalls = s.fake.requests.length;
    expect(await once()).toEqual({ messages: 2, ids: added });
    // The incremental run used the stored deltaLinks ($deltatoken), not a new round.
    expect(s.fake.requests.slice(deltaCalls).some((q) => q.url.includes('$deltatoken='))).toBe(true);
    s.fake.expireDeltaTokens();
    const mark = s.fake.requests.length;
    expect((await once()).messages).toBe(32);
    // Every folder (Inbox, Sent Items and the three empty default folders) got 410 SyncStateNotFound
    // once in each of its two rounds (changeType=deleted, then created).
    expect(s.fake.requests.slice(mark).filter((q) => q.status === 410).length).toBe(10);
    expect(await once()).toEqual({ messages: 0, ids: [] });
  });

  it('honours Retry-After: the retry waits at least that long', async () => {
    const u = s.fake.addUser(`wait@${s.fake.tenant}`);
    addGenerated(s.fake, s.fake.folder(u, 'Inbox'), 1, 'wait');
    s.fake.faults.retryAfterSeconds = 1;
    s.fake.forceFault('429', /\/\$value$/, 1);
    const mark = s.fake.requests.length;
    const r = await scanGraph(s, [`graph://${s.fake.tenant}/wait@${s.fake.tenant}`]);
    expect(byType(records(r), 'mailbox')[0]?.messages).toBe(1);
    // This user's downloads only (another test's scan may still be finishing on the same server).
    const values = s.fake.requests.slice(mark).filter((q) => q.url.endsWith('/$value') && q.url.includes(`/users/${encodeURIComponent(u.id)}/`));
    expect(values.map((q) => q.status)).toEqual([429, 200]);
    expect((values[1]?.at ?? 0) - (values[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toMatch(/1 retries \(1 throttled or busy, 0 connection failures\), waited 1\.0 s/);
  });

  it('a message Graph keeps failing on is one error record (with its Message-ID); the other messages are scanned', async () => {
    const u = s.fake.addUser(`flaky@${s.fake.tenant}`);
    const inbox = s.fake.folder(u, 'Inbox');
    addGenerated(s.fake, inbox, 3, 'flaky');
    const bad = inbox.messages[1];
    s.fake.forceFault('500', new RegExp(`/messages/${encodeURIComponent(bad?.id ?? '')}/\\$value$`), 1);
    const r = await scanGraph(s, [`graph://${s.fake.tenant}/flaky@${s.fake.tenant}`]);
    const recs = records(r);
    expect(r.code).toBe(3);
    expect(byType(recs, 'error')).toEqual([expect.objectContaining({ code: 'read-failed', messageId: '<flaky-1@example.test>', error: expect.stringMatching(/HTTP 500 generalException/) })]);
    expect(byType(recs, 'message').map((m) => m.messageId)).toEqual(['<flaky-0@example.test>', '<flaky-2@example.test>']);
  });

  it('a scan killed in the middle of a folder resumes with --since-last where it stopped', async () => {
    const slow = await startFake({ latencyMs: 15 });
    try {
      const u = slow.fake.addUser(`kill@${slow.fake.tenant}`);
      const all = addGenerated(slow.fake, slow.fake.folder(u, 'Inbox'), 1200, 'kill');
      const state = tempDir();
      const child = spawn(process.execPath, [CLI, 'scan', `graph://${slow.fake.tenant}/*`, '--format', 'jsonl', '--since-last'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: state, ...slow.env() },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let first = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (first += d));
      const closed = new Promise((resolve) => child.on('close', resolve));
      try {
        // Kill it once a mid-round cursor (a page link and a count) is on disk.
        for (let i = 0; i < 300; i++) {
          await new Promise((r) => setTimeout(r, 50));
          if (checkpointCursors(state).includes('done')) break;
        }
      } finally {
        // Never left running after the test, whatever happened above.
        child.kill('SIGKILL');
        await closed;
      }
      const firstIds = byType(jsonLines(first), 'message').map((m) => String(m.messageId));
      expect(firstIds.length).toBeGreaterThan(0);
      expect(firstIds.length).toBeLessThan(all.length);
      const second = await runCli(['scan', `graph://${slow.fake.tenant}/*`, '--format', 'jsonl', '--since-last'], { env: slow.env({ PHI_SCAN_STATE: state }) });
      const secondIds = byType(records(second), 'message').map((m) => String(m.messageId));
      // Nothing lost; the second run did not start over (it re-reads at most what was in flight).
      expect(new Set([...firstIds, ...secondIds])).toEqual(new Set(all));
      expect(secondIds.length).toBeLessThan(all.length);
      expect(firstIds.length + secondIds.length - all.length).toBeLessThanOrEqual(100);
      const third = await runCli(['scan', `graph://${slow.fake.tenant}/*`, '--format', 'jsonl', '--since-last'], { env: slow.env({ PHI_SCAN_STATE: state }) });
      expect(byType(records(third), 'mailbox')[0]?.messages).toBe(0);
    } finally {
      await slow.fake.close();
    }
  });

  it('a message larger than --max-message-size is an error record; the scan goes on', async () => {
    const u = s.fake.addUser(`big@${s.fake.tenant}`);
    const inbox = s.fake.folder(u, 'Inbox');
    addGenerated(s.fake, inbox, 1, 'small');
    s.fake.addMessage(inbox, Buffer.concat([Buffer.from('Message-ID: <big-1@example.test>\r\nSubject: big\r\n\r\n'), Buffer.alloc(200 * 1024, 'a')]));
    addGenerated(s.fake, inbox, 1, 'small', 1);
    const r = await scanGraph(s, [`graph://${s.fake.tenant}/big@${s.fake.tenant}`, '--max-message-size', '64KB']);
    const recs = records(r);
    expect(r.code).toBe(3);
    expect(byType(recs, 'error')).toEqual([expect.objectContaining({ code: 'oversize', messageId: '<big-1@example.test>' })]);
    expect(byType(recs, 'message').map((m) => m.messageId)).toEqual(['<small-0@example.test>', '<small-1@example.test>']);
  });
});

describe.runIf(run)('graph:// under faults', () => {
  let s: StartedFake;
  beforeAll(async () => {
    s = await startFake({ latencyMs: 3, seed: 7 });
  });
  afterAll(async () => s?.fake.close());

  it('scans every message exactly once under 10% 429s, dropped connections and repeated delta items; only GETs', async () => {
    const expected: string[] = [];
    for (let b = 0; b < 3; b++) {
      const u = s.fake.addUser(`load${b}@${s.fake.tenant}`);
      expected.push(...addGenerated(s.fake, s.fake.folder(u, 'Inbox'), 60, `load${b}`));
      expected.push(...addGenerated(s.fake, s.fake.folder(u, 'Inbox/Sub'), 15, `load${b}sub`));
      expected.push(...addGenerated(s.fake, s.fake.folder(u, 'Sent Items'), 15, `load${b}sent`));
    }
    s.fake.faults = { rate429: 0.1, rate503: 0.02, dropRate: 0.1, retryAfterSeconds: 0, duplicateRate: 0.5 };
    const r = await runCli(['scan', `graph://${s.fake.tenant}/*`, '--format', 'jsonl'], { env: s.env() });
    s.fake.faults = { rate429: 0, rate503: 0, dropRate: 0, retryAfterSeconds: 1, duplicateRate: 0 };
    const recs = records(r);
    expect(byType(recs, 'error')).toEqual([]);
    expect(r.code).toBe(1);
    const ids = byType(recs, 'message').map((m) => String(m.messageId));
    expect(ids.length).toBe(expected.length);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...expected].sort());
    expect(byType(recs, 'mailbox').map((m) => m.messages)).toEqual([90, 90, 90]);
    // The faults did happen, and were retried.
    const faults = s.fake.requests.filter((q) => q.fault !== undefined);
    expect(faults.filter((q) => q.fault === '429').length).toBeGreaterThan(10);
    expect(faults.filter((q) => q.fault === 'drop' || q.fault === 'drop-mid-body').length).toBeGreaterThan(5);
    expect(faults.some((q) => q.fault === 'drop-mid-body')).toBe(true);
    const m = /(\d+) retries \((\d+) throttled or busy, (\d+) connection failures\)/.exec(r.stderr);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(faults.length);
    expect(Number(m?.[3])).toBeGreaterThan(0);
    // Never more than 4 requests in flight for one mailbox (Exchange Online's limit).
    expect(s.fake.concurrencyRejections).toBe(0);
    expect(s.fake.maxInFlightPerMailbox).toBeLessThanOrEqual(4);
    assertReadOnly(s.fake.requests);
  });
});
