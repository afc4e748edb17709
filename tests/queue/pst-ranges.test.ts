/**
 * One large PST spread over queue workers (sources/pst.ts ranges): `scan --queue` with two
 * workers writes the same records as a one-process scan that reads the file as one unit, and
 * each worker expands the file once for all the ranges it reads. readpst is replaced by a
 * stand-in expanding into a synthetic many-folder tree (tests/sources/pst-fake.ts): nothing here
 * writes PST files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, TEST_KEY, jsonLines, requireOrSkip, runCli, tempDir, withoutRunTimes } from '../helpers/cli.js';
import { redisServerBin, startRedis, type RedisServer } from '../helpers/redis.js';
import { countRuns, writeFakeReadpst, writeTree } from '../sources/pst-fake.js';

const run = requireOrSkip('redis-server (apt-get install redis-server)', redisServerBin() !== undefined);

describe.runIf(run)('one PST over many queue workers (ranges of its items)', () => {
  let redis: RedisServer;
  let file: string;
  let fake: { PHI_SCAN_READPST: string };
  let runs: string;
  const children: ChildProcess[] = [];
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, ...fake, ...extra });

  beforeAll(async () => {
    redis = await startRedis();
    const dir = tempDir('phi-pst-queue-');
    writeTree(path.join(dir, 'tree'), 300);
    runs = path.join(dir, 'runs');
    fake = { PHI_SCAN_READPST: writeFakeReadpst(dir, path.join(dir, 'tree'), runs) };
    file = path.join(dir, 'export.pst');
    copyFileSync(path.join(ROOT, 'fixtures', 'pst', 'pstsdk-sample1.pst'), file);
  }, 60_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('close', r)))));
    await redis?.stop();
  });

  it('two workers on 10 KB ranges (and one process on ranges): the records of a one-unit, one-process scan', { timeout: 420_000 }, async () => {
    const plain = await runCli(['scan', `pst:${file}`, '--format', 'jsonl'], { env: { ...fake, PHI_SCAN_STATE: tempDir(), PHI_SCAN_PST_RANGE_BYTES: '0' } });
    expect(plain.code).toBe(1);
    expect(new Set(jsonLines(plain.stdout).map((r) => r.folder).filter(Boolean)).size).toBe(5);
    // In one process too, ranges change nothing, not even the order of the records.
    const ranged = await runCli(['scan', `pst:${file}`, '--format', 'jsonl'], { env: { ...fake, PHI_SCAN_STATE: tempDir(), PHI_SCAN_PST_RANGE_BYTES: '10000' } });
    expect(withoutRunTimes(ranged.stdout)).toBe(withoutRunTimes(plain.stdout));
    const logs: string[] = [];
    const runsBefore = countRuns(runs);
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--concurrency', '2'], { env: env({ PHI_SCAN_STATE: tempDir('phi-wstate-') }), stdio: ['ignore', 'ignore', 'pipe'] });
      const at = logs.push('') - 1;
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (logs[at] += d));
      children.push(child);
    }
    const queued = await runCli(['scan', `pst:${file}`, '--format', 'jsonl', '--queue', redis.url], { env: { ...fake, PHI_SCAN_STATE: tempDir(), PHI_SCAN_PST_RANGE_BYTES: '10000' } });
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(plain.code);
    expect(withoutRunTimes(queued.stdout)).toBe(withoutRunTimes(plain.stdout));
    expect(jsonLines(queued.stdout).filter((r) => r.type === 'message').length).toBeGreaterThan(100);
    // The file really ran as many jobs, on both workers, and the coordinator never expanded it.
    const jobs = logs.map((l) => (l.match(/ done: /g) ?? []).length);
    expect(jobs.reduce((a, b) => a + b, 0)).toBe(Math.ceil(271360 / 10000));
    expect(jobs.every((n) => n > 0)).toBe(true);
    // Each worker expanded the file about once (its ranges share one expansion), not once per range.
    expect(countRuns(runs) - runsBefore).toBeGreaterThanOrEqual(2);
    expect(countRuns(runs) - runsBefore).toBeLessThanOrEqual(4);
  });
});
