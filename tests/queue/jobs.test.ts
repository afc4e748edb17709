/**
 * Queue jobs carry the scan's settings (src/pipeline/settings.ts JobSettingsSchema: ScanSettings
 * without the per-process keys), and a worker parses them with the same strict schema and makes
 * its message scanner as a one-process scan does (pipeline/run.ts messageScanner). So a setting
 * reaches the workers without a line in src/queue/, and a job that is not of this version's shape
 * is refused as an error record, never a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dns from 'node:dns';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, runCli, tempDir, requireOrSkip, withoutRunTimes, type CliResult } from '../helpers/cli.js';
import { redisServerBin, startRedis, type RedisServer } from '../helpers/redis.js';
import { built, threadsNow } from '../helpers/built.js';
import { JobSettingsSchema, PER_PROCESS, ScanSettingsSchema, jobSettingsOf } from '../../src/pipeline/settings.js';
import { parseJob } from '../../src/queue/protocol.js';

const SSNS = ['514-14-8905', '489-36-8350', '536-90-4399'];

/** An mbox of `ids`; a message whose id is `hang` never finishes scanning in a worker thread (test hook). */
function mbox(dir: string, name: string, ids: readonly string[]): string {
  const file = path.join(dir, `${name}.mbox`);
  const text = ids.map((id, i) =>
    [
      'From intake@example.org Mon Jan  8 09:00:00 2024',
      'From: intake@example.org',
      `Subject: referral ${i}`,
      'Date: Mon, 08 Jan 2024 09:00:00 +0000',
      `Message-ID: <${id}@example.org>`,
      ...(id === 'hang' ? ['X-Phi-Scan-Test-Hook: hang'] : []),
      '',
      `Patient SSN: ${SSNS[i % SSNS.length]}`,
      '',
    ].join('\n'),
  );
  writeFileSync(file, `${text.join('\n')}\n`);
  return file;
}

const validJob = (settings: Record<string, unknown> = {}): Record<string, unknown> => ({
  scanId: '0123456789abcdef',
  keyId: 'k',
  rulesDigest: 'r',
  spec: 'mbox:/x.mbox',
  settings: { ...jobSettingsOf(ScanSettingsSchema.parse({ sources: ['mbox:/x.mbox'] })), ...settings },
  units: [{ unit: { id: 'h:00', source: 'mbox:/x.mbox', mailbox: 'x', folder: 'INBOX', ref: '/x.mbox' } }],
});

describe('job settings: the scan settings minus the per-process ones, one schema', () => {
  it('every ScanSettings key but the per-process ones travels in a job', () => {
    const all = Object.keys(ScanSettingsSchema.shape);
    expect(Object.keys(JobSettingsSchema.shape).sort()).toEqual(all.filter((k) => !(k in PER_PROCESS)).sort());
    // Paths of the coordinator's outputs and state never go to Redis.
    for (const k of ['out', 'outputs', 'state', 'ignoreFile', 'rules', 'sources']) expect(JobSettingsSchema.shape).not.toHaveProperty(k);
    const settings = ScanSettingsSchema.parse({ sources: ['mbox:/x'], out: '/reports/r.html', format: 'html', maxOcrPages: 3, ocr: false, threads: 1, messageTimeout: 2, imap: { connectionsPerHost: 2 } });
    const job = jobSettingsOf(settings);
    expect(job).toMatchObject({ maxOcrPages: 3, ocr: false, threads: 1, messageTimeout: 2, imap: { connectionsPerHost: 2 } });
    expect(job).not.toHaveProperty('out');
    expect(JobSettingsSchema.parse(JSON.parse(JSON.stringify(job)))).toEqual(job);
  });

  it.each([
    ['an unknown settings key', { settings: { shredAfterScan: true } }, /settings: unrecognized keys \(shredAfterScan\)/],
    ['an invalid setting', { settings: { minConfidence: 'extreme' } }, /settings\.minConfidence: invalid value/],
    ['a per-process key', { settings: { out: '/tmp/x' } }, /settings: unrecognized keys \(out\)/],
    ['an unknown job key', { priority: 1 }, /the job: unrecognized keys \(priority\)/],
    ['a roster path without its digest', { settings: { edm: '/r.edm' } }, /edmDigest: custom/],
  ])('%s is refused with a typed reason (key paths, no value)', (_name, change, why) => {
    const base = validJob();
    const data = { ...base, ...change, settings: { ...(base.settings as object), ...((change as { settings?: object }).settings ?? {}) } };
    const result = parseJob(data);
    expect('refused' in result && result.refused).toMatchObject({ code: 'job-invalid', message: expect.stringMatching(why) });
    if ('refused' in result) expect(result.refused.message).not.toContain('extreme');
  });

  it('a job of this version is accepted as it was made', () => {
    const result = parseJob(JSON.parse(JSON.stringify(validJob({ maxOcrPages: 4 }))));
    expect('job' in result && result.job.settings.maxOcrPages).toBe(4);
  });
});

const run = requireOrSkip('redis-server (apt-get install redis-server)', redisServerBin() !== undefined);

describe.runIf(run)('workers scan with the job settings, as one process does', () => {
  let redis: RedisServer;
  const children: ChildProcess[] = [];
  const env = (more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, ...more });
  const startWorker = (more: NodeJS.ProcessEnv = {}): { child: ChildProcess; log: () => string } => {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url], { env: env({ PHI_SCAN_STATE: tempDir('phi-wstate-'), PHI_SCAN_QUEUE_LOCK_MS: '3000', ...more }), stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    children.push(child);
    return { child, log: () => log };
  };
  const stop = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await closed;
  };

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    for (const c of children) await stop(c);
    await redis?.stop();
  });

  it('--threads and --message-timeout (not in jobs before) change a worker\'s result as a one-process scan\'s: the hung message is a timeout record', { timeout: 90_000 }, async () => {
    const dir = tempDir('phi-jobs-');
    const source = `mbox:${mbox(dir, 'intake', ['ok-1', 'hang', 'ok-2'])}`;
    const hooks = { PHI_SCAN_TEST_HOOKS: '1' };
    const args = ['scan', source, '--format', 'jsonl', '--threads', '1', '--message-timeout', '2'];
    const plain = await runCli(args, { env: hooks });
    expect(plain.code).toBe(3);
    const timeout = jsonLines(plain.stdout).filter((r) => r.code === 'timeout');
    expect(timeout).toEqual([expect.objectContaining({ messageId: '<hang@example.org>', error: expect.stringMatching(/still scanning after 2 s/) })]);

    const w = startWorker(hooks);
    const queued: CliResult = await runCli([...args, '--queue', redis.url], { env: hooks });
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(plain.code);
    expect(withoutRunTimes(queued.stdout)).toBe(withoutRunTimes(plain.stdout));
    await stop(w.child);
  });

  it('the coordinator scans no message itself: it starts no worker thread, whatever --threads says (the workers do)', { timeout: 90_000 }, async () => {
    // The built session in this process, so that its threads can be counted (/proc/self/task).
    const { runScanSession } = await built<typeof import('../../src/index.js')>('index.js');
    const dir = tempDir();
    const file = mbox(dir, 'alpha', ['a1', 'a2', 'a3']);
    // libuv's pool starts its threads on first use: used before counting, so they are not counted.
    await Promise.all([readFile(file), new Promise((r) => dns.lookup('localhost', r))]);
    const before = threadsNow();
    let most = before;
    const sample = setInterval(() => (most = Math.max(most, threadsNow())), 5);
    const w = startWorker();
    try {
      const code = await runScanSession(
        { sources: [`mbox:${file}`], queue: redis.url, threads: 3, format: 'jsonl', progress: false },
        { stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), env: env({ PHI_SCAN_STATE: tempDir('phi-state-') }) },
      );
      expect(code).toBe(1);
    } finally {
      clearInterval(sample);
      await stop(w.child);
    }
    // With --threads N the state store writes from a thread of its own (pipeline/scanner.ts
    // storeThread): that one, and none of the N threads that would scan messages here.
    expect(most - before).toBeLessThanOrEqual(1);
  });

  it('a job altered in Redis (an unknown key, an invalid value) is refused: a job-failed record naming the key; the worker runs on', { timeout: 90_000 }, async () => {
    const dir = tempDir('phi-jobs-bad-');
    const sources = [`mbox:${mbox(dir, 'alpha', ['a-1', 'a-2'])}`, `mbox:${mbox(dir, 'beta', ['b-1'])}`];
    const state = tempDir('phi-state-');
    // The coordinator queues its two jobs while no worker runs; they are altered before one does.
    const coordinator = spawn(process.execPath, [CLI, 'scan', ...sources, '--queue', redis.url, '--format', 'jsonl'], { env: env({ PHI_SCAN_STATE: state }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    coordinator.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((r) => coordinator.on('close', r));
    const c = new Redis(redis.url);
    let jobs: string[] = [];
    try {
      for (let i = 0; jobs.length < 2; i++) {
        if (i > 600) throw new Error('no jobs queued');
        await new Promise((r) => setTimeout(r, 100));
        jobs = (await c.keys('bull:phi-scan:*')).filter((k) => /:[0-9a-f]{16}-\d+$/.test(k)).sort();
      }
      const alter = async (key: string, change: (settings: Record<string, unknown>) => void): Promise<void> => {
        const data = JSON.parse((await c.hget(key, 'data')) as string) as { settings: Record<string, unknown> };
        change(data.settings);
        await c.hset(key, 'data', JSON.stringify(data));
      };
      await alter(jobs[0] as string, (s) => (s.shredAfterScan = true));
      await alter(jobs[1] as string, (s) => (s.maxDepth = -1));
    } finally {
      c.disconnect();
    }
    const w = startWorker();
    expect(await exited).toBe(3);
    const failed = jsonLines(stdout).filter((r) => r.type === 'error');
    expect(failed.map((r) => [r.code, r.mailbox])).toEqual([
      ['job-failed', 'alpha'],
      ['job-failed', 'beta'],
    ]);
    expect(String(failed[0]?.error)).toMatch(/failed 1 times \(last: job-invalid: not a job of this phi-scan version: settings: unrecognized keys \(shredAfterScan\)\)/);
    expect(String(failed[1]?.error)).toMatch(/job-invalid: .*settings\.maxDepth: too small/);
    expect(jsonLines(stdout).filter((r) => r.type === 'message')).toEqual([]);
    expect(w.log()).toMatch(/refusing job \S+: job-invalid/);

    // The worker is still there and scans the next (unaltered) scan as one process does.
    expect(w.child.exitCode).toBeNull();
    const again = await runCli(['scan', ...sources, '--queue', redis.url, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir('phi-state-') } });
    const plain = await runCli(['scan', ...sources, '--format', 'jsonl']);
    expect(again.code).toBe(1);
    expect(withoutRunTimes(again.stdout)).toBe(withoutRunTimes(plain.stdout));
    await stop(w.child);
  });
});
