import { describe, expect, it } from 'vitest';
import type { WriteStream } from 'node:tty';
import { countProgress, progressReporter } from '../../src/session/progress.js';

function fakeTty(): { stream: WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { columns: 100, write: (s: string) => written.push(s) } as unknown as WriteStream;
  return { stream, written };
}

describe('progress line', () => {
  it('shows messages, MB, messages/s and the current mailbox, at most every 250 ms, and clears itself', () => {
    const { stream, written } = fakeTty();
    const p = progressReporter(stream);
    p.update({ messages: 1200, bytes: 34_500_000, mailbox: 'intake', elapsedMs: 2000 });
    p.update({ messages: 1201, bytes: 34_600_000, mailbox: 'intake', elapsedMs: 2001 }); // too soon: skipped
    expect(written).toEqual(['\rscanning intake: 1,200 messages, 34.5 MB, 600 msg/s\x1b[K']);
    p.done();
    expect(written.at(-1)).toBe('\r\x1b[K');
  });

  it('adds the percentage and the time left when the total size is known; never 100% before the end', () => {
    const { stream, written } = fakeTty();
    let total: number | undefined;
    const p = progressReporter(stream, () => total);
    p.update({ messages: 10, bytes: 1_000_000, mailbox: 'a', elapsedMs: 1000 });
    expect(written.at(-1)).not.toMatch(/%/);
    total = 4_000_000;
    const later = Date.now;
    Date.now = () => later() + 1000;
    try {
      p.update({ messages: 20, bytes: 1_000_000, mailbox: 'a', elapsedMs: 10_000 });
      expect(written.at(-1)).toBe('\r25% scanning a: 20 messages, 1.0 MB, 2 msg/s, 30s left\x1b[K');
      Date.now = () => later() + 2000;
      p.update({ messages: 1, bytes: 9_000_000, mailbox: 'a', elapsedMs: 100_000 });
      expect(written.at(-1)).toMatch(/^\r99% scanning a: 1 message, 9\.0 MB, .* 1s left/);
    } finally {
      Date.now = later;
    }
  });

  it('estimates the total only for file sources scanned in full', async () => {
    const { estimateTotalBytes } = await import('../../src/session/progress.js');
    const path = await import('node:path');
    const { statSync } = await import('node:fs');
    const { ROOT } = await import('../helpers/cli.js');
    const mbox = path.join(ROOT, 'fixtures', 'demo', 'mbox');
    const size = (await import('node:fs')).readdirSync(mbox).reduce((n, f) => n + statSync(path.join(mbox, f)).size, 0);
    expect(await estimateTotalBytes([`mbox:${mbox}`], false)).toBe(size);
    expect(await estimateTotalBytes([`mbox:${mbox}`], true)).toBeUndefined();
    expect(await estimateTotalBytes([`mbox:${mbox}`, 'imaps://u@h'], false)).toBeUndefined();
  });

  it('prints nothing at the end when it never showed anything', () => {
    const { stream, written } = fakeTty();
    progressReporter(stream).done();
    expect(written).toEqual([]);
  });
});

describe('progress on a real terminal', () => {
  it('appears on stderr under a pseudo-terminal, and not when stderr is a pipe', async () => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const path = await import('node:path');
    const { CLI, ROOT, runCli, tempDir } = await import('../helpers/cli.js');
    if (!existsSync('/usr/bin/script')) return; // util-linux is on every Debian; nothing to prove without it
    const out = path.join(tempDir(), 'r.jsonl');
    const source = `mbox:${path.join(ROOT, 'fixtures', 'demo', 'mbox')}`;
    const cmd = `PHI_SCAN_KEY=progress-test-key-123456 PHI_SCAN_STATE=${tempDir()} ${process.execPath} ${CLI} scan ${source} --out ${out} --format jsonl`;
    const run = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(run.status).toBe(3); // the demo holds an unreadable PDF: incomplete
    const tty = run.stdout;
    // One line or several, however fast the scan: "scanning MAILBOX: N message(s), …".
    expect(tty).toMatch(/scanning \S+: \d+ messages?, /);
    const piped = await runCli(['scan', source, '--out', out, '--format', 'jsonl']);
    expect(piped.stderr).toBe('');
  });

  it('is cleared before the table is written to the same terminal', async () => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const path = await import('node:path');
    const { CLI, ROOT, tempDir } = await import('../helpers/cli.js');
    if (!existsSync('/usr/bin/script')) return;
    const source = `mbox:${path.join(ROOT, 'fixtures', 'demo', 'mbox')}`;
    const cmd = `PHI_SCAN_KEY=progress-test-key-123456 PHI_SCAN_STATE=${tempDir()} COLUMNS=100 ${process.execPath} ${CLI} scan ${source} --format table --no-color`;
    const tty = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' }).stdout;
    expect(tty).toContain('msg/s');
    // The table starts on a cleared line, never glued to the progress line.
    expect(tty).not.toMatch(/msg\/s[^\r\n]*(?:Run #|Mailbox)/);
    expect(tty).toMatch(/\r\x1b\[KRun #1 /);
  });
});

describe('progress line after the scan', () => {
  it('a status line in place of the counts; done clears it', () => {
    const { stream, written } = fakeTty();
    const p = progressReporter(stream);
    p.status('writing the report on 1,200 messages…');
    expect(written).toEqual(['\rwriting the report on 1,200 messages…\x1b[K']);
    p.done();
    expect(written.at(-1)).toBe('\r\x1b[K');
  });

  it('while the report is made, the line says so; it is cleared before the report reaches the terminal', async () => {
    const { Writable } = await import('node:stream');
    const path = await import('node:path');
    const { runScanSession } = await import('../../src/session/session.js');
    const { ROOT, TEST_KEY, tempDir } = await import('../helpers/cli.js');
    // One terminal: stdout and stderr (a TTY) write to the same screen, in order.
    const screen: { to: 'stdout' | 'stderr'; text: string }[] = [];
    const terminal = (to: 'stdout' | 'stderr', tty: boolean) =>
      Object.assign(
        new Writable({
          write(chunk: Buffer | string, _encoding, done) {
            screen.push({ to, text: chunk.toString() });
            done();
          },
        }),
        tty ? { isTTY: true, columns: 100 } : {},
      );
    const code = await runScanSession(
      { sources: [`mbox:${path.join(ROOT, 'fixtures', 'demo', 'mbox')}`], format: 'table', progress: true, threads: 0 },
      { stdout: terminal('stdout', false), stderr: terminal('stderr', true), env: { PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-state-'), NO_COLOR: '1' } },
    );
    expect(code).toBe(3); // the demo holds an unreadable PDF: incomplete
    const status = screen.findIndex((w) => w.to === 'stderr' && /^\rwriting the report on \d+ messages…\x1b\[K$/.test(w.text));
    const cleared = screen.findIndex((w, i) => i > status && w.to === 'stderr' && w.text === '\r\x1b[K');
    const report = screen.findIndex((w) => w.to === 'stdout');
    expect(status).toBeGreaterThanOrEqual(0);
    expect(cleared).toBeGreaterThan(status);
    expect(report).toBeGreaterThan(cleared);
    expect(screen.slice(report).map((w) => w.text).join('')).toMatch(/Run #1/);
  });
});

describe('progress of remediate: messages read again of the plan\'s', () => {
  it('counts against the total with the rate and the time left, at most every 250 ms; done clears it', () => {
    const { stream, written } = fakeTty();
    const real = Date.now;
    const t0 = real();
    Date.now = () => t0;
    try {
      const p = countProgress(stream, 'remediate (dry run): read again', 4);
      Date.now = () => t0 + 1000;
      p.tick();
      expect(written).toEqual(['\rremediate (dry run): read again: 1 of 4 messages, 1 msg/s, 3s left\x1b[K']);
      Date.now = () => t0 + 1100;
      p.tick(); // too soon: counted, not shown
      expect(written.length).toBe(1);
      Date.now = () => t0 + 2000;
      p.tick();
      expect(written.at(-1)).toBe('\rremediate (dry run): read again: 3 of 4 messages, 2 msg/s, 1s left\x1b[K');
      Date.now = () => t0 + 3000;
      p.tick();
      expect(written.at(-1)).toBe('\rremediate (dry run): read again: 4 of 4 messages, 1 msg/s\x1b[K');
      p.done();
      expect(written.at(-1)).toBe('\r\x1b[K');
    } finally {
      Date.now = real;
    }
  });

  it('appears under a pseudo-terminal, cleared before each step line; nothing on a pipe', async () => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const path = await import('node:path');
    const { CLI, ROOT, runCli, tempDir } = await import('../helpers/cli.js');
    if (!existsSync('/usr/bin/script')) return;
    const env = { PHI_SCAN_KEY: 'progress-test-key-123456', PHI_SCAN_STATE: tempDir() };
    const source = `mbox:${path.join(ROOT, 'fixtures', 'demo', 'mbox')}`;
    expect((await runCli(['scan', source, '--format', 'jsonl'], { env })).code).toBe(3); // an unreadable PDF: incomplete
    const out = path.join(tempDir(), 'out');
    const cmd = `PHI_SCAN_KEY=${env.PHI_SCAN_KEY} PHI_SCAN_STATE=${env.PHI_SCAN_STATE} COLUMNS=120 ${process.execPath} ${CLI} remediate --action move --to ${out}`;
    const run = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const tty = run.stdout;
    expect(tty).toMatch(/remediate \(dry run\): read again: \d+ of \d+ messages, \d+ msg\/s/);
    // A step line never follows the progress line on the same line.
    expect(tty).not.toMatch(/msg\/s[^\r\n]*\{"type"/);
    expect(tty).toMatch(/\r\x1b\[K\{"type":"remediation-step"/);
    const piped = await runCli(['remediate', '--action', 'move', '--to', out], { env });
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toMatch(/read again/);
  });
});
