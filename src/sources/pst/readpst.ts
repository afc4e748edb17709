/**
 * readpst (Debian/Ubuntu pst-utils, libpst; GPL, so only ever run as a separate process) expands
 * one PST/OST into a private temp folder: one `.eml` per message (attachments and embedded
 * messages inside it as MIME parts), `.ics` per appointment, `.vcf` per contact, in a folder
 * tree mirroring the store's. It reads Unicode and ANSI files, OSTs and embedded messages.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScanError } from '../../common/errors.js';

/** The binary: `PHI_SCAN_READPST` names another one (a path), else `readpst` from PATH. */
export function readpstBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.PHI_SCAN_READPST && env.PHI_SCAN_READPST !== '' ? env.PHI_SCAN_READPST : 'readpst';
}

export const READPST_MISSING =
  'readpst was not found: the pst: source needs it (Debian/Ubuntu: apt-get install pst-utils; or set PHI_SCAN_READPST to its path)';

/** Fails with a usage-class error (exit 2) when readpst cannot be run at all. */
export async function checkReadpst(binary: string): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn(binary, ['-V'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
  if (!ok) throw new ScanError('config', READPST_MISSING);
}

export class ReadpstFailed extends Error {
  override readonly name = 'ReadpstFailed';
  /** The failure is ours (temp disk), not the file's. */
  constructor(
    message: string,
    readonly environment = false,
  ) {
    super(message);
  }
}

/**
 * `-e` one file per item with extensions; `-D` deleted items too (an audit wants them);
 * `-8` UTF-8 bodies; `-b` no `rtf-body.rtf` copies of bodies already given as text/HTML;
 * `-q` quiet; `-j 0` no forked workers: with them readpst may exit before every item is written
 * (seen: 70 of 71 on a loaded machine), and the listing must be complete and the same on every
 * run, since a cursor is an index into it. Its stdout is never connected to ours.
 */
const READPST_ARGS = ['-e', '-D', '-8', '-b', '-q', '-j', '0'];

/** Creates a private (0700) temp folder; the caller removes it with `removeExpansion`. */
export async function makeExpansionDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'phi-scan-pst-'));
}

export async function removeExpansion(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A time limit, so a file that sends readpst into a loop cannot stall the scan: generous (readpst
 * expands 24-100 MB/s here), 2 minutes plus 2 s per MB.
 */
export function readpstTimeLimitMs(bytes: number): number {
  return 120_000 + Math.ceil(bytes / (1024 * 1024)) * 2_000;
}

/** Below this much free space where the expansion lives, a readpst failure is put down to a full disk. */
const DISK_FULL_BYTES = 16 * 1024 * 1024;

export async function expandPst(binary: string, file: string, outDir: string, options: { signal?: AbortSignal; timeLimitMs?: number } = {}): Promise<void> {
  const timeLimitMs = options.timeLimitMs ?? readpstTimeLimitMs((await stat(file)).size);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, [...READPST_ARGS, '-o', outDir, path.resolve(file)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeLimitMs);
    // stderr is drained and never shown: it may name folders or subjects.
    child.stderr.resume();
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.name === 'AbortError') reject(new ReadpstFailed('stopped'));
      else if (err.code === 'ENOENT') reject(new ScanError('config', READPST_MISSING));
      else reject(new ReadpstFailed(`readpst could not be started (${err.code ?? 'error'})`));
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else if (timedOut) reject(new ReadpstFailed(`readpst did not finish within ${Math.round(timeLimitMs / 1000)} s`));
      else {
        void diskFull(outDir).then((full) =>
          reject(
            full
              ? new ReadpstFailed('the temp folder is full (TMPDIR needs room for the expanded file)', true)
              : new ReadpstFailed(sig ? `readpst was stopped by ${sig}` : `readpst could not read the file (exit status ${code ?? '?'})`),
          ),
        );
      }
    });
  });
}

async function diskFull(dir: string): Promise<boolean> {
  try {
    const fs = await statfs(dir);
    return fs.bavail * fs.bsize < DISK_FULL_BYTES;
  } catch {
    return false;
  }
}
