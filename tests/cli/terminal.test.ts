/** The CLI as a person meets it: --version, ~ in SOURCE, one error prefix, wrong inputs said clearly, runs, help = README. */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expandHome } from '../../src/cli/inputs.js';
import { ROOT, jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { DEMO } from '../helpers/demo.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('phi-scan --version', () => {
  it('prints package.json version and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });
});

describe('~ in a SOURCE path', () => {
  it('expands ~ and ~/ after an archive scheme only', () => {
    expect(expandHome('maildir:~/Maildir', '/home/ann')).toBe('maildir:/home/ann/Maildir');
    expect(expandHome('mbox:~', '/home/ann')).toBe('mbox:/home/ann');
    expect(expandHome('mbox:~bob/x.mbox', '/home/ann')).toBe('mbox:~bob/x.mbox');
    expect(expandHome('mbox:a/~/x', '/home/ann')).toBe('mbox:a/~/x');
    expect(expandHome('imaps://u@h/~x', '/home/ann')).toBe('imaps://u@h/~x');
  });

  it('scans maildir:~/Maildir, the help text\'s own example', { timeout: 60_000 }, async () => {
    const home = tempDir('phi-home-');
    const maildir = path.join(home, 'Maildir');
    for (const sub of ['cur', 'new']) {
      mkdirSync(path.join(maildir, sub), { recursive: true });
      const from = path.join(DEMO, 'maildir', 'billing', sub);
      for (const f of readdirSync(from)) copyFileSync(path.join(from, f), path.join(maildir, sub, f));
    }
    const r = await runCli(['scan', 'maildir:~/Maildir', '--format', 'jsonl'], { env: { HOME: home } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const mailbox = jsonLines(r.stdout).find((x) => x.type === 'mailbox');
    expect(mailbox).toMatchObject({ source: `maildir:${maildir}`, mailbox: 'Maildir' });
    expect(mailbox?.messages).toBeGreaterThan(0);
  });
});

describe('one error prefix', () => {
  it('commander\'s usage errors and ours both start with "phi-scan: "', async () => {
    for (const args of [['scan', '--bogus'], ['diff', '1'], ['scan', '--min-confidence', 'extreme', 'mbox:x'], ['scan', 'mbox:/nonexistent/x.mbox']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^phi-scan: /);
      expect(r.stderr, args.join(' ')).not.toMatch(/^error:/m);
    }
  });
});

describe('wrong inputs said clearly', () => {
  it('eml: given an mbox file says to scan it as mbox:', async () => {
    const file = path.join(tempDir(), 'export.eml');
    writeFileSync(file, msg('a', 'hi') + msg('b', 'there'));
    const r = await runCli(['scan', `eml:${file}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`phi-scan: eml:${file}: this is an mbox file (it starts with a "From " line), not a single message: scan it as mbox:${file}\n`);
    expect(r.stdout).toBe('');
  });

  it('a .mbox.gz says it is compressed and how to decompress it', async () => {
    const file = path.join(tempDir(), 'archive.mbox.gz');
    writeFileSync(file, gzipSync(msg('a', 'SSN: 489-36-8350')));
    const r = await runCli(['scan', `mbox:${file}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`phi-scan: mbox:${file}: the file is gzip-compressed`);
    expect(r.stderr).toContain(`gunzip -k ${file}), then scan mbox:${file.slice(0, -3)}`);
  });

  it('a compressed file inside an mbox folder is named in a warning, not skipped silently', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.mbox'), msg('a', 'hello'));
    writeFileSync(path.join(dir, 'old.mbox.gz'), gzipSync(msg('b', 'hello')));
    const r = await runCli(['scan', `mbox:${dir}`, '--format', 'jsonl']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`phi-scan: warning: mbox:${dir}: ${path.join(dir, 'old.mbox.gz')} is compressed and is not scanned: decompress it to scan it\n`);
  });

  it('maildir: given a file says a Maildir is a folder', async () => {
    const file = path.join(tempDir(), 'box.mbox');
    writeFileSync(file, msg('a', 'hello'));
    const r = await runCli(['scan', `maildir:${file}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a Maildir is a folder .*scan it as mbox:/);
  });
});

describe('phi-scan runs', () => {
  it('lists every run with id, time, sources, status and counts', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const state = tempDir();
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'hello'));
    expect((await runCli(['scan', `mbox:${file}`], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    expect((await runCli(['scan', `mbox:${file}`, '--since-last'], { env: { PHI_SCAN_STATE: state } })).code).toBe(0);
    const r = await runCli(['runs', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(r.code).toBe(0);
    const runs = jsonLines(r.stdout);
    expect(runs).toEqual([
      expect.objectContaining({ type: 'run', id: 1, status: 'complete', sources: [`mbox:${file}`], sinceLast: false, messages: 2, messagesWithPhi: 1, errors: 0 }),
      expect.objectContaining({ type: 'run', id: 2, status: 'complete', sources: [`mbox:${file}`], sinceLast: true, messages: 0, messagesWithPhi: 0, errors: 0 }),
    ]);
    for (const run of runs) expect(String(run.startedAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
    const table = await runCli(['runs'], { env: { PHI_SCAN_STATE: state } });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN +STARTED \(UTC\) +STATUS +MESSAGES +WITH PHI +ERRORS +SOURCES$/);
    expect(lines[1]).toMatch(new RegExp(`^ +1  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  complete +2 +1 +0  mbox:${file}$`));
    expect(lines[2]).toMatch(/complete +0 +0 +0 .*\(--since-last\)$/);
    const last = await runCli(['runs', '--last', '1', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(jsonLines(last.stdout).map((x) => x.id)).toEqual([2]);
  });

  it('without a state database says where it looked, exit 2', async () => {
    const r = await runCli(['runs'], { env: { PHI_SCAN_STATE: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^phi-scan: .*no state database yet/);
  });
});

describe('--help and the README agree on defaults', () => {
  it('--threads and the size options', async () => {
    const help = (await runCli(['scan', '--help'])).stdout.replace(/\s+/g, ' ');
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const row = (flag: string): string => readme.split('\n').find((l) => l.startsWith(`| \`${flag}`)) ?? '';
    expect(help).toContain('(default: CPU cores - 1, at least 1)');
    expect(row('--threads')).toContain('CPU cores − 1');
    for (const flag of ['--max-message-size', '--max-attachment-size']) {
      expect(help).toMatch(new RegExp(`${flag} <size> [^-]*\\(default: 50MB\\)`));
      expect(row(flag)).toContain('default `50MB`');
    }
    expect(help).not.toContain('52428800');
  });
});
