/**
 * One large mbox spread over queue workers as byte-range units (sources/mbox.ts): `scan --queue`
 * with two workers writes the same records as a one-process scan that reads the file in one
 * piece, with ranges cutting inside messages and on quoted `From ` lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, requireOrSkip, runCli, tempDir, withoutRunTimes } from '../helpers/cli.js';
import { stopChild } from '../helpers/processes.js';
import { redisServerBin, startRedis, type RedisServer } from '../helpers/redis.js';

function mboxText(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const lines = [`From sender@example.org Mon Mar  4 09:15:00 2024`, `Message-ID: <r${i}@ranges.test>`, `Date: Mon, 4 Mar 2024 09:15:00 +0000`, `Subject: note ${i}`, ''];
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    if (i % 5 === 0) lines.push(`DOB: 03/${String(1 + (i % 28)).padStart(2, '0')}/19${50 + (i % 40)}`);
    if (i % 4 === 0) lines.push('', '>From the front desk Mon Mar  4 09:15:00 2024', '>>From a quoted reply');
    for (let j = 0; j < (i * 5) % 17; j++) lines.push('Routine scheduling text about the delivery window and the equipment order status.');
    parts.push(`${lines.join('\n')}\n\n`);
  }
  return parts.join('');
}

const run = requireOrSkip('redis-server (apt-get install redis-server)', redisServerBin() !== undefined);

describe.runIf(run)('one mbox over many queue workers (byte ranges)', () => {
  let redis: RedisServer;
  let file: string;
  const children: ChildProcess[] = [];
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, ...extra });

  beforeAll(async () => {
    redis = await startRedis();
    file = path.join(tempDir('phi-ranges-'), 'big.mbox');
    writeFileSync(file, mboxText(400));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    await redis?.stop();
  });

  it('two workers on 5 KB ranges (and one process on 3 KB ranges): the records of a one-piece, one-process scan', { timeout: 420_000 }, async () => {
    const plain = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir(), PHI_SCAN_MBOX_RANGE_BYTES: '0' } });
    expect(plain.code).toBe(1);
    // In one process too, ranges change nothing, not even the order of the records.
    const ranged = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir(), PHI_SCAN_MBOX_RANGE_BYTES: '3000' } });
    expect(withoutRunTimes(ranged.stdout)).toBe(withoutRunTimes(plain.stdout));
    const logs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--concurrency', '2'], { env: env({ PHI_SCAN_STATE: tempDir('phi-wstate-') }), stdio: ['ignore', 'ignore', 'pipe'] });
      const at = logs.push('') - 1;
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (logs[at] += d));
      children.push(child);
    }
    const queued = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl', '--queue', redis.url], { env: { PHI_SCAN_STATE: tempDir(), PHI_SCAN_MBOX_RANGE_BYTES: '5000' } });
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(plain.code);
    const records = (text: string): string[] => withoutRunTimes(text).split('\n').filter(Boolean).sort();
    expect(records(queued.stdout)).toEqual(records(plain.stdout));
    expect(jsonLines(queued.stdout).filter((r) => r.type === 'message').length).toBeGreaterThan(100);
    // The file really ran as many jobs, on both workers.
    const jobs = logs.map((l) => (l.match(/ done: /g) ?? []).length);
    expect(jobs.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    expect(jobs.every((n) => n > 0)).toBe(true);
  });
});
