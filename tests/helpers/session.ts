/**
 * A scan through the library (`runScanSession`, src/index.ts): the session the CLI's `scan` runs
 * (state store, outputs, records), in this process, with its stdout and stderr captured. For tests
 * about what a scan finds and reports; what only a process shows (exit codes of usage errors,
 * argv parsing, signals, pipes) stays with `runCli` (tests/cli/contract.test.ts and friends).
 */
import { Writable } from 'node:stream';
import { runScanSession, type ScanSettingsInput } from '../../src/index.js';
import { TEST_KEY, tempDir, type CliResult } from './cli.js';

/** A stream that keeps what is written to it, like a pipe (not a terminal). */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * Runs one scan session with the key and a fresh state folder the CLI helper gives (`env` may
 * set PHI_SCAN_STATE and others), on the main thread unless `threads` is given: worker threads
 * are pool.test.ts's subject and give the same records. Resolves as `runCli` does: the exit
 * status, stdout and stderr.
 */
export async function scanInProcess(settings: ScanSettingsInput, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runScanSession(
    { threads: 0, ...settings },
    { stdout, stderr, env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-state-'), ...env } },
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}
