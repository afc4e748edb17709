/**
 * How a run ended, told in every output (the real CLI, real processes):
 * - interrupted by SIGINT: the JSONL ends with a `run` record saying so, mailbox records cut
 *   short carry `interrupted: true`, the table and the HTML say so, and so does `report`;
 * - items not read by design (an image, a legacy .doc) are counted apart and do not make the
 *   scan incomplete, unless --strict; genuine failures still do (exit 3);
 * - a reader that closes the pipe early (`scan | head -1`, `rules test | head`) stops the
 *   command quietly: no stack trace, a documented exit status, the run marked output-closed.
 */
import { blank, encodePng } from '../../fixtures/ocr.js';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ole, pdf } from '../../fixtures/attachments.js';
import { CLI, TEST_KEY, jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { AnyRecord } from '../helpers/records.js';

/** Synthetic mbox: every 3rd message holds an SSN; some filler text. */
function generateMbox(file: string, prefix: string, messages: number): void {
  const parts: string[] = [];
  for (let i = 0; i < messages; i++) {
    const lines = [`From sender@example.org Mon Mar  4 09:15:00 2024`, `Message-ID: <${prefix}${i}@outcome.test>`, `Date: Mon, 4 Mar 2024 09:15:00 +0000`, `Subject: note ${i}`, ''];
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    for (let j = 0; j < 8; j++) lines.push('Routine scheduling text about the delivery window and the equipment order status.');
    parts.push(`${lines.join('\n')}\n\n`);
  }
  writeFileSync(file, parts.join(''));
}

const env = (state: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: state });

const sumMessages = (records: Record<string, unknown>[]): number =>
  records.filter((r) => r.type === 'mailbox').reduce((n, r) => n + (r.messages as number), 0);

describe('a scan interrupted by SIGINT', () => {
  it('says so in the JSONL (run record, mailbox marks), the table, the HTML and report', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const FILES = 3;
    const MESSAGES = 4000;
    for (let f = 0; f < FILES; f++) generateMbox(path.join(dir, `box-${f}.mbox`), `f${f}-`, MESSAGES);
    const out = tempDir();
    const config = path.join(out, 'scan.yaml');
    const jsonl = path.join(out, 'r.jsonl');
    const table = path.join(out, 'r.txt');
    const html = path.join(out, 'r.html');
    writeFileSync(
      config,
      `sources: ["mbox:${dir}"]\noutputs:\n  - { format: jsonl, out: "${jsonl}" }\n  - { format: table, out: "${table}" }\n  - { format: html, out: "${html}" }\n`,
    );
    const state = tempDir();
    const child = spawn(process.execPath, [CLI, 'scan', '--config', config, '--threads', '0', '--concurrency', '1'], { env: env(state), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 3000 && child.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        if (statSync(jsonl).size > 0) break;
      } catch {
        // not created yet
      }
    }
    child.kill('SIGINT');
    const code = await closed;
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(code).toBe(3);

    const records = jsonLines(readFileSync(jsonl, 'utf8')).map((r) => AnyRecord.parse(r));
    const last = records.at(-1);
    expect(last).toMatchObject({ type: 'run', status: 'interrupted', stoppedBy: 'signal' });
    const scanned = sumMessages(records);
    expect(scanned).toBeGreaterThan(0);
    expect(scanned).toBeLessThan(FILES * MESSAGES);
    expect((last as { messages: number }).messages).toBe(scanned);
    // At least the mailbox the scan was in when stopped is marked as partly read.
    expect(records.some((r) => r.type === 'mailbox' && r.interrupted === true)).toBe(true);

    expect(readFileSync(table, 'utf8')).toMatch(/^INTERRUPTED: the scan was stopped \(SIGINT\/SIGTERM\)/m);
    // The mailboxes the scan stopped in are marked * in its table (the same ones as the JSONL marks).
    const marked = records.filter((r) => r.type === 'mailbox' && r.interrupted === true).map((r) => (r as { mailbox: string }).mailbox);
    for (const m of marked) expect(readFileSync(table, 'utf8')).toMatch(new RegExp(`^${m} \\*\\s`, 'm'));
    expect(readFileSync(html, 'utf8')).toContain('id="interrupted"');

    // The state store tells the same story, with the same count.
    const report = await runCli(['report', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(report.code).toBe(0);
    const picture = jsonLines(report.stdout).map((r) => AnyRecord.parse(r));
    expect(picture.at(-1)).toMatchObject({ type: 'run', run: 1, status: 'interrupted', stoppedBy: 'signal' });
    expect(sumMessages(picture)).toBe(scanned);
    const page = await runCli(['report', '--format', 'html'], { env: { PHI_SCAN_STATE: state } });
    expect(page.stdout).toContain('id="interrupted"');
    const json = await runCli(['report', '--format', 'json'], { env: { PHI_SCAN_STATE: state } });
    expect(JSON.parse(json.stdout)).toMatchObject({ interrupted: { run: 1, status: 'interrupted' }, runs: [{ id: 1, status: 'interrupted', messages: scanned }] });

    // Finishing it with --since-last: the picture is whole again and no longer marked.
    const resumed = await runCli(['scan', `mbox:${dir}`, '--since-last', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(resumed.code).toBe(1);
    expect(jsonLines(resumed.stdout).at(-1)).toMatchObject({ type: 'run', status: 'complete' });
    const after = jsonLines((await runCli(['report'], { env: { PHI_SCAN_STATE: state } })).stdout);
    expect(after.some((r) => r.type === 'run')).toBe(false);
    expect(sumMessages(after)).toBe(FILES * MESSAGES);
  });
});

/** One MIME message with base64 attachments. */
function mimeMessage(id: string, body: string, attachments: { name: string; type: string; data: Buffer }[]): string {
  const parts = attachments
    .map((a) => `--b\nContent-Type: ${a.type}; name="${a.name}"\nContent-Disposition: attachment; filename="${a.name}"\nContent-Transfer-Encoding: base64\n\n${a.data.toString('base64').replace(/.{76}/g, '$&\n')}\n`)
    .join('');
  return `From a@example.org Mon Mar  4 09:15:00 2024\nMessage-ID: <${id}@outcome.test>\nSubject: ${id}\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n${body}\n${parts}--b--\n\n`;
}

describe('items not read by design are not failures', () => {
  // a real (4 × 4, blank) PNG: OCR reads images, and finds no text in this one
  const png = encodePng(blank(4, 4));
  const legacyDoc = ole([{ name: 'WordDocument', data: new Uint8Array(600).fill(3) }]);

  it('an image and a legacy .doc: counted as skipped, exit 1 (PHI found), not 3; --strict makes it 3', { timeout: 60_000 }, async () => {
    const file = path.join(tempDir(), 'office.mbox');
    writeFileSync(
      file,
      mimeMessage('pics', 'Photos of the new office attached.', [
        { name: 'photo.png', type: 'image/png', data: png },
        { name: 'old.doc', type: 'application/msword', data: legacyDoc },
      ]) + mimeMessage('ssn', 'Patient SSN: 489-36-8350', []),
    );
    const r = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    expect(records.filter((x) => x.type === 'error').map((x) => [x.location, x.code, x.severity])).toEqual([
      ['attachment:photo.png', 'no-text', 'skipped'],
      ['attachment:old.doc', 'unsupported-attachment', 'skipped'],
    ]);
    expect(records.find((x) => x.type === 'mailbox')).toMatchObject({ messages: 2, messagesWithPhi: 1, errors: 0, skipped: 2 });
    expect(records.at(-1)).toMatchObject({ type: 'run', status: 'complete', errors: 0, skipped: 2, strict: false });

    const t = await runCli(['scan', `mbox:${file}`, '--format', 'table']);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/^2 items not read by design \(images/m);
    expect(t.stdout).not.toMatch(/incomplete/);

    const strict = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl', '--strict']);
    expect(strict.code).toBe(3);
    expect(jsonLines(strict.stdout).at(-1)).toMatchObject({ type: 'run', status: 'incomplete', skipped: 2, strict: true });

    // The state report counts them the same way.
    const state = tempDir();
    await runCli(['scan', `mbox:${file}`], { env: { PHI_SCAN_STATE: state } });
    const report = jsonLines((await runCli(['report'], { env: { PHI_SCAN_STATE: state } })).stdout).map((x) => AnyRecord.parse(x));
    expect(report.find((x) => x.type === 'mailbox')).toMatchObject({ errors: 0, skipped: 2 });
    expect(report.filter((x) => x.type === 'error').every((x) => x.severity === 'skipped')).toBe(true);
  });

  it('a genuine failure (a corrupt PDF) next to them still makes the scan incomplete (exit 3)', { timeout: 60_000 }, async () => {
    const file = path.join(tempDir(), 'mixed.mbox');
    const broken = pdf([['Routine note without identifiers.']]).subarray(0, 200);
    writeFileSync(
      file,
      mimeMessage('mixed', 'See attached.', [
        { name: 'photo.png', type: 'image/png', data: png },
        { name: 'broken.pdf', type: 'application/pdf', data: broken },
      ]),
    );
    const r = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl']);
    expect(r.code).toBe(3);
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    expect(records.find((x) => x.type === 'mailbox')).toMatchObject({ errors: 1, skipped: 1 });
    expect(records.at(-1)).toMatchObject({ type: 'run', status: 'incomplete' });
  });
});

/** Runs the CLI with stdout into a reader that takes the first chunk and closes the pipe. */
function runIntoClosedPipe(args: string[], state: string, input?: string): Promise<{ code: number | null; stderr: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(state), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let first = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').once('data', (d: string) => {
      first = d;
      child.stdout.destroy(); // `| head -1`: the reader goes away
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, first }));
    child.stdin.end(input ?? '');
  });
}

describe('output into a closed pipe', () => {
  it('scan | head: stops quietly, exit 3, the run marked output-closed', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    generateMbox(path.join(dir, 'big.mbox'), 'p', 6000);
    const state = tempDir();
    const r = await runIntoClosedPipe(['scan', `mbox:${dir}/big.mbox`, '--format', 'jsonl'], state);
    expect(r.first).toMatch(/^\{"type":"finding"/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    const json = await runCli(['report', '--format', 'json'], { env: { PHI_SCAN_STATE: state } });
    const doc = JSON.parse(json.stdout) as { runs: { status: string; messages: number }[]; interrupted: unknown };
    expect(doc.runs).toEqual([expect.objectContaining({ status: 'output-closed' })]);
    expect(doc.runs[0]?.messages).toBeLessThan(6000);
    expect(doc.interrupted).toMatchObject({ status: 'interrupted', stoppedBy: 'output-closed' });
  });

  it('rules test | head: stops quietly with the status it had (1: findings)', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + (i % 9000)).padStart(4, '0')}`);
    const r = await runIntoClosedPipe(['rules', 'test', '-'], tempDir(), `${lines.join('\n')}\n`);
    expect(r.first).toMatch(/^\d+:\d+\tssn\t/); // LINE:COLUMN first (h/repo)
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
  });
});
