/**
 * One scan at a time per state folder (two real CLI processes): a second scan while the first
 * is writing (paused with SIGSTOP, so that it is still there) stops at once with one line naming
 * the first (exit 2), or waits with --wait-lock;
 * a scan killed with SIGKILL leaves no stale lock behind.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { checkpointCursors } from '../helpers/state.js';

function generateMbox(file: string, messages: number): void {
  const parts: string[] = [];
  for (let i = 0; i < messages; i++) {
    const lines = [`From s@example.org Mon Mar  4 09:15:00 2024`, `Message-ID: <l${i}@lock.test>`, `Subject: note ${i}`, ''];
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    for (let j = 0; j < 8; j++) lines.push('Routine scheduling text about the delivery window and the equipment order status.');
    parts.push(`${lines.join('\n')}\n\n`);
  }
  writeFileSync(file, parts.join(''));
}

/** Starts a long scan and resolves once it is writing the state database (a first checkpoint committed). */
async function startLongScan(source: string, state: string): Promise<{ child: ReturnType<typeof spawn>; closed: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'scan', source, '--format', 'jsonl', '--threads', '0', '--concurrency', '1'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: state },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  for (let i = 0; i < 3000 && child.exitCode === null; i++) {
    if (checkpointCursors(state) !== '') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, closed };
}

describe('two scans on one state folder', () => {
  it('the second stops with one line naming the first (exit 2); --wait-lock waits for it', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const source = `mbox:${path.join(dir, 'big.mbox')}`;
    generateMbox(path.join(dir, 'big.mbox'), 8000);
    // The lock is per state database, whatever the sources: the later scans read a small file.
    const small = `mbox:${path.join(dir, 'small.mbox')}`;
    generateMbox(path.join(dir, 'small.mbox'), 10);
    const state = tempDir();
    const first = await startLongScan(source, state);
    expect(first.child.exitCode).toBeNull(); // still running
    // Paused until the waiting scan below says it waits: however fast the first scan, it holds the lock until then.
    first.child.kill('SIGSTOP');
    let continued = false;
    const resume = (): void => {
      if (!continued) first.child.kill('SIGCONT');
      continued = true;
    };

    const second = await runCli(['scan', small, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(
      new RegExp(`^phi-scan: \\S*state\\.db is in use by another scan \\(run #1, pid ${first.child.pid} on \\S+, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); .*--wait-lock`),
    );

    // Asked to wait: it runs once the first is done, as run #2.
    const waiting = runCli(['scan', small, '--format', 'jsonl', '--wait-lock', '170'], {
      env: { PHI_SCAN_STATE: state },
      onStderr: (soFar) => {
        if (soFar.includes('waiting up to 170 s')) resume();
      },
    });
    const waited = await waiting.finally(resume);
    expect(await first.closed).toBe(1);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(/waiting up to 170 s for another scan \(run #1/);
    expect(jsonLines(waited.stdout).at(-1)).toMatchObject({ type: 'run', status: 'complete', messages: 10 });
    const runs = (JSON.parse((await runCli(['report', '--format', 'json'], { env: { PHI_SCAN_STATE: state } })).stdout) as { runs: { id: number; status: string; startedAt: string; finishedAt: string }[] }).runs;
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      [1, 'complete'],
      [2, 'complete'],
    ]);
    // The runs never overlapped.
    expect(runs[1]!.startedAt >= runs[0]!.finishedAt).toBe(true);
  });

  it('a scan killed with SIGKILL leaves no stale lock', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const source = `mbox:${path.join(dir, 'big.mbox')}`;
    generateMbox(path.join(dir, 'big.mbox'), 3000);
    const state = tempDir();
    const first = await startLongScan(source, state);
    first.child.kill('SIGKILL');
    await first.closed;
    const next = await runCli(['scan', source, '--format', 'jsonl', '--since-last'], { env: { PHI_SCAN_STATE: state } });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(1);
  });
});
