/**
 * Hardening "never leak", item 10 for scale-out: what a queued scan puts into Redis. A job must
 * carry what a worker opens — the SOURCE (`spec`) and each unit's `ref` (a file path, an IMAP
 * folder) — and nothing else raw: unit ids are keyed digests, names are masked, results are
 * masked, and an error's text (a failed read naming the path) is masked too. Every Redis key
 * and value is searched for the planted raw values, with only `spec` and `ref` set aside.
 */
import { spawn } from 'node:child_process';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAK_NEEDLES, writeLeakScenario } from '../fixtures/leak.js';
import { CLI, TEST_KEY, runCli, tempDir, requireOrSkip } from './helpers/cli.js';
import { stopChild } from './helpers/processes.js';
import { redisServerBin, startRedis, type RedisServer } from './helpers/redis.js';

const NEEDLES = [...LEAK_NEEDLES, '489-36-8350', '489368350'];
const run = requireOrSkip('redis-server (apt-get install redis-server)', redisServerBin() !== undefined);

/** Every key and value in Redis, with each job's `spec` and units' `ref` taken out (they must stay raw). */
async function dumpRedis(url: string): Promise<{ text: string; jobs: { spec: string; units: { unit: { id: string; ref: string } }[] }[] }> {
  const c = new Redis(url);
  const parts: string[] = [];
  const jobs: { spec: string; units: { unit: { id: string; ref: string } }[] }[] = [];
  try {
    for (const key of await c.keys('*')) {
      parts.push(key);
      const type = await c.type(key);
      if (type === 'string') parts.push((await c.get(key)) ?? '');
      else if (type === 'list') parts.push(...(await c.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(...(await c.smembers(key)));
      else if (type === 'zset') parts.push(...(await c.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await c.xrange(key, '-', '+')));
      else if (type === 'hash') {
        const h = await c.hgetall(key);
        for (const [field, value] of Object.entries(h)) {
          parts.push(field);
          if (field === 'data' && value.includes('"spec"')) {
            const data = JSON.parse(value) as { spec: string; units: { unit: { id: string; ref: string } }[] };
            jobs.push(JSON.parse(value) as (typeof jobs)[number]);
            data.spec = '';
            for (const u of data.units) u.unit.ref = '';
            parts.push(JSON.stringify(data));
          } else parts.push(value);
        }
      }
    }
  } finally {
    c.disconnect();
  }
  return { text: parts.join('\n'), jobs };
}

describe.runIf(run)('a queued scan puts nothing raw into Redis but what a worker opens', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('jobs, results and error text: masked or digested; only spec and ref raw', { timeout: 300_000 }, async () => {
    const dir = tempDir('phi-leak-q-');
    const { sources } = writeLeakScenario(path.join(dir, 'a'));
    // A second copy whose folder is renamed once its job is queued: the worker's read fails
    // with an error naming the path.
    const gone = writeLeakScenario(path.join(dir, 'b')).sources[0] as string;
    const state = tempDir('phi-state-');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: state };
    const coordinator = spawn(process.execPath, [CLI, 'scan', ...sources, gone, '--queue', redis.url, '--format', 'jsonl'], { env, stdio: 'ignore' });
    const c = new Redis(redis.url);
    try {
      for (let i = 0; (await c.keys('bull:phi-scan:*')).filter((k) => /:\w+-\d+$/.test(k)).length < 3; i++) {
        if (i > 600) throw new Error('no jobs queued');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      c.disconnect();
      // Also when the jobs never came: a coordinator left running waits on its queue forever.
      await stopChild(coordinator, 'SIGKILL');
    }
    renameSync(path.join(dir, 'b'), path.join(dir, 'b-moved'));

    // The jobs as queued.
    const queued = await dumpRedis(redis.url);
    expect(queued.jobs.length).toBe(3);
    for (const job of queued.jobs) {
      expect([...sources, gone]).toContain(job.spec); // the worker opens these: raw by design
      for (const { unit } of job.units) expect(unit.id).toMatch(/^h:[0-9a-f]{32}$/);
    }
    expect(queued.text).toContain('Roe SSN •••-••-3921'); // the masked names are there
    expect(NEEDLES.filter((n) => queued.text.includes(n))).toEqual([]);

    // A worker runs them all: results (and the failed read's error) are written to Redis.
    const worker = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url], { env: { ...env, PHI_SCAN_STATE: tempDir('phi-wstate-') }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    worker.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    try {
      for (let i = 0; (log.match(/ done: /g) ?? []).length < 3; i++) {
        if (i > 1200) throw new Error(`jobs not done: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      // On every path: a worker left running waits on its queue forever (and outlives Redis).
      await stopChild(worker);
    }
    const done = await dumpRedis(redis.url);
    // Result batches are there (findings packed against a string table), their values masked.
    expect(done.text).toContain('{"strings":[');
    expect(done.text).toMatch(/•••-••-\d{4}/);
    expect(done.text).toContain('reading stopped'); // the renamed folder's error is in Redis
    expect(NEEDLES.filter((n) => done.text.includes(n))).toEqual([]);
    expect(NEEDLES.filter((n) => log.includes(n))).toEqual([]);

    // The coordinator started again (the folder back, so its SOURCE resolves) writes the scan
    // from Redis, and nothing raw comes out.
    renameSync(path.join(dir, 'b-moved'), path.join(dir, 'b'));
    const again = await runCli(['scan', ...sources, gone, '--queue', redis.url, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(again.code).toBe(3);
    expect(NEEDLES.filter((n) => (again.stdout + again.stderr).includes(n))).toEqual([]);
  });
});
