/**
 * readpst (Debian/Ubuntu pst-utils, libpst; GPL, so only ever run as a separate process) expands
 * one PST/OST into a private temp folder: one `.eml` per message (attachments and embedded
 * messages inside it as MIME parts), `.ics` per appointment, `.vcf` per contact, in a folder
 * tree mirroring the store's. It reads Unicode and ANSI files, OSTs and embedded messages.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScanError } from '../../shared/errors.js';

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

export async function expandPst(binary: string, file: string, outDir: string, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, [...READPST_ARGS, '-o', outDir, path.resolve(file)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(signal ? { signal } : {}),
    });
    // stderr is read only to be drained: it may name folders or subjects, so it is never shown.
    child.stderr.resume();
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') reject(new ReadpstFailed('stopped'));
      else if (err.code === 'ENOENT') reject(new ScanError('config', READPST_MISSING));
      else reject(new ReadpstFailed(`readpst could not be started (${err.code ?? 'error'})`));
    });
    child.once('close', (code, sig) => {
      if (code === 0) resolve();
      else reject(new ReadpstFailed(sig ? `readpst was stopped by ${sig}` : `readpst could not read the file (exit status ${code ?? '?'})`));
    });
  });
}
