/** Runs the built CLI (dist/, compiled by `npm test` first) as a real process. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
/** Optional real-mail corpora (fixtures/corpora.ts): tests that use them call `optionalCorpus`. */
export { CORPORA, ENRON_MBOX, TORTURE_MBOX } from '../../fixtures/corpora.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = 'phi-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fixed key, so fingerprints are comparable between runs of one test. */
export const TEST_KEY = 'test-fingerprint-key-0123456789abcdef';

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; onStderr?: (soFar: string) => void } = {},
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-state-'), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Locally, a test that needs something outside the repository (a server binary such as dovecot,
 * redis-server, readpst) is skipped with a loud message; under CI=true a missing piece is a
 * failure, never a skip.
 */
export function requireOrSkip(what: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CI === 'true') throw new Error(`${what} is missing, and CI=true: this is a failure, not a skip`);
  process.stderr.write(`\n*** SKIPPED: ${what} is missing (tests that need it do not run locally) ***\n\n`);
  return false;
}

/** JSONL output with the times of its closing `run` record blanked: two scans of the same input compare equal byte for byte. */
export function withoutRunTimes(stdout: string): string {
  return stdout.replace(/^(\{"type":"run".*?)"startedAt":"[^"]*","finishedAt":"[^"]*"/gm, '$1"startedAt":"","finishedAt":""');
}

/**
 * An optional corpus (real-world mail in PHI_SCAN_CORPORA, never copied into the repository):
 * when it is absent the test is skipped with a loud message, also under CI=true, because a fresh
 * clone must pass on its own. Returns whether the corpus is there.
 */
export function optionalCorpus(what: string, present: boolean): boolean {
  if (present) return true;
  process.stderr.write(`\n*** SKIPPED: optional corpus ${what} is missing (set PHI_SCAN_CORPORA to the corpora folder to run this test) ***\n\n`);
  return false;
}
