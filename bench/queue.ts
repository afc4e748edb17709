/**
 * Scale-out benchmark: messages/s of `scan --queue` with 1, 2 and 4 worker processes against
 * the same mailboxes (8 generated mbox files), next to a one-process scan; and the
 * coordinator's own CPU time per message (it runs inside this process, so process.cpuUsage()
 * is its cost: listing units, enqueueing, reading results back, writing JSONL and the state DB).
 *
 *   npm run bench:queue [-- --files 8 --messages 5000 --workers 1,2,4]
 *   npm run bench:queue -- --one-mbox 2000000000 [--range-bytes 134217728]
 *       one PHI-dense mbox of that many bytes (fixtures/dense.ts), spread over the workers as
 *       byte-range units (PHI_SCAN_MBOX_RANGE_BYTES on the coordinator); generated in a temporary
 *       folder and deleted afterwards
 *   npm run bench:queue -- --mbox FILE [--no-plain] ...
 *       an existing mbox instead (kept); --no-plain skips the one-process run
 *
 * Needs redis-server (started on loopback here, like the tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MailGenerator, mboxrdEscape } from './mailgen.js';
import { writeDenseMbox } from '../fixtures/dense.js';
import { startRedis } from '../tests/helpers/redis.js';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const WORK = path.join(ROOT, '.bench', 'queue');
const KEY = 'bench-fingerprint-key-0123456789abcdef';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const FILES = Number(arg('files', '8'));
const MESSAGES = Number(arg('messages', '5000'));
const WORKERS = arg('workers', '1,2,4').split(',').map(Number);
const ONE_MBOX = Number(arg('one-mbox', '0'));
const RANGE_BYTES = arg('range-bytes', '');
const MBOX = arg('mbox', '');
const PLAIN = !process.argv.includes('--no-plain');

/** 8 mbox files of MESSAGES synthetic messages each (seeded, reused when already there). */
function corpus(): string {
  const dir = path.join(WORK, `${FILES}x${MESSAGES}`);
  if (existsSync(path.join(dir, 'done'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < FILES; f++) {
    const gen = new MailGenerator(1000 + f);
    const parts: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const m = gen.message();
      parts.push(`${m.fromLine}\n${mboxrdEscape(m.text)}\n`);
    }
    writeFileSync(path.join(dir, `box-${f}.mbox`), parts.join(''));
  }
  writeFileSync(path.join(dir, 'done'), '');
  return dir;
}

function env(state: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: KEY, PHI_SCAN_STATE: state, ...(RANGE_BYTES ? { PHI_SCAN_MBOX_RANGE_BYTES: RANGE_BYTES } : {}) };
}

/** Temporary paths of this run (outputs, state DBs: gigabytes on a large archive), deleted by `removeTemporary`. */
const temporary: string[] = [];
function tmp(prefix: string): string {
  const made = path.join(os.tmpdir(), `${prefix}${process.pid}-${Math.random().toString(36).slice(2)}`);
  temporary.push(made);
  return made;
}
function removeTemporary(): void {
  for (const p of temporary.splice(0)) rmSync(p, { recursive: true, force: true });
}

/** Runs the CLI; its exit code and peak RSS in MB (VmHWM read every 500 ms, and last just before it exits: the reading stops at 'exit'). */
async function runChild(args: string[], state: string): Promise<{ code: number; peakMb: number }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: env(state), stdio: 'ignore' });
  let peakMb = 0;
  const read = (): void => {
    try {
      peakMb = Math.max(peakMb, peakRssMb(child.pid));
    } catch {
      // exited between two readings
    }
  };
  const timer = setInterval(read, 500);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  clearInterval(timer);
  return { code, peakMb };
}

/** CPU ms a process has used so far (/proc/PID/stat utime + stime, in clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Peak RSS of a live process so far, MB (/proc/PID/status VmHWM). */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * Samples Redis's used memory every 500 ms while a run goes on: the highest value is what the
 * scan's results and jobs held at once (INFO's used_memory_peak cannot be reset between runs).
 */
function sampleRedis(url: string): { stop: () => Promise<number> } {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  let peak = 0;
  const read = async (): Promise<void> => {
    const info = await client.info('memory');
    const m = /used_memory:(\d+)/.exec(info);
    if (m) peak = Math.max(peak, Number(m[1]));
  };
  const timer = setInterval(() => void read().catch(() => undefined), 500);
  return {
    stop: async () => {
      clearInterval(timer);
      await read().catch(() => undefined);
      client.disconnect();
      return peak / 1024 / 1024;
    },
  };
}

async function startWorkers(n: number, url: string): Promise<ChildProcess[]> {
  const workers: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--concurrency', '1'], { env: env(tmp('phi-bench-w-')), stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    while (!log.includes('waiting for jobs')) await new Promise((r) => setTimeout(r, 20));
    workers.push(child);
  }
  return workers;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('run npm run build first');
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  let dir: string;
  let total: number;
  let cleanup = (): void => undefined;
  if (MBOX !== '') {
    dir = path.resolve(MBOX);
    total = await countMessages(dir);
    log(`corpus: ${dir}, ${(statSync(dir).size / 1e6).toFixed(0)} MB, ${total} messages, byte ranges of ${RANGE_BYTES || 'the default size'}`);
  } else if (ONE_MBOX > 0) {
    // The archive outlives the runs' temporary files (removed after each run).
    const tmpDir = path.join(os.tmpdir(), `phi-bench-one-${process.pid}`);
    mkdirSync(tmpDir, { recursive: true });
    cleanup = () => rmSync(tmpDir, { recursive: true, force: true });
    dir = path.join(tmpDir, 'dense.mbox');
    const stats = await writeDenseMbox(dir, ONE_MBOX);
    total = stats.messages;
    log(`corpus: one PHI-dense mbox of ${(stats.bytes / 1e6).toFixed(0)} MB, ${total} messages (fixtures/dense.ts), byte ranges of ${RANGE_BYTES || 'the default size'}`);
  } else {
    dir = corpus();
    total = FILES * MESSAGES;
    log(`corpus: ${FILES} mbox files × ${MESSAGES} messages (${total} messages) in ${dir}`);
  }
  try {
    await measure(dir, total, log);
  } finally {
    removeTemporary();
    cleanup();
  }
}

async function plainRun(dir: string, total: number, log: (s: string) => void): Promise<void> {
  const t0 = performance.now();
  const plain = await runChild(['scan', `mbox:${dir}`, '--format', 'jsonl', '--out', tmp('phi-bench-out-')], tmp('phi-bench-s-'));
  const plainS = (performance.now() - t0) / 1000;
  log(`one process (no queue): ${plainS.toFixed(1)} s, ${Math.round(total / plainS)} msg/s, exit ${plain.code}, peak RSS ~${plain.peakMb.toFixed(0)} MB (read every 500 ms)`);
  removeTemporary();
}

/** Messages of an mbox: lines starting `From ` that follow an empty line or open the file, as its writers separate them. */
async function countMessages(file: string): Promise<number> {
  let n = 0;
  let previous = '';
  for await (const line of createInterface({ input: createReadStream(file, { encoding: 'latin1' }), crlfDelay: Infinity })) {
    if (line.startsWith('From ') && (n === 0 || previous === '')) n++;
    previous = line;
  }
  return n;
}

async function measure(dir: string, total: number, log: (s: string) => void): Promise<void> {
  log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (PLAIN) await plainRun(dir, total, log);
  else log(`bench process peak RSS before the queued runs: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

  const redis = await startRedis();
  // The coordinator runs in this process: its CPU time is what process.cpuUsage() counts.
  const { main: cli } = (await import(path.join(ROOT, 'dist', 'cli', 'program.js'))) as { main: (argv: string[]) => Promise<number> };
  try {
    log('| workers | wall s | messages/s | speed-up vs 1 worker | worker CPU ms/message (all workers) | coordinator CPU ms/message | coordinator share of CPU | Redis peak MB | worker peak RSS MB | coordinator peak RSS MB |');
    log('|---|---|---|---|---|---|---|---|---|---|');
    let one = 0;
    for (const n of WORKERS) {
      const workers = await startWorkers(n, redis.url);
      const state = tmp('phi-bench-c-');
      Object.assign(process.env, env(state));
      const redisMemory = sampleRedis(redis.url);
      const cpu = process.cpuUsage();
      const t = performance.now();
      const code = await cli(['node', 'phi-scan', 'scan', `mbox:${dir}`, '--queue', redis.url, '--format', 'jsonl', '--out', tmp('phi-bench-out-'), '--no-progress']);
      const s = (performance.now() - t) / 1000;
      const used = process.cpuUsage(cpu);
      if (code !== 0 && code !== 1) throw new Error(`scan --queue exited ${code}`);
      const workerMs = workers.reduce((n, w) => n + cpuMs(w.pid), 0);
      const workerPeak = Math.max(...workers.map((w) => peakRssMb(w.pid)));
      const redisPeak = await redisMemory.stop();
      // Cumulative for this process (the benchmark's own runs before this one included).
      const coordinatorPeak = process.resourceUsage().maxRSS / 1024;
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('close', r)))));
      removeTemporary();
      const rate = total / s;
      if (n === WORKERS[0]) one = rate;
      const coordinatorMs = (used.user + used.system) / 1000;
      log(`| ${n} | ${s.toFixed(1)} | ${Math.round(rate)} | ${(rate / one).toFixed(2)}× | ${(workerMs / total).toFixed(2)} | ${(coordinatorMs / total).toFixed(3)} | ${((100 * coordinatorMs) / (coordinatorMs + workerMs)).toFixed(0)} % | ${redisPeak.toFixed(0)} | ${workerPeak.toFixed(0)} | ${coordinatorPeak.toFixed(0)} |`);
    }
  } finally {
    await redis.stop();
  }
  log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
