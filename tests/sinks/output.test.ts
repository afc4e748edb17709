/**
 * Report files (sinks/output.ts): a regular file is written synchronously and completely, in
 * order, private and truncated; a symbolic link is refused; a device keeps the stream path.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPrivateOutput } from '../../src/sinks/output.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openPrivateOutput', () => {
  it('writes every chunk of a regular file in order, multi-megabyte ones and UTF-8 included; an old file is truncated and made 0600', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'phi-out-'));
    const file = path.join(dir, 'report.jsonl');
    writeFileSync(file, 'x'.repeat(10_000_000), { mode: 0o644 });
    const chunks = ['{"a":1}\n', `${'{"line":"é’ roster row"}\n'.repeat(200_000)}`, '', '{"z":2}\n', '{"masked":"•••-••-1234"}\n'];
    const out = await openPrivateOutput(file);
    // Text and bytes (the JSONL sink's encoded lines) in turn.
    for (const [i, c] of chunks.entries()) await (i % 2 === 0 ? out.write(c) : (out.writeBytes as (b: Uint8Array) => Promise<void>)(Buffer.from(c)));
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
