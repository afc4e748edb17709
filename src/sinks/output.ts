/** A text output (stdout, a file) that respects backpressure or writes synchronously; report files are private (0600). */
import { once } from 'node:events';
import { constants as fsConstants, writeSync } from 'node:fs';
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
  let regular: boolean;
  try {
    regular = (await handle.stat()).isFile();
    if (regular) {
      await handle.chmod(0o600);
      await handle.truncate(0);
    }
  } catch (err) {
    await handle.close();
    throw new ScanError('usage', `${file}: cannot write (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  return regular ? fileOutput(handle) : textOutput(handle.createWriteStream(), true);
}

/**
 * A regular file is written synchronously, as Node writes stdout redirected to a file: a write
 * stream turns each chunk (a roster message's JSONL is megabytes) into a Buffer that V8 frees
 * only at a later GC — ~30–40 MB more peak on PHI-dense mail than stdout (README, Peak RSS).
 * A FIFO or a device keeps the stream: its reader may be slow.
 */
function fileOutput(handle: FileHandle): TextOutput {
  return {
    async write(text: string): Promise<void> {
      const bytes = Buffer.byteLength(text);
      const written = writeSync(handle.fd, text);
      if (written < bytes) {
        // A short write (a signal): the rest, from the bytes.
        const rest = Buffer.from(text).subarray(written);
        for (let at = 0; at < rest.length; ) at += writeSync(handle.fd, rest, at);
      }
    },
    end: () => handle.close(),
  };
}

export { ensurePrivateFile } from '../common/private-file.js';
