/**
 * Peak RSS and wall time of the built CLI on each bomb of fixtures/bombs.ts (full size: the
 * issue's 1.7 KB XLSX of 200,000 `<a`, 1.5 MB DOCX inflating to 1.5 GB, 510 KB PDF with a
 * 500 MB FlateDecode stream, 30 MB RTF of `{`), one message each, with `--threads 0` and `1`.
 * Peak RSS is the child's VmHWM (worker threads and ArrayBuffers included).
 *
 *   npm run build && npx tsx bench/bombs.ts [--dist dist] [--timeout 150]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BOMB_KINDS, bombMessage } from '../fixtures/bombs.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORK = path.join(ROOT, '.bench', 'bombs');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function highWaterKb(pid: number): number {
  try {
    return Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function run(cli: string, file: string, threads: string, timeoutSec: number): Promise<{ rssMb: number; seconds: number; killed: boolean; records: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, 'scan', `eml:${file}`, '--format', 'jsonl', '--threads', threads], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: 'bench-key-0123456789abcdef0123456789', PHI_SCAN_STATE: mkdtempSync(path.join(os.tmpdir(), 'phi-bomb-state-')) },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let peak = 0;
    let killed = false;
    const poll = setInterval(() => child.pid !== undefined && (peak = Math.max(peak, highWaterKb(child.pid))), 20);
    const timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), timeoutSec * 1000);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', () => {
      clearInterval(poll);
      clearTimeout(timer);
      const counts = new Map<string, number>();
      for (const line of out.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as { type: string; code?: string; location?: string };
        const key = r.type === 'error' ? `error ${r.code ?? ''} ${r.location ?? ''}` : r.type;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      resolve({ rssMb: Math.round(peak / 1024), seconds: (Date.now() - started) / 1000, killed, records: [...counts].map(([k, n]) => `${n}× ${k}`).join(', ') });
    });
  });
}

const cli = path.join(ROOT, flag('dist', 'dist'), 'cli', 'main.js');
const timeoutSec = Number(flag('timeout', '150'));
mkdirSync(WORK, { recursive: true });
console.log(`| bomb | threads | peak RSS | time | records |\n| --- | --- | --- | --- | --- |`);
for (const kind of BOMB_KINDS) {
  const file = path.join(WORK, `${kind}.eml`);
  writeFileSync(file, bombMessage(kind));
  for (const threads of ['0', '1']) {
    const r = await run(cli, file, threads, timeoutSec);
    console.log(`| ${kind} | ${threads} | ${r.rssMb} MB | ${r.killed ? `> ${timeoutSec} s (killed)` : `${r.seconds.toFixed(1)} s`} | ${r.records} |`);
  }
}
