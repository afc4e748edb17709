/**
 * Scale-out with an IMAP source: a real Dovecot and a real Redis on loopback. Workers read the
 * folders with their own credentials; the coordinator's records, and the IMAP checkpoints
 * (UIDVALIDITY:UID) that flow back for --since-last, equal a one-process scan's; so do the
 * UIDs still present that mark an expunged message gone.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, requireOrSkip, runCli, tempDir, withoutRunTimes } from '../helpers/cli.js';
import { demoFolders } from '../helpers/demo.js';
import { adminClient, appendAll, dovecotInstalled, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { stopChild } from '../helpers/processes.js';
import { redisServerBin, startRedis, type RedisServer } from '../helpers/redis.js';

const USERS = { intake: 'intakepw', billing: 'billingpw' } as const;


const run = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled()) && requireOrSkip('redis-server (apt-get install redis-server)', redisServerBin() !== undefined);

describe.runIf(run)('scan --queue of IMAP accounts', () => {
  let server: Dovecot;
  let redis: RedisServer;
  beforeAll(async () => {
    [server, redis] = await Promise.all([startDovecot(USERS), startRedis()]);
    for (const user of Object.keys(USERS) as (keyof typeof USERS)[]) await appendAll(server, user, USERS[user], demoFolders(user));
  }, 60_000);
  afterAll(async () => {
    // Under a loaded machine Dovecot's children may still be writing when its folder is removed: once more.
    const stopDovecot = async (): Promise<void> => {
      await server?.stop().catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
        await server.stop();
      });
    };
    await Promise.all([stopDovecot(), redis?.stop()]);
  });

  it('the same records and checkpoints as a one-process scan, also with --since-last', { timeout: 180_000 }, async () => {
    const accounts = path.join(tempDir(), 'accounts.csv');
    writeFileSync(accounts, 'user,passwordEnv\nintake,PW_INTAKE\nbilling,PW_BILLING\n');
    const env = { PHI_SCAN_IMAP_CA: server.caFile, PW_INTAKE: USERS.intake, PW_BILLING: USERS.billing };
    // Credentials on the worker too: it reads the folders.
    const worker = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--concurrency', '2'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir(), ...env },
      stdio: 'ignore',
    });
    try {
      const source = [`imaps://127.0.0.1:${server.tlsPort}`, '--accounts', accounts, '--since-last', '--format', 'jsonl'];
      const plainState = tempDir();
      const queueState = tempDir();
      const p1 = await runCli(['scan', ...source], { env: { ...env, PHI_SCAN_STATE: plainState } });
      const q1 = await runCli(['scan', ...source, '--queue', redis.url], { env: { ...env, PHI_SCAN_STATE: queueState } });
      expect(q1.stderr).toBe('');
      expect(withoutRunTimes(q1.stdout)).toBe(withoutRunTimes(p1.stdout));
      expect(jsonLines(q1.stdout).filter((r) => r.type === 'mailbox').length).toBe(2);
      // A new message: both resume after their checkpoints and see only it.
      const fresh = Buffer.from('From: a@example.org\r\nTo: b@example.org\r\nSubject: new\r\nMessage-ID: <new-1@queue.test>\r\n\r\nPatient SSN: 219-09-9999 for the claim.\r\n');
      await appendAll(server, 'billing', USERS.billing, { INBOX: [fresh] });
      // And a message holding PHI expunged (test-side client): both mark it gone from the UIDs the workers report.
      const phi = jsonLines(p1.stdout).find((r) => r.type === 'message' && r.mailbox === 'billing' && r.folder === 'INBOX');
      expect(phi?.messageId).toBeTruthy();
      const admin = await adminClient(server, 'billing', USERS.billing);
      try {
        await admin.mailboxOpen('INBOX');
        const uids: number[] = [];
        for await (const m of admin.fetch('1:*', { uid: true, envelope: true }, { uid: true })) if (m.envelope?.messageId === phi?.messageId) uids.push(m.uid);
        expect(uids).toHaveLength(1);
        await admin.messageDelete(uids, { uid: true });
      } finally {
        await admin.logout();
      }
      const p2 = await runCli(['scan', ...source], { env: { ...env, PHI_SCAN_STATE: plainState } });
      const q2 = await runCli(['scan', ...source, '--queue', redis.url], { env: { ...env, PHI_SCAN_STATE: queueState } });
      expect(withoutRunTimes(q2.stdout)).toBe(withoutRunTimes(p2.stdout));
      expect(jsonLines(q2.stdout).filter((r) => r.type === 'mailbox').map((r) => [r.mailbox, r.messages])).toEqual([
        ['intake', 0],
        ['billing', 1],
      ]);
      const resolved = async (state: string): Promise<unknown[]> =>
        jsonLines((await runCli(['diff', '1', '2', '--format', 'jsonl'], { env: { ...env, PHI_SCAN_STATE: state } })).stdout)
          .filter((r) => r.type === 'resolved')
          .map((r) => [r.messageId, r.gone]);
      const gone = await resolved(plainState);
      expect(gone).toEqual([[phi?.messageId, true]]);
      expect(await resolved(queueState)).toEqual(gone);
    } finally {
      await stopChild(worker);
    }
  });
});
