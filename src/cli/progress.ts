/** One progress line on stderr, only when stderr is a terminal (cron and pipes get nothing). */
import type { WriteStream } from 'node:tty';
import type { Progress } from '../pipeline/run.js';
import { stripControls } from '../findings/names.js';

const INTERVAL_MS = 250;

export function progressReporter(stream: WriteStream): { update: (p: Progress) => void; done: () => void } {
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < INTERVAL_MS) return;
      last = now;
      const seconds = Math.max(p.elapsedMs / 1000, 0.001);
      // The mailbox comes from a file or folder name: no control sequence reaches the terminal.
      const line = `scanning ${stripControls(p.mailbox)}: ${p.messages.toLocaleString('en-US')} messages, ${(p.bytes / 1e6).toFixed(1)} MB, ${Math.round(p.messages / seconds)} msg/s`;
      stream.write(`\r${line.slice(0, Math.max(20, (stream.columns || 80) - 1))}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
