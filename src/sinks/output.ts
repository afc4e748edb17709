/** A text output (stdout or a file) that respects backpressure. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface TextOutput {
  write(text: string): Promise<void>;
  end(): Promise<void>;
}

export function textOutput(stream: Writable, closeAtEnd: boolean): TextOutput {
  return {
    async write(text: string): Promise<void> {
      if (!stream.write(text)) await once(stream, 'drain');
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
