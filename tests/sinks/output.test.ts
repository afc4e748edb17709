/**
 * Report files (sinks/output.ts): a regular file is written synchronously and completely, in
 * order, private and truncated; a symbolic link is refused; a device keeps the stream path.
 * stdout redirected to a file is written the same way, anything else through the stream.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, TEST_KEY, runCli, tempDir, withoutRunTimes } from '../helpers/cli.js';
import { DEMO } from '../helpers/demo.js';
import { openPrivateOutput, stdoutOutput } from '../../src/sinks/output.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openPrivateOutput', () => {
  it('writes every chunk of a regular file in order, multi-megabyte ones and UTF-8 included; an old file is truncated and made 0600', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'phi-out-'));
    const file = path.join(dir, 'report.jsonl');
    writeFileSync(file, 'x'.repeat(10_000_000), { mode: 0o644 });
    const chunks = ['{"a":1}\n', `${'{"line":"é’ roster row"}\n'.repeat(200_000)}`, '', '{"z":2}\n'];
    const out = await openPrivateOutput(file);
    for (const c of chunks) await out.write(c);
    await out.end();
    expect(readFileSync(file, 'utf8')).toBe(chunks.join(''));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a symbolic link and writes a device through the stream', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'phi-out-'));
    const target = path.join(dir, 'target');
    writeFileSync(target, 'keep');
    symlinkSync(target, path.join(dir, 'link'));
    await expect(openPrivateOutput(path.join(dir, 'link'))).rejects.toThrow(/a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep');
    const dev = await openPrivateOutput('/dev/null');
    await dev.write('{"a":1}\n');
    await dev.end();
  });
});

/** A stream that names a descriptor, as process.stdout does, and fails if written through. */
function stdoutLike(fd: number | undefined): Writable & { fd?: number } {
  const stream = new Writable({ write: (_chunk, _encoding, done) => done(new Error('written through the stream')) });
  return Object.assign(stream, { fd });
}

describe('stdoutOutput', () => {
  it('redirected to a regular file: every chunk in order from the strings, never through the stream', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'phi-out-'));
    const file = path.join(dir, 'scan.jsonl');
    const fd = openSync(file, 'w');
    try {
      const chunks = ['{"a":1}\n', `${'{"line":"é’ roster row"}\n'.repeat(200_000)}`, '', '{"z":2}\n'];
      const out = stdoutOutput(stdoutLike(fd));
      for (const c of chunks) await out.write(c);
      await out.end();
      expect(readFileSync(file, 'utf8')).toBe(chunks.join(''));
    } finally {
      closeSync(fd);
    }
  });

  it('a failed write goes to the stream\'s error listeners once, and later writes are dropped', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'phi-out-'));
    const file = path.join(dir, 'read-only.jsonl');
    writeFileSync(file, '');
    const fd = openSync(file, 'r'); // a regular file that cannot be written: EBADF, as a full disk would fail
    try {
      const stream = stdoutLike(fd);
      const errors: string[] = [];
      stream.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? 'error'));
      const out = stdoutOutput(stream);
      await out.write('{"a":1}\n');
      await out.write('{"b":2}\n');
      expect(errors).toEqual(['EBADF']);
      expect(readFileSync(file, 'utf8')).toBe('');
    } finally {
      closeSync(fd);
    }
  });

  it('a stream without a descriptor of a regular file is written through the stream', async () => {
    const through = new PassThrough();
    let text = '';
    through.setEncoding('utf8').on('data', (d: string) => (text += d));
    const out = stdoutOutput(through);
    await out.write('{"a":1}\n');
    await out.end();
    expect(text).toBe('{"a":1}\n');
  });
});

describe('scan > FILE', () => {
  it('writes to a redirected stdout the records a pipe gets', { timeout: 60_000 }, async () => {
    const source = `mbox:${path.join(DEMO, 'mbox')}`;
    const piped = await runCli(['scan', source, '--format', 'jsonl']);
    dir = mkdtempSync(path.join(os.tmpdir(), 'phi-out-'));
    const file = path.join(dir, 'scan.jsonl');
    const fd = openSync(file, 'w');
    let code: number | null;
    try {
      const child = spawn(process.execPath, [CLI, 'scan', source, '--format', 'jsonl'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-state-') },
        stdio: ['ignore', fd, 'ignore'],
      });
      code = await new Promise((resolve) => child.on('close', resolve));
    } finally {
      closeSync(fd);
    }
    expect(code).toBe(piped.code);
    expect(piped.stdout.split('\n').length).toBeGreaterThan(10);
    expect(withoutRunTimes(readFileSync(file, 'utf8'))).toBe(withoutRunTimes(piped.stdout));
  });
});
