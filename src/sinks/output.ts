/** A text output (stdout, a file) that respects backpressure or writes synchronously; report files are private (0600). */
import { once } from 'node:events';
import { constants as fsConstants, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ScanError } from '../common/errors.js';

export interface TextOutput {
  write(text: string): Promise<void>;
  /** Text already encoded as UTF-8 (the JSONL sink's lines); an output without it is given the text. */
  writeBytes?(bytes: Uint8Array): Promise<void>;
  end(): Promise<void>;
}

/**
 * `dropWhenClosed` (stdout): once the reader went away (EPIPE: `scan | head`), writes are dropped
 * instead of failing or waiting for a 'drain' that never comes; the command stops the scan and
 * marks the run (cli/program.ts). A file that fails still fails.
 */
export function textOutput(stream: Writable, closeAtEnd: boolean, dropWhenClosed = false): TextOutput {
  const write = async (chunk: string | Uint8Array): Promise<void> => {
    if (dropWhenClosed && (stream.destroyed || stream.errored)) return;
    if (stream.write(chunk)) return;
    try {
      await once(stream, 'drain');
    } catch (err) {
      if (!dropWhenClosed) throw err;
    }
  };
  return {
    write,
    writeBytes: write,
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
  // A short write (a signal) is followed by the rest.
  const writeBytes = async (bytes: Uint8Array): Promise<void> => {
    for (let at = 0; at < bytes.length; ) at += writeSync(handle.fd, bytes, at);
  };
  return {
    write: (text: string) => writeBytes(Buffer.from(text)),
    writeBytes,
    end: () => handle.close(),
  };
}

export { ensurePrivateFile } from '../common/private-file.js';
