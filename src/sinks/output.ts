/** A text output (stdout or a file) that respects backpressure; report files are private (0600). */
import { once } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ScanError } from '../common/errors.js';

export interface TextOutput {
  write(text: string): Promise<void>;
  end(): Promise<void>;
}

/**
 * `dropWhenClosed` (stdout): once the reader went away (EPIPE: `scan | head`), writes are dropped
 * instead of failing or waiting for a 'drain' that never comes; the command stops the scan and
 * marks the run (cli/program.ts). A file that fails still fails.
 */
export function textOutput(stream: Writable, closeAtEnd: boolean, dropWhenClosed = false): TextOutput {
  return {
    async write(text: string): Promise<void> {
      if (dropWhenClosed && (stream.destroyed || stream.errored)) return;
      if (stream.write(text)) return;
      try {
        await once(stream, 'drain');
      } catch (err) {
        if (!dropWhenClosed) throw err;
      }
    },
    async end(): Promise<void> {
      if (!closeAtEnd) return;
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
    },
  };
}

/**
 * Opens a report file for writing as only its owner may read it: created 0600, an existing file
 * set to 0600 before anything is written, a symbolic link refused (O_NOFOLLOW: `--out` must not
 * overwrite what a link points at). A FIFO or a device (`/dev/null`) is written as it is.
 */
export async function openPrivateOutput(file: string): Promise<TextOutput> {
  const { O_CREAT, O_NOFOLLOW, O_WRONLY } = fsConstants;
  let handle: FileHandle;
  try {
    // Truncation waits until the file is known to be ours to write: no O_TRUNC here.
    handle = await open(file, O_WRONLY | O_CREAT | O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ScanError('usage', `${file}: cannot write (${code === 'ELOOP' ? 'a symbolic link; give the real path' : (code ?? 'I/O error')})`);
  }
  try {
    const st = await handle.stat();
    if (st.isFile()) {
      await handle.chmod(0o600);
      await handle.truncate(0);
    }
  } catch (err) {
    await handle.close();
    throw new ScanError('usage', `${file}: cannot write (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  return textOutput(handle.createWriteStream(), true);
}

export { ensurePrivateFile } from '../common/private-file.js';
