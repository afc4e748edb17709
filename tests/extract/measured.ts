/**
 * The built CLI as a child process, with its peak resident memory (VmHWM from /proc, polled:
 * worker threads and ArrayBuffers included, which a heap figure misses) and wall time.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, TEST_KEY, tempDir, type CliResult } from '../helpers/cli.js';

export interface MeasuredResult extends CliResult {
  /** Peak RSS of the CLI process in MB. */
  readonly peakRssMb: number;
  readonly seconds: number;
}

function highWaterKb(pid: number): number {
  try {
    const m = /VmHWM:\s*(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the process has just ended
  }
}

export function runCliMeasured(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<MeasuredResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-state-'), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peak = 0;
    const poll = setInterval(() => child.pid !== undefined && (peak = Math.max(peak, highWaterKb(child.pid))), 25);
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => child.pid !== undefined && (peak = Math.max(peak, highWaterKb(child.pid))));
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({ code, stdout, stderr, peakRssMb: Math.round(peak / 1024), seconds: (Date.now() - started) / 1000 });
    });
  });
}

export const canMeasureRss = (): boolean => {
  try {
    return /VmHWM/.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
};
