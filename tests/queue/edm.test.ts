/**
 * `scan --edm FILE --queue`: workers (the real CLI, on a real Redis on loopback) load the roster
 * from the path the job names, checked against the coordinator's keyed digest, and scan with it
 * exactly as a one-process scan does; a worker that cannot read the roster, or holds another one,
 * gives a job-failed error record instead of findings made without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePeopleCorpus, type PeopleCorpus } from '../../fixtures/people.js';
import { CLI, TEST_KEY, jsonLines, runCli, tempDir, requireOrSkip, type CliResult } from '../helpers/cli.js';
import { stopChild } from '../helpers/processes.js';
import { redisServerBin, startRedis, type RedisServer } from '../helpers/redis.js';

const MAILBOXES = ['billing', 'intake', 'dispatch', 'nurse', 'ceo'];
const COLUMNS = 'ssn,mbi,member_id,last_name,first_name,dob';

const present = redisServerBin() !== undefined;
const run = requireOrSkip('redis-server (apt-get install redis-server)', present);

interface Worker {
  readonly child: ChildProcess;
  log: string;
  readonly exited: Promise<number | null>;
}

/** Finding records as sorted JSON lines: the same set whatever order the workers ran in. */
const findingSet = (stdout: string): string[] =>
  jsonLines(stdout)
    .filter((r) => r.type === 'finding')
    .map((r) => JSON.stringify(r))
    .sort();

describe.runIf(run)('scan --edm --queue with worker processes', () => {
  let redis: RedisServer;
  let dir: string;
  let corpus: PeopleCorpus;
  let edm: string;
  const workers: Worker[] = [];
  const sources = (names = MAILBOXES): string[] => names.map((m) => `mbox:${path.join(dir, 'mail', `${m}.mbox`)}`);

  const startWorker = (): Worker => {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--concurrency', '2'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-wstate-'), PHI_SCAN_QUEUE_LOCK_MS: '3000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const w: Worker = { child, log: '', exited: new Promise((r) => child.on('close', (code) => r(code))) };
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (w.log += d));
    workers.push(w);
    return w;
  };
  const stopWorkers = async (): Promise<void> => {
    // SIGKILL after a grace period: a worker that does not stop must not outlive the test.
    for (const w of workers.splice(0)) await stopChild(w.child);
  };
  const scan = (args: string[], state: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli(['scan', ...args, '--format', 'jsonl', '--threads', '0'], { env: { PHI_SCAN_STATE: state, ...env } });
  const peopleFigures = async (state: string): Promise<unknown> => {
    const r = await runCli(['report', '--format', 'json'], { env: { PHI_SCAN_STATE: state } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { totals: Record<string, unknown>; mailboxes: Record<string, unknown>[] };
    const { individuals, estimatedIndividuals, people, overThreshold, explanation } = report.totals;
    return {
      totals: { individuals, estimatedIndividuals, people, overThreshold, explanation },
      mailboxes: report.mailboxes.map((m) => ({ mailbox: m.mailbox, individuals: m.individuals, people: m.people })).sort((a, b) => String(a.mailbox).localeCompare(String(b.mailbox))),
    };
  };
  /** Waits until the coordinator has queued its jobs (it has read the roster by then). */
  const jobsQueued = async (): Promise<void> => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue('phi-scan', { connection: c });
    try {
      const deadline = Date.now() + 30_000;
      while ((await queue.getWaitingCount()) === 0) {
        if (Date.now() > deadline) throw new Error('no job was queued');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await queue.close();
      c.disconnect();
    }
  };

  beforeAll(async () => {
    redis = await startRedis();
    dir = tempDir('phi-queue-edm-');
    corpus = generatePeopleCorpus(dir);
    edm = path.join(dir, 'roster.edm');
    const built = await runCli(['edm', 'build', path.join(dir, 'roster.csv'), '--columns', COLUMNS, '--out', edm]);
    expect(built.code, built.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await stopWorkers();
    await redis?.stop();
  });

  it('a queued scan with --edm gives the one-process scan\'s findings and people figures', { timeout: 120_000 }, async () => {
    const plainState = tempDir();
    const plain = await scan([...sources(), '--edm', edm], plainState);
    expect([0, 1], plain.stderr).toContain(plain.code);
    startWorker();
    startWorker();
    const queueState = tempDir();
    const queued = await scan([...sources(), '--edm', edm, '--queue', redis.url], queueState);
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(plain.code);
    const findings = findingSet(queued.stdout);
    expect(findings).toEqual(findingSet(plain.stdout));
    // The roster was used by the workers: findings name their roster rows, bare roster SSNs are found.
    const records = findings.map((f) => JSON.parse(f) as { rule: string; rosterRow?: number });
    expect(records.filter((f) => f.rule === 'edm-ssn').length).toBeGreaterThan(0);
    expect(records.filter((f) => f.rosterRow !== undefined).length).toBeGreaterThan(records.length / 2);
    // Every message is there once.
    const messages = (stdout: string): number => jsonLines(stdout).filter((r) => r.type === 'message').length;
    expect(messages(queued.stdout)).toBe(messages(plain.stdout));
    // People counted by roster row, the same way.
    const figures = await peopleFigures(queueState);
    expect(figures).toEqual(await peopleFigures(plainState));
    const totals = (figures as { totals: { individuals: number; people: { roster: number } } }).totals;
    expect(totals.people.roster).toBe(totals.individuals);
    expect(Math.abs(totals.individuals - corpus.truth.tenant)).toBeLessThanOrEqual(0.005 * corpus.truth.tenant);
    // Each worker loaded the roster once, however many of the five jobs it ran.
    const loads = workers.map((w) => (w.log.match(/roster loaded/g) ?? []).length);
    const jobs = workers.map((w) => (w.log.match(/ done: /g) ?? []).length);
    expect(jobs.reduce((a, b) => a + b, 0)).toBe(MAILBOXES.length);
    expect(loads).toEqual(jobs.map((n) => (n > 0 ? 1 : 0)));
    // No roster value in the output or the workers' logs (the roster never goes through Redis).
    const seen = [queued.stdout, queued.stderr, ...workers.map((w) => w.log)].join('\n');
    for (const p of corpus.patients) {
      for (const value of [p.ssn, p.ssn.replace(/-/g, ''), p.mbi, p.memberId]) expect(seen).not.toContain(value);
    }
    await stopWorkers();
  });

  it('a worker that cannot read the roster, or holds another one, gives job-failed error records, not findings without it', { timeout: 120_000 }, async () => {
    const small = sources(['nurse', 'dispatch']);
    const env = { PHI_SCAN_QUEUE_ATTEMPTS: '2', PHI_SCAN_QUEUE_BACKOFF_MS: '100' };
    // The same key, another roster (its first lines only): it loads, but is not the coordinator's.
    const csv = path.join(dir, 'other.csv');
    writeFileSync(csv, `${readFileSync(path.join(dir, 'roster.csv'), 'utf8').split('\n').slice(0, 20).join('\n')}\n`);
    const built = await runCli(['edm', 'build', csv, '--columns', COLUMNS, '--out', path.join(dir, 'other.edm')]);
    expect(built.code, built.stderr).toBe(0);
    for (const [what, spoil, reason] of [
      ['missing', (file: string) => rmSync(file), /cannot be read on this worker \(ENOENT\)/],
      ['another roster', (file: string) => copyFileSync(path.join(dir, 'other.edm'), file), /differs from the coordinator's/],
    ] as const) {
      const file = path.join(tempDir('phi-roster-'), 'roster.edm');
      copyFileSync(edm, file);
      // The coordinator reads the roster and queues its jobs; then the worker's copy goes wrong.
      const queued = scan([...small, '--edm', file, '--queue', redis.url], tempDir(), env);
      await jobsQueued();
      spoil(file);
      const w = startWorker();
      const result = await queued;
      expect(result.code, what).toBe(3);
      const records = jsonLines(result.stdout);
      expect(records.filter((r) => r.type === 'finding'), what).toEqual([]);
      expect(records.filter((r) => r.type === 'message'), what).toEqual([]);
      const failed = records.filter((r) => r.code === 'job-failed');
      expect(failed.map((r) => r.mailbox).sort(), what).toEqual(['dispatch', 'nurse']);
      for (const r of failed) expect(String(r.error), what).toMatch(reason);
      for (const r of failed) expect(String(r.error), what).not.toContain(file);
      expect(w.log, what).toMatch(reason);
      await stopWorkers();
    }
  });
});
