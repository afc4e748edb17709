/** One progress line on stderr, only when stderr is a terminal (cron and pipes get nothing). */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { WriteStream } from 'node:tty';
import type { Progress } from '../pipeline/run.js';
import { stripControls } from '../findings/names.js';

const INTERVAL_MS = 250;

/** "1h 02m", "3m 05s", "12s". */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * `totalBytes` (when known: see estimateTotalBytes) adds the percentage done and the time left,
 * from the bytes read so far; the percentage stays below 100 until the scan ends.
 */
export function progressReporter(
  stream: WriteStream,
  totalBytes?: () => number | undefined,
): { update: (p: Progress) => void; status: (line: string) => void; done: () => void } {
  let last = 0;
  let shown = false;
  const show = (line: string): void => {
    stream.write(`\r${line.slice(0, Math.max(20, (stream.columns || 80) - 1))}\x1b[K`);
    shown = true;
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - last < INTERVAL_MS) return;
      last = now;
      const seconds = Math.max(p.elapsedMs / 1000, 0.001);
      // The mailbox comes from a file or folder name: no control sequence reaches the terminal.
      let line = `scanning ${stripControls(p.mailbox)}: ${p.messages.toLocaleString('en-US')} ${p.messages === 1 ? 'message' : 'messages'}, ${(p.bytes / 1e6).toFixed(1)} MB, ${Math.round(p.messages / seconds)} msg/s`;
      const total = totalBytes?.();
      if (total !== undefined && total > 0 && p.bytes > 0) {
        const done = Math.min(p.bytes / total, 0.99);
        const left = (seconds * (1 - done)) / done;
        line = `${Math.floor(done * 100)}% ${line}, ${duration(left)} left`;
      }
      show(line);
    },
    /** A line of its own in place of the counts (what the scan is doing after its messages). */
    status: show,
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/**
 * A count against a known total (`remediate`: messages read again of the plan's), with the rate
 * and the time left, at most every INTERVAL_MS; `done` clears it (before other output, and at the end).
 */
export function countProgress(stream: WriteStream, what: string, total: number): { tick: () => void; done: () => void } {
  const line = progressReporter(stream);
  const started = Date.now();
  let last = 0;
  let n = 0;
  return {
    tick() {
      n++;
      const now = Date.now();
      if (now - last < INTERVAL_MS) return;
      last = now;
      const seconds = Math.max((now - started) / 1000, 0.001);
      const left = n < total ? `, ${duration(((total - n) * seconds) / n)} left` : '';
      line.status(`${what}: ${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} messages, ${Math.round(n / seconds)} msg/s${left}`);
    },
    done: line.done,
  };
}

/** Files counted at most, so a huge tree does not delay the scan; beyond it the size is unknown. */
const MAX_FILES = 200_000;

/**
 * The bytes a scan of these sources will read, when that is known up front: mbox, Maildir and
 * EML sources are files whose sizes add up to what the scan reads. IMAP, Graph and PST (its
 * messages are not its bytes) make it unknown, and so does --since-last (only part is read).
 */
export async function estimateTotalBytes(sources: readonly string[], sinceLast: boolean): Promise<number | undefined> {
  if (sinceLast) return undefined;
  let total = 0;
  let files = 0;
  const walk = async (p: string): Promise<boolean> => {
    const s = await stat(p);
    if (s.isFile()) {
      total += s.size;
      return ++files <= MAX_FILES;
    }
    if (!s.isDirectory()) return true;
    for (const e of await readdir(p)) if (!(await walk(path.join(p, e)))) return false;
    return true;
  };
  try {
    for (const source of sources) {
      const m = /^(mbox|maildir|eml):(.+)$/.exec(source);
      if (!m) return undefined;
      if (!(await walk(m[2] as string))) return undefined;
    }
  } catch {
    return undefined;
  }
  return total;
}
