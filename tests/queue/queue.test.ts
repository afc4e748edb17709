/**
 * Scale-out through BullMQ on a real Redis (started on loopback here): `scan --queue` with
 * worker processes (the real CLI) writes exactly what a one-process scan writes, whatever
 * happens to the workers or the coordinator; nothing raw passes through Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, runCli, tempDir, requireOrSkip, type CliResult, withoutRunTimes } from '../helpers/cli.js';
import { DEMO, leakNeedles } from '../helpers/demo.js';
import { stopChild } from '../helpers/processes.js';
import { redisServerBin, startRedis, type RedisServer } from '../helpers/redis.js';
import { acquireSlot, takeToken } from '../../src/queue/semaphore.js';

const FILES = 6;
const MESSAGES = 150;

/** Synthetic mbox: every 3rd message holds an SSN, every 5th a date of birth. */
function mboxText(prefix: string, from: number, count: number): string {
  const parts: string[] = [];
  for (let i = from; i < from + count; i++) {
    const lines = [`From sender@example.org Mon Mar  4 09:15:00 2024`, `Message-ID: <${prefix}${i}@queue.test>`, `Date: Mon, 4 Mar 2024 09:15:00 +0000`, `Subject: note ${i}`, ''];
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    if (i % 5 === 0) lines.push(`DOB: 03/${String(1 + (i % 28)).padStart(2, '0')}/19${50 + (i % 40)}`);
    for (let j = 0; j < 6; j++) lines.push('Routine scheduling text about the delivery window and the equipment order status.');
    parts.push(`${lines.join('\n')}\n\n`);
  }
  return parts.join('');
}

const present = redisServerBin() !== undefined;
const run = requireOrSkip('redis-server (apt-get install redis-server)', present);

interface Worker {
  readonly child: ChildProcess;
  log: string;
  readonly exited: Promise<number | null>;
}

describe.runIf(run)('scan --queue with worker processes', () => {
  let redis: RedisServer;
  let dir: string;
  const workers: Worker[] = [];
  const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY });

  const startWorker = (env: NodeJS.ProcessEnv = {}): Worker => {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--concurrency', '2'], {
      env: { ...baseEnv(), PHI_SCAN_STATE: tempDir('phi-wstate-'), PHI_SCAN_QUEUE_LOCK_MS: '3000', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const w: Worker = { child, log: '', exited: new Promise((r) => child.on('close', (code) => r(code))) };
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (w.log += d));
    workers.push(w);
    return w;
  };
  /** SIGTERM: a worker finishes what it holds and exits 0; the exit codes of the live ones. */
  const stopWorkers = async (): Promise<(number | null)[]> => {
    const codes: (number | null)[] = [];
    for (const w of workers.splice(0)) {
      const live = w.child.exitCode === null && w.child.signalCode === null;
      // SIGKILL after a grace period: a worker that does not stop must not outlive the test.
      const code = await stopChild(w.child);
      if (live) codes.push(code);
    }
    return codes;
  };
  const waitFor = async (what: () => boolean, ms = 30_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const sources = (): string[] => [`mbox:${path.join(dir, 'big')}`, `mbox:${path.join(DEMO, 'mbox')}`, `maildir:${path.join(DEMO, 'maildir')}`];
  const scan = (args: string[], state: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli(['scan', ...args, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state, ...env } });
  /** The one-process scan of sources(), made once. */
  let plainScan: Promise<CliResult> | undefined;
  const plainOnce = (): Promise<CliResult> => (plainScan ??= scan(sources(), tempDir()));
  const scanKeys = async (): Promise<string[]> => {
    const c = new Redis(redis.url);
    try {
      return await c.keys('phi-scan:scan:*');
    } finally {
      c.disconnect();
    }
  };

  beforeAll(async () => {
    redis = await startRedis();
    dir = tempDir('phi-queue-');
    mkdirSync(path.join(dir, 'big'));
    for (let f = 0; f < FILES; f++) writeFileSync(path.join(dir, 'big', `box-${f}.mbox`), mboxText(`f${f}-`, 0, MESSAGES));
  }, 60_000);
  afterAll(async () => {
    await stopWorkers();
    await redis?.stop();
  });

  it('three workers, one killed with SIGKILL mid-job: the same records as a one-process scan', { timeout: 60_000 }, async () => {
    const plain = await plainOnce();
    expect(plain.code).toBe(3); // the demo holds a corrupt message
    // Slow workers (10 ms a message), so a job lasts long enough to be killed in the middle.
    const slow = { PHI_SCAN_QUEUE_TEST_DELAY_MS: '10' };
    const victim = startWorker(slow);
    startWorker(slow);
    startWorker(slow);
    const queued = scan([...sources(), '--queue', redis.url], tempDir());
    // Killed right after its first result batch reached Redis: that attempt's partial results
    // are there, and must not count.
    await waitFor(() => victim.log.includes('first results written'));
    const killedJob = /job (\S+) first results written/.exec(victim.log)?.[1] as string;
    victim.child.kill('SIGKILL');
    const result = await queued;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(plain.code);
    expect(withoutRunTimes(result.stdout)).toBe(withoutRunTimes(plain.stdout));
    expect(jsonLines(result.stdout).filter((r) => r.type === 'message').length).toBeGreaterThan(100);
    // The killed worker's job was taken again (stalled) and finished by another worker.
    expect(workers.slice(1).some((w) => w.log.includes(`job ${killedJob} done`))).toBe(true);
    expect(victim.log).not.toContain(`job ${killedJob} done`);
    // Everything of the scan is deleted from Redis once written.
    expect(await scanKeys()).toEqual([]);
    expect(await stopWorkers()).toEqual([0, 0]);
  });

  it('a job that keeps failing ends as a job-failed error record, after its retries', { timeout: 40_000 }, async () => {
    const w = startWorker({ PHI_SCAN_QUEUE_TEST_FAIL: 'box-2.mbox' });
    const result = await scan([...sources(), '--queue', redis.url], tempDir(), { PHI_SCAN_QUEUE_ATTEMPTS: '3', PHI_SCAN_QUEUE_BACKOFF_MS: '100' });
    expect(result.code).toBe(3);
    const records = jsonLines(result.stdout);
    const failed = records.filter((r) => r.code === 'job-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ type: 'error', mailbox: 'box-2', folder: 'INBOX' });
    expect(String(failed[0]?.error)).toMatch(/failed 3 times/);
    // Every other unit is there in full; box-2 counts its error and no message.
    expect(records.find((r) => r.type === 'mailbox' && r.mailbox === 'box-2')).toMatchObject({ messages: 0, errors: 1 });
    expect(records.find((r) => r.type === 'mailbox' && r.mailbox === 'box-3')).toMatchObject({ messages: MESSAGES, errors: 0 });
    expect((w.log.match(/job \S+ failed \(attempt/g) ?? []).length).toBe(3);
    await stopWorkers();
  });

  it('the coordinator killed and started again finishes the scan with the same records, also after it deleted written results; nothing raw in Redis', { timeout: 60_000 }, async () => {
    const plain = await plainOnce();
    const state = tempDir();
    const out = path.join(state, 'out.jsonl');
    const args = ['scan', ...sources(), '--queue', redis.url, '--format', 'jsonl', '--out', out];
    startWorker({ PHI_SCAN_QUEUE_TEST_DELAY_MS: '5' });
    const first = spawn(process.execPath, [CLI, ...args], { env: { ...baseEnv(), PHI_SCAN_STATE: state }, stdio: 'ignore' });
    const c = new Redis(redis.url);
    const dump: string[] = [];
    try {
      // Killed once it has written a job's results (and deleted them) while later results wait in Redis.
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error('timed out');
        const keys = await c.keys('phi-scan:scan:*');
        const consumed = keys.find((k) => k.endsWith(':consumed'));
        if (consumed && Number(await c.get(consumed)) >= 1 && keys.some((k) => k.includes(':r:'))) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await stopChild(first, 'SIGKILL'); // also when waiting failed: it would wait on its queue forever
    }
    // Results of the jobs done so far wait in Redis: masked values and fingerprints only.
    for (const key of await c.keys('*')) {
      const type = await c.type(key);
      if (type === 'string') dump.push((await c.get(key)) ?? '');
      else if (type === 'list') dump.push(...(await c.lrange(key, 0, -1)));
      else if (type === 'hash') dump.push(...Object.values(await c.hgetall(key)));
    }
    c.disconnect();
    // (result batches: findings packed against a string table, src/queue/protocol.ts writeBatch)
    expect(dump.some((d) => d.startsWith('{"strings":[') && d.includes('"type":"message"'))).toBe(true);
    const ssns = Array.from({ length: MESSAGES }, (_, i) => i)
      .filter((i) => i % 3 === 0)
      .map((i) => `${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    for (const needle of [...leakNeedles(), ...ssns, ...ssns.map((s) => s.replace(/-/g, ''))]) expect(dump.join('\n')).not.toContain(needle);
    expect(dump.join('\n')).not.toContain('Routine scheduling text');

    const again = await runCli(args, { env: { PHI_SCAN_STATE: state } });
    expect(again.code).toBe(plain.code);
    expect(withoutRunTimes(readFileSync(out, 'utf8'))).toBe(withoutRunTimes(plain.stdout));
    expect(await scanKeys()).toEqual([]);
    // Neither coordinator's jobs are left (the killed one's, the ones run again).
    const left = new Redis(redis.url);
    expect((await left.keys('bull:phi-scan:*')).filter((k) => /^bull:phi-scan:[0-9a-f]{16}-\d+(?:-r\d+)?$/.test(k))).toEqual([]);
    left.disconnect();
    await stopWorkers();
  });

  it('PHI_SCAN_QUEUE_REDIS_MB=0: one job in Redis at a time, its results deleted once written; the same records', { timeout: 60_000 }, async () => {
    const plain = await plainOnce();
    startWorker();
    startWorker();
    const c = new Redis(redis.url);
    let most = { jobs: 0, results: 0 };
    let done = false;
    const before = new Set(await c.keys('*')); // (other tests' scans share this Redis)
    const sampling = (async () => {
      while (!done) {
        const keys = (await c.keys('*')).filter((k) => !before.has(k));
        const jobs = keys.filter((k) => /^bull:phi-scan:[0-9a-f]{16}-\d+(?:-r\d+)?$/.test(k)).length;
        const results = keys.filter((k) => /^phi-scan:scan:[0-9a-f]{16}:r:/.test(k)).length;
        most = { jobs: Math.max(most.jobs, jobs), results: Math.max(most.results, results) };
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const queued = await scan([...sources(), '--queue', redis.url], tempDir(), { PHI_SCAN_QUEUE_REDIS_MB: '0' });
    done = true;
    await sampling;
    c.disconnect();
    expect(queued.code).toBe(plain.code);
    expect(withoutRunTimes(queued.stdout)).toBe(withoutRunTimes(plain.stdout));
    // Two workers could take 8 jobs at once; the budget hands out the next one only.
    expect(most.jobs).toBe(1);
    expect(most.results).toBe(1);
    expect(await scanKeys()).toEqual([]);
    await stopWorkers();
  });

  it('--since-last with workers: the same records and state picture as without', { timeout: 60_000 }, async () => {
    const copy = tempDir('phi-queue-sl-');
    for (const f of ['box-0.mbox', 'box-1.mbox']) cpSync(path.join(dir, 'big', f), path.join(copy, f));
    const src = [`mbox:${copy}`];
    const plainState = tempDir();
    const queueState = tempDir();
    startWorker();
    const p1 = await scan([...src, '--since-last'], plainState);
    const q1 = await scan([...src, '--since-last', '--queue', redis.url], queueState);
    expect(withoutRunTimes(q1.stdout)).toBe(withoutRunTimes(p1.stdout));
    appendFileSync(path.join(copy, 'box-1.mbox'), mboxText('f1-new-', 0, 10));
    const p2 = await scan([...src, '--since-last'], plainState);
    const q2 = await scan([...src, '--since-last', '--queue', redis.url], queueState);
    expect(withoutRunTimes(q2.stdout)).toBe(withoutRunTimes(p2.stdout));
    expect(jsonLines(q2.stdout).find((r) => r.type === 'mailbox' && r.mailbox === 'box-1')).toMatchObject({ messages: 10 });
    const reportPlain = await runCli(['report', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: plainState } });
    const reportQueue = await runCli(['report', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: queueState } });
    expect(reportQueue.stdout).toBe(reportPlain.stdout);
    await stopWorkers();
  });

  it('a worker with another fingerprint key refuses the job (exit 2) and leaves it for a fitting worker', { timeout: 40_000 }, async () => {
    const wrong = startWorker({ PHI_SCAN_KEY: 'another-key-0123456789abcdef-xyz' });
    const queued = scan([`mbox:${path.join(DEMO, 'mbox')}`, '--queue', redis.url], tempDir());
    expect(await wrong.exited).toBe(2);
    expect(wrong.log).toMatch(/fingerprint key differs/);
    startWorker();
    const plain = await scan([`mbox:${path.join(DEMO, 'mbox')}`], tempDir());
    const result = await queued;
    expect(withoutRunTimes(result.stdout)).toBe(withoutRunTimes(plain.stdout));
    await stopWorkers();
  });

  it('limits across workers: a host slot cap and a tenant request rate hold in Redis', { timeout: 20_000 }, async () => {
    const a = new Redis(redis.url, { maxRetriesPerRequest: null });
    const b = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      // Two connections stand for two workers: a cap of 2 lets two in, the third waits for a release.
      const s1 = await acquireSlot(a, 'phi-scan:limit:test-host', 2);
      const s2 = await acquireSlot(b, 'phi-scan:limit:test-host', 2);
      let third = false;
      const waiting = acquireSlot(a, 'phi-scan:limit:test-host', 2).then((s) => ((third = true), s));
      await new Promise((r) => setTimeout(r, 700));
      expect(third).toBe(false);
      await s1.release();
      const s3 = await waiting;
      expect(third).toBe(true);
      await s2.release();
      await s3.release();
      // 10 requests a second with a burst of 5, taken by two clients: 25 tokens need ≥ 2 s.
      const started = Date.now();
      await Promise.all([a, b].map(async (c) => {
        for (let i = 0; i < 12 + (c === a ? 1 : 0); i++) await takeToken(c, 'phi-scan:limit:test-rate', 10, 5);
      }));
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(6000);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('refuses a malformed --queue URL without printing it', async () => {
    const r = await runCli(['scan', `mbox:${path.join(DEMO, 'mbox')}`, '--queue', 'http://user:s3cret@host/'], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--queue: must be redis:/);
    expect(r.stderr).not.toContain('s3cret');
  });
});
