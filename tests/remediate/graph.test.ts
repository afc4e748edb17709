/**
 * remediate on Microsoft 365 through the fake Graph server (tests/graph/fake-graph-server.ts):
 * move to a created folder with a 429 on the way, category, undo; the remediation app is its
 * own registration (the scanning app's token cannot write); a dry run sends no write.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvKey } from '../../src/findings/key.js';
import { verifyLog } from '../../src/remediate/audit.js';
import { TEST_KEY, jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { allFolders, type FakeUser } from '../graph/fake-graph-server.js';
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
const SSNS = ['489-36-8350', '512-84-3921'];

function message(id: string, body: string): Buffer {
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\n${body}\r\n`,
  );
}

describe.runIf(run)('remediate on Graph (fake server)', () => {
  let s: StartedFake;
  let alice: FakeUser;
  let writeApp: { clientId: string; secret: string };
  beforeAll(async () => {
    s = await startFake({ latencyMs: 1 });
    alice = s.fake.addUser(`alice@${s.fake.tenant}`);
    const inbox = s.fake.folder(alice, 'Inbox');
    s.fake.addMessage(inbox, message('g1', `Patient SSN: ${SSNS[0]} for the claim.`));
    s.fake.addMessage(inbox, message('g2', 'Lunch on Friday?'));
    s.fake.addMessage(inbox, message('g3', `Member SSN ${SSNS[1]} on file.`));
    writeApp = s.fake.addWriteApp();
  });
  afterAll(async () => s?.fake.close());

  /** folder display name → sorted Message-IDs (live messages). */
  const contents = (): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const f of allFolders(alice.root)) {
      const ids = f.messages.filter((m) => m.deletedSeq === undefined).map((m) => m.internetMessageId ?? '');
      if (ids.length > 0) out[f.displayName] = ids.sort();
    }
    return out;
  };
  const writes = (): { method: string; url: string; status: number }[] =>
    s.fake.requests.filter((r) => r.method !== 'GET' && r.url.startsWith('/v1.0/') && !r.url.endsWith('$batch')).map((r) => ({ method: r.method, url: r.url, status: r.status }));

  it('move: a dry run writes nothing; --apply creates the folder and moves each message once through a 429; again: nothing; undo moves back', { timeout: 300_000 }, async () => {
    const state = tempDir();
    const spec = `graph://${s.fake.tenant}/alice@${s.fake.tenant}`;
    expect((await runCli(['scan', spec, '--format', 'jsonl'], { env: s.env({ PHI_SCAN_STATE: state }) })).code).toBe(1);
    const env = s.env({ PHI_SCAN_STATE: state, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID: writeApp.clientId, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET: writeApp.secret });
    const before = contents();

    // Without the remediation app's settings: a configuration error naming them.
    const noApp = await runCli(['remediate', '--action', 'move', '--apply', '--log', path.join(tempDir(), 'x.jsonl')], { env: s.env({ PHI_SCAN_STATE: state }) });
    expect(noApp.code).toBe(2);
    expect(noApp.stderr).toContain('PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID');
    // The scanning app (Mail.Read) given as the remediation app: Exchange refuses the writes.
    const readOnlyApp = await runCli(['remediate', '--action', 'move', '--apply', '--log', path.join(tempDir(), 'y.jsonl')], {
      env: s.env({ PHI_SCAN_STATE: state, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID: s.fake.clientId, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET: s.fake.secret }),
    });
    expect(readOnlyApp.code).toBe(3);
    expect(jsonLines(readOnlyApp.stdout).map((x) => x.status)).toEqual(['failed', 'failed']);
    expect(String(jsonLines(readOnlyApp.stdout)[0]?.reason)).toContain('403 ErrorAccessDenied');
    expect(contents()).toEqual(before);

    const dir = tempDir();
    const planFile = path.join(dir, 'plan.json');
    const mark = s.fake.requests.length;
    const dry = await runCli(['remediate', '--action', 'move', '--plan-out', planFile], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(jsonLines(dry.stdout).map((x) => x.status)).toEqual(['would-act', 'would-act']);
    expect(s.fake.requests.slice(mark).filter((r) => r.method !== 'GET' && !/oauth2/.test(r.url))).toEqual([]);

    const log = path.join(dir, 'audit.jsonl');
    s.fake.forceFault('429', /\/move$/, 1);
    const w0 = writes().length;
    const applied = await runCli(['remediate', '--plan', planFile, '--apply', '--log', log], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(jsonLines(applied.stdout).map((x) => x.status)).toEqual(['done', 'done']);
    const w = writes().slice(w0);
    expect(w.filter((r) => r.url.endsWith('/mailFolders')).map((r) => r.status)).toEqual([201]);
    // The throttled move waited and went again; each message moved exactly once.
    expect(w.filter((r) => r.url.endsWith('/move')).map((r) => r.status)).toEqual([429, 201, 201]);
    expect(contents()).toEqual({ Inbox: ['<g2@test.example>'], 'PHI-Quarantine': ['<g1@test.example>', '<g3@test.example>'] });
    const v = await verifyLog(log, parseEnvKey(TEST_KEY));
    expect(v.ok).toBe(true);
    for (const t of [readFileSync(log, 'utf8'), applied.stdout, applied.stderr, readFileSync(planFile, 'utf8')]) for (const ssn of SSNS) expect(t).not.toContain(ssn);

    const w1 = writes().length;
    const again = await runCli(['remediate', '--plan', planFile, '--apply', '--log', log], { env });
    expect(jsonLines(again.stdout).map((x) => x.status)).toEqual(['already-done', 'already-done']);
    // A new log knows nothing: the mailbox itself shows them moved.
    const fresh = await runCli(['remediate', '--plan', planFile, '--apply', '--log', path.join(dir, 'fresh.jsonl')], { env });
    expect(jsonLines(fresh.stdout).map((x) => x.status)).toEqual(['already-done', 'already-done']);
    expect(writes().length).toBe(w1);

    const undone = await runCli(['remediate', '--undo', log, '--apply'], { env });
    expect(undone.code, undone.stderr).toBe(0);
    expect(contents()).toEqual({ Inbox: ['<g1@test.example>', '<g2@test.example>', '<g3@test.example>'] });
  });

  it('delete: the message goes to Deleted Items (DELETE, 204), once; undo says a delete cannot be undone and changes nothing', { timeout: 240_000 }, async () => {
    const bob = s.fake.addUser(`bob@${s.fake.tenant}`);
    const inbox = s.fake.folder(bob, 'Inbox');
    s.fake.addMessage(inbox, message('d1', `Patient SSN: ${SSNS[0]} for the claim.`));
    s.fake.addMessage(inbox, message('d2', 'Lunch on Friday?'));
    const bobContents = (): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      for (const f of allFolders(bob.root)) {
        const ids = f.messages.filter((m) => m.deletedSeq === undefined).map((m) => m.internetMessageId ?? '');
        if (ids.length > 0) out[f.displayName] = ids.sort();
      }
      return out;
    };
    const state = tempDir();
    const spec = `graph://${s.fake.tenant}/bob@${s.fake.tenant}`;
    expect((await runCli(['scan', spec, '--format', 'jsonl'], { env: s.env({ PHI_SCAN_STATE: state }) })).code).toBe(1);
    const env = s.env({ PHI_SCAN_STATE: state, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID: writeApp.clientId, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET: writeApp.secret });
    const log = path.join(tempDir(), 'audit.jsonl');

    const w0 = writes().length;
    const deleted = await runCli(['remediate', '--action', 'delete', '--apply', '--log', log], { env });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(jsonLines(deleted.stdout).map((x) => [x.status, x.action, x.messageId])).toEqual([['done', 'delete', '<d1@test.example>']]);
    const w = writes().slice(w0);
    expect(w.map((r) => [r.method, r.status])).toEqual([['DELETE', 204]]);
    expect(w[0]?.url).toMatch(/^\/v1\.0\/users\/[^/]+\/messages\/[^/]+$/);
    // Exchange keeps a deleted message in Deleted Items (recoverable by the user, not by remediate).
    expect(bobContents()).toEqual({ Inbox: ['<d2@test.example>'], 'Deleted Items': ['<d1@test.example>'] });
    expect((await verifyLog(log, parseEnvKey(TEST_KEY))).ok).toBe(true);

    // Again with the same log: nothing new.
    const again = await runCli(['remediate', '--action', 'delete', '--apply', '--log', log], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout).map((x) => x.status)).toEqual(['already-done']);
    expect(writes().length).toBe(w0 + 1);

    // Undo: impossible, and said so; no write, exit 0 (skipped is not a failure).
    const undone = await runCli(['remediate', '--undo', log, '--apply'], { env });
    expect(undone.code, undone.stderr).toBe(0);
    expect(jsonLines(undone.stdout).map((x) => [x.action, x.status, x.reason])).toEqual([['undo-delete', 'skipped', 'a delete cannot be undone']]);
    expect(writes().length).toBe(w0 + 1);
    expect(bobContents()).toEqual({ Inbox: ['<d2@test.example>'], 'Deleted Items': ['<d1@test.example>'] });
    for (const t of [readFileSync(log, 'utf8'), deleted.stdout, deleted.stderr, again.stdout, undone.stdout, undone.stderr]) for (const ssn of SSNS) expect(t).not.toContain(ssn);
  });

  it('a move whose answer is lost with the connection (carried out by Exchange): looked for in the destination, logged done once, never moved twice; again: nothing', { timeout: 240_000 }, async () => {
    const carol = s.fake.addUser(`carol@${s.fake.tenant}`);
    const inbox = s.fake.folder(carol, 'Inbox');
    s.fake.addMessage(inbox, message('m1', `Patient SSN: ${SSNS[0]} for the claim.`));
    s.fake.addMessage(inbox, message('m2', `Member SSN ${SSNS[1]} on file.`));
    const live = (): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      for (const f of allFolders(carol.root)) {
        const ids = f.messages.filter((m) => m.deletedSeq === undefined).map((m) => m.internetMessageId ?? '');
        if (ids.length > 0) out[f.displayName] = ids.sort();
      }
      return out;
    };
    const state = tempDir();
    const spec = `graph://${s.fake.tenant}/carol@${s.fake.tenant}`;
    expect((await runCli(['scan', spec, '--format', 'jsonl'], { env: s.env({ PHI_SCAN_STATE: state }) })).code).toBe(1);
    const env = s.env({ PHI_SCAN_STATE: state, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID: writeApp.clientId, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET: writeApp.secret });
    const log = path.join(tempDir(), 'audit.jsonl');
    s.fake.forceFault('drop-after', /\/move$/, 1);
    const w0 = writes().length;
    const applied = await runCli(['remediate', '--action', 'move', '--apply', '--log', log], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(jsonLines(applied.stdout).map((x) => [x.messageId, x.status])).toEqual([
      ['<m1@test.example>', 'done'],
      ['<m2@test.example>', 'done'],
    ]);
    // The first move happened (its answer was lost) and was not sent again: two moves for two messages.
    expect(s.fake.requests.filter((r) => r.fault === 'drop-after').length).toBe(1);
    expect(writes().slice(w0).filter((r) => r.url.endsWith('/move')).length).toBe(2);
    expect(live()).toEqual({ 'PHI-Quarantine': ['<m1@test.example>', '<m2@test.example>'] });
    const v = await verifyLog(log, parseEnvKey(TEST_KEY));
    expect(v.ok).toBe(true);
    expect(v.openIntents).toEqual([]);
    expect(v.entries.filter((x) => x.event === 'done').map((x) => x.messageId)).toEqual(['<m1@test.example>', '<m2@test.example>']);
    const w1 = writes().length;
    const again = await runCli(['remediate', '--action', 'move', '--apply', '--log', log], { env });
    expect(jsonLines(again.stdout).map((x) => x.status)).toEqual(['already-done', 'already-done']);
    expect(writes().length).toBe(w1);
    // One request at a time per mailbox (the writes too): Exchange's concurrency limit never hit.
    expect(s.fake.concurrencyRejections).toBe(0);
  });

  it('re-verification: a message gone since the plan, and one edited so it no longer holds the plan\'s findings, are skipped and logged; nothing is written', { timeout: 240_000 }, async () => {
    const dave = s.fake.addUser(`dave@${s.fake.tenant}`);
    const inbox = s.fake.folder(dave, 'Inbox');
    const v1 = s.fake.addMessage(inbox, message('v1', `Patient SSN: ${SSNS[0]} for the claim.`));
    const v2 = s.fake.addMessage(inbox, message('v2', `Member SSN ${SSNS[1]} on file.`));
    const state = tempDir();
    const spec = `graph://${s.fake.tenant}/dave@${s.fake.tenant}`;
    expect((await runCli(['scan', spec, '--format', 'jsonl'], { env: s.env({ PHI_SCAN_STATE: state }) })).code).toBe(1);
    const env = s.env({ PHI_SCAN_STATE: state, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID: writeApp.clientId, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET: writeApp.secret });
    // After the plan's scan: v1 is purged, v2 edited in place (same id and Message-ID, no SSN left).
    s.fake.deleteMessage(inbox, v1.id);
    Object.assign(v2, { mime: message('v2', 'Member record on file (number removed).') });
    const log = path.join(tempDir(), 'audit.jsonl');
    const w0 = writes().length;
    const applied = await runCli(['remediate', '--action', 'move', '--apply', '--log', log], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(jsonLines(applied.stdout).map((x) => [x.messageId, x.status, String(x.reason)])).toEqual([
      ['<v1@test.example>', 'skipped', 'gone: no such message in the mailbox'],
      ['<v2@test.example>', 'skipped', "changed: 1 of the plan's 1 findings are no longer in the message"],
    ]);
    expect(writes().length).toBe(w0);
    const v = await verifyLog(log, parseEnvKey(TEST_KEY));
    expect(v.ok).toBe(true);
    expect(v.entries.filter((x) => x.event === 'skipped').map((x) => x.messageId)).toEqual(['<v1@test.example>', '<v2@test.example>']);
  });

  it('tag sets an Outlook category and undo removes it', { timeout: 240_000 }, async () => {
    const state = tempDir();
    const spec = `graph://${s.fake.tenant}/alice@${s.fake.tenant}`;
    expect((await runCli(['scan', spec, '--format', 'jsonl'], { env: s.env({ PHI_SCAN_STATE: state }) })).code).toBe(1);
    const env = s.env({ PHI_SCAN_STATE: state, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID: writeApp.clientId, PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET: writeApp.secret });
    const log = path.join(tempDir(), 'audit.jsonl');
    const tagged = await runCli(['remediate', '--action', 'tag', '--keyword', 'PHI-review', '--apply', '--log', log], { env });
    expect(tagged.code, tagged.stderr).toBe(0);
    const cats = (): Record<string, string[]> =>
      Object.fromEntries(s.fake.folder(alice, 'Inbox').messages.filter((m) => m.deletedSeq === undefined).map((m) => [m.internetMessageId ?? '', m.categories ?? []]));
    expect(cats()).toEqual({ '<g1@test.example>': ['PHI-review'], '<g2@test.example>': [], '<g3@test.example>': ['PHI-review'] });
    await runCli(['remediate', '--undo', log, '--apply'], { env });
    expect(cats()).toEqual({ '<g1@test.example>': [], '<g2@test.example>': [], '<g3@test.example>': [] });
  });
});
