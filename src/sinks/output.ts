/** A text output (stdout or a file) that respects backpressure. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

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
