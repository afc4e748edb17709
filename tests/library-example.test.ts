/** README "Library API": examples/library.mjs runs against the built package and prints what it says. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers/cli.js';
import { existsSync } from 'node:fs';

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples/library.mjs', () => {
  it('scans the billing demo mailbox through scan(), counts per category, and redacts with createEngine()', { timeout: 60_000 }, async () => {
    expect(existsSync(CLI), 'run npm run build first').toBe(true);
    const { code, stdout, stderr } = await run(path.join(ROOT, 'examples', 'library.mjs'));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    // The demo's billing mailbox: 10 messages, 6 of them hold PHI (fixtures/README.md).
    expect(lines[0]).toBe('10 messages, 6 with PHI, exit code 1');
    expect(lines).toContain('  ssn: 2');
    // redact(): the identifiers are masked, the words around them kept.
    const redacted = lines.at(-1) ?? '';
    expect(redacted).toMatch(/^Patient DOB .*SSN .*member ID /);
    for (const raw of ['536-90-4399', '03/14/1962', 'W123456789']) expect(stdout).not.toContain(raw);
  });
});
