/** `mbox:PATH` — one mbox file, or every mbox file below a folder (one mailbox per file). */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, RawMessage, SourceUnit } from '../model/message.js';
import { ScanError, describeFsError } from '../common/errors.js';
import { baseNameWithoutExtension, fsReason, readHead, statOrThrow, walkTree } from './files.js';
import { NotAnMboxError, rangeStart, splitMbox } from './mbox-split.js';
import type { Source, SourceOptions, UnitProblem } from './types.js';

const READ_CHUNK = 1024 * 1024;

/**
 * An mbox file larger than this is read as byte-range units of this size (mbox-split.ts
 * rangeStart), so one huge archive spreads over the units a scan runs at once, or over queue
 * workers. PHI_SCAN_MBOX_RANGE_BYTES overrides it; 0 never splits.
 */
export const DEFAULT_MBOX_RANGE_BYTES = 128 * 1024 * 1024;

function rangeBytes(options: SourceOptions): number {
  if (options.mboxRangeBytes !== undefined) return options.mboxRangeBytes;
  const env = process.env.PHI_SCAN_MBOX_RANGE_BYTES;
  const n = env === undefined || env.trim() === '' ? NaN : Number(env);
  return Number.isSafeInteger(n) && n >= 0 ? n : DEFAULT_MBOX_RANGE_BYTES;
}

/**
 * One file as units: itself when small; else one unit per range of `bytes`. The first range
 * keeps the file's unit id (its checkpoint stays valid when a file grows past the size);
 * the others are named by their nominal start.
 */
function fileUnits(unit: SourceUnit, size: number, bytes: number): SourceUnit[] {
  if (bytes <= 0 || size <= bytes) return [unit];
  const units: SourceUnit[] = [];
  for (let start = 0; start < size; start += bytes) {
    const end = start + bytes < size ? start + bytes : undefined;
    units.push({ ...unit, id: start === 0 ? unit.id : `${unit.id}#${start}`, range: { start, ...(end !== undefined ? { end } : {}) } });
  }
  return units;
}

/** An mbox file starts with a From_ line (blank lines before it are tolerated by the splitter). */
async function looksLikeMbox(file: string): Promise<boolean> {
  const head = await readHead(file, 1024);
  return /^(?:\r?\n)*From /.test(head.toString('latin1'));
}

export function mboxSource(spec: string, target: string, options: SourceOptions): Source {
  return {
    kind: 'mbox',
    spec,
    async units(report: (problem: UnitProblem) => void): Promise<SourceUnit[]> {
      const st = await statOrThrow(target);
      if (st.isFile()) {
        const head = await readHead(target, 1024).catch((err: unknown) => {
          throw describeFsError(err, target);
        });
        if (head.length > 0 && !/^(?:\r?\n)*From /.test(head.toString('latin1'))) {
          throw new ScanError('source-invalid', `${target}: not an mbox file (does not start with a From_ line)`, {
            source: spec,
            path: target,
          });
        }
        const mailbox = options.mailbox ?? baseNameWithoutExtension(target);
        const origin = options.mailbox === undefined ? { origin: path.resolve(target) } : {};
        return fileUnits({ id: `mbox:${path.resolve(target)}`, source: spec, mailbox, folder: 'INBOX', ref: target, ...origin }, st.size, rangeBytes(options));
      }
      const units: SourceUnit[] = [];
      let unreadable = 0;
      for await (const item of walkTree(target)) {
        const relative = path.relative(target, item.path);
        // With --mailbox, the files are the folders of that one mailbox (a Thunderbird profile).
        const mailbox = options.mailbox ?? baseNameWithoutExtension(item.path);
        const folder = options.mailbox ? folderFromRelativePath(relative) : 'INBOX';
        let why: string | undefined;
        if (item.kind === 'unreadable') why = item.reason;
        else {
          try {
            if (!(await looksLikeMbox(item.path))) continue;
          } catch (err) {
            why = fsReason(err);
          }
        }
        if (why !== undefined) {
          // Whether it held mail cannot be known: it is said, not skipped. A folder's mailboxes
          // are unknown: it is named by its path below DIR.
          unreadable++;
          const what = item.kind === 'unreadable' && item.folder ? 'folder' : 'file';
          report({
            mailbox: options.mailbox ?? (what === 'folder' ? relative.split(path.sep).join('/') : mailbox),
            ...(options.mailbox ? { folder } : {}),
            problem: { code: 'read-failed', message: `${what} ${why}; ${what === 'folder' ? 'the mbox files in it are' : 'it is'} not scanned` },
          });
          continue;
        }
        const origin = options.mailbox === undefined ? { origin: path.resolve(item.path) } : {};
        const unit: SourceUnit = { id: `mbox:${path.resolve(item.path)}`, source: spec, mailbox, folder, ref: item.path, ...origin };
        const size = rangeBytes(options) > 0 ? await stat(item.path).then((s) => s.size, () => 0) : 0;
        units.push(...fileUnits(unit, size, rangeBytes(options)));
      }
      if (units.length === 0 && unreadable > 0) return units;
      if (units.length === 0) {
        throw new ScanError('source-invalid', `${target}: no mbox files found below this folder`, {
          source: spec,
          path: target,
        });
      }
      return units;
    },
    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<RawMessage> {
      // A range unit: the messages whose separator starts in [range.start, range.end).
      const limit = unit.range?.end ?? Infinity;
      let first = 0;
      try {
        if (unit.range) first = await firstSeparator(unit.ref, unit.range.start, limit);
      } catch (err) {
        throw new Error(`mbox file ${fsReason(err)}`);
      }
      const resume = after ? await validResumeOffset(unit.ref, after.cursor) : 0;
      // A checkpoint before this range (the file was rewritten) is not this range's: from its start.
      const start = Math.max(first, resume);
      if (start >= limit) return;
      const stream = createReadStream(unit.ref, { start, highWaterMark: READ_CHUNK, signal: options.signal });
      try {
        for await (const m of splitMbox(stream as AsyncIterable<Buffer>, {
          maxMessageBytes: options.maxMessageBytes,
          startOffset: start,
        })) {
          // The next range's first message: this range's last one ended at its separator.
          if (m.offset >= limit) break;
          yield {
            unit,
            locator: `${unit.ref}@${m.offset}`,
            size: m.size,
            bytes: m.bytes,
            ...(m.oversize ? { oversize: m.oversize } : {}),
            cursor: String(m.end),
          };
        }
      } catch (err) {
        // The text goes into an error record: it names no path (a file name may name a person).
        if (err instanceof NotAnMboxError) throw new ScanError('source-invalid', err.message, { source: unit.source, path: unit.ref });
        throw err instanceof ScanError ? err : new Error(`mbox file ${fsReason(err)}`);
      } finally {
        stream.destroy();
      }
    },
  };
}

/** The first separator in [start, limit) of a file (limit when there is none; 0 for start 0). */
async function firstSeparator(file: string, start: number, limit: number): Promise<number> {
  if (start <= 0) return 0;
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const read = async (buffer: Buffer, position: number): Promise<number> => (await handle.read(buffer, 0, buffer.length, position)).bytesRead;
    return await rangeStart(read, start, Math.min(limit, size));
  } finally {
    await handle.close();
  }
}

/**
 * A checkpoint offset is trusted only if a From_ line still starts there (or it is the end of
 * the file): a compacted or rewritten mbox is scanned again from the start.
 */
async function validResumeOffset(file: string, cursor: string): Promise<number> {
  const offset = Number(cursor);
  if (!Number.isSafeInteger(offset) || offset <= 0) return 0;
  try {
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      if (offset === size) return offset;
      if (offset > size) return 0;
      const head = Buffer.alloc(5);
      await handle.read(head, 0, 5, offset);
      return head.toString('latin1') === 'From ' ? offset : 0;
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

/** `Archives.sbd/2019` (Thunderbird) or `Archives/2019.mbox` → `Archives/2019`. */
function folderFromRelativePath(relative: string): string {
  return relative
    .split(path.sep)
    .map((part) => part.replace(/\.sbd$/i, '').replace(/\.mbox$/i, ''))
    .join('/');
}
