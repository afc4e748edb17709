/**
 * Crash safety (CONTRACT.md "Incremental scans"): a scan killed with SIGKILL in the middle,
 * then resumed with `--since-last`, leaves the same `report --format jsonl` picture as one
 * uninterrupted scan: nothing lost, nothing counted twice. The CLI runs as a real process.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { AnyRecord } from '../helpers/records.js';
import { checkpointCursors } from '../helpers/state.js';

/** Per mbox file; two files are two units scanned at once (checkpoints of a unit behind the head wait for its messages). */
const MESSAGES = 2000;
const FILES = 2;

/** Synthetic mbox: every 3rd message holds an SSN, every 5th a date of birth; some filler text. */
function generateMbox(file: string, prefix: string): void {
  const parts: string[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const lines = [`From sender@example.org Mon Mar  4 09:15:00 2024`, `Message-ID: <${prefix}${i}@crash.test>`, `Date: Mon, 4 Mar 2024 09:15:00 +0000`, `Subject: note ${i}`, ''];
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    if (i % 5 === 0) lines.push(`DOB: 03/${String(1 + (i % 28)).padStart(2, '0')}/19${50 + (i % 40)}`);
    for (let j = 0; j < 8; j++) lines.push('Routine scheduling text about the delivery window and the equipment order status.');
    parts.push(`${lines.join('\n')}\n\n`);
  }
  writeFileSync(file, parts.join(''));
}

/** The picture's records; a scan's closing `run` record is about the scan, not the picture. */
function sortedReport(stdout: string): string[] {
  return jsonLines(stdout)
    .filter((r) => r.type !== 'run')
    .map((r) => JSON.stringify(AnyRecord.parse(r)))
    .sort();
}

describe('kill -9 in the middle of a scan, then --since-last', () => {
  // The default of a 2-core machine writes the state on the main thread; threads that scan whole
  // messages (--threads 1) write it from the store's own thread (pipeline/scanner.ts storeThread).
  it.each([[[] as string[]], [['--threads', '1']]])('reports the same picture as one uninterrupted scan (%j)', { timeout: 120_000 }, async (threads) => {
    const dir = tempDir();
    for (let f = 0; f < FILES; f++) generateMbox(path.join(dir, `big-${f}.mbox`), `f${f}-`);
    const source = `mbox:${dir}`;
    const total = MESSAGES * FILES;
    const scanned = (stdout: string): number =>
      jsonLines(stdout)
        .filter((r) => r.type === 'mailbox')
        .reduce((n, r) => n + (r.messages as number), 0);

    // 1. The interrupted scan: killed once some checkpoint is committed.
    const killed = tempDir();
    const child = spawn(process.execPath, [CLI, 'scan', source, '--format', 'jsonl', '--since-last', '--concurrency', '2', ...threads], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: killed },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 2000 && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (checkpointCursors(killed) !== '') break;
    }
    child.kill('SIGKILL');
    await closed;
    const partial = await runCli(['report'], { env: { PHI_SCAN_STATE: killed } });
    expect(partial.code).toBe(0);
    const partialCount = scanned(partial.stdout);
    // Killed in the middle: some messages committed, not all.
    expect(partialCount).toBeGreaterThan(0);
    expect(partialCount).toBeLessThan(total);

    // 2. Resume: only the rest is scanned.
    const resumed = await runCli(['scan', source, '--format', 'jsonl', '--since-last', ...threads], { env: { PHI_SCAN_STATE: killed } });
    expect(resumed.code).toBe(1);
    expect(scanned(resumed.stdout)).toBe(total - partialCount);

    // 3. One uninterrupted scan into a fresh state.
    const fresh = tempDir();
    const whole = await runCli(['scan', source, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: fresh } });
    expect(whole.code).toBe(1);

    const a = await runCli(['report', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: killed } });
    const b = await runCli(['report', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: fresh } });
    expect(a.stderr).toBe('');
    const mailboxes = jsonLines(a.stdout).filter((r) => r.type === 'mailbox');
    expect(mailboxes.length).toBe(FILES);
    for (const mailbox of mailboxes) {
      expect(mailbox).toMatchObject({ messages: MESSAGES, messagesWithPhi: Math.ceil(MESSAGES / 3) + Math.ceil(MESSAGES / 5) - Math.ceil(MESSAGES / 15) });
    }
    expect(sortedReport(a.stdout)).toEqual(sortedReport(b.stdout));
    // And the uninterrupted scan's own records are that same picture.
    expect(sortedReport(b.stdout)).toEqual(sortedReport(whole.stdout));
  });
});
