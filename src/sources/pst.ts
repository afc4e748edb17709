/**
 * `pst:PATH` — an Outlook PST/OST export, or every `.pst`/`.ost` below a folder (one mailbox per
 * file, named after the file). Read with readpst (see pst/readpst.ts) into a private temp folder,
 * then each item is handed on as MIME bytes, so bodies, attachments and embedded messages go
 * through the same parser as every other source.
 *
 * A file up to PHI_SCAN_PST_RANGE_BYTES is one unit; a larger one is one unit per range of that
 * many nominal bytes (pst/ranges.ts), so `scan --queue` spreads one huge export over workers.
 * readpst expands a whole file at once: the units of one file share one expansion per source
 * (pst/cache.ts), kept while a unit of it runs and shortly after, at most EXPANSIONS_AT_ONCE on
 * disk; a one-unit file's expansion is removed as soon as its unit ends. Each message names its
 * own folder (`Inbox/Projects`). Listing units never expands a file.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, CursorAdvance, SourceUnit, UnitItem } from '../model/message.js';
import type { Problem } from '../model/problem.js';
import { ScanError } from '../common/errors.js';
import { baseNameWithoutExtension, readMessageFile, statOrThrow, walkTree } from './files.js';
import { NotAPstError, readPstHeader, type PstHeader } from './pst/header.js';
import { ExpansionCache } from './pst/cache.js';
import { stableBoundaries, wrapItem } from './pst/items.js';
import { itemsInRange, pstRanges } from './pst/ranges.js';
import { checkReadpst, readpstBinary } from './pst/readpst.js';
import type { Source, SourceOptions, UnitProblem } from './types.js';

const isPstFile = (file: string): boolean => /\.(pst|ost)$/i.test(file);

/** Two: readpst expands the next file while the current one is scanned, and no more is on disk. */
const EXPANSIONS_AT_ONCE = 2;

/**
 * A PST larger than this is read as units of this many nominal bytes (pst/ranges.ts):
 * PHI_SCAN_PST_RANGE_BYTES overrides it; 0 never splits. Read where units are listed (the
 * coordinator, or the one-process scan); a worker reads the range its job names.
 */
export const DEFAULT_PST_RANGE_BYTES = 256 * 1024 * 1024;

function rangeBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.PHI_SCAN_PST_RANGE_BYTES;
  const n = text === undefined || text.trim() === '' ? NaN : Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : DEFAULT_PST_RANGE_BYTES;
}

/**
 * Cursor: `pst1:IDENTITY:N` (the first N items in order are done) or `pst1:IDENTITY:done`.
 * IDENTITY is the file's size, mtime and header hash: a changed file is scanned again from the start.
 */
interface PstCursor {
  readonly identity: string;
  readonly done: number | 'all';
}

function parseCursor(cursor: string | undefined): PstCursor | undefined {
  const m = cursor ? /^pst1:([^:]+):(\d+|done)$/.exec(cursor) : null;
  if (!m || !m[1] || !m[2]) return undefined;
  return { identity: m[1], done: m[2] === 'done' ? 'all' : Number(m[2]) };
}

/** An `error` record in the unit's stream; the cursor stays where it is. */
const problemItem = (problem: Problem): CursorAdvance => ({ kind: 'cursor', cursor: '', problem });
const corrupt = (message: string): CursorAdvance => problemItem({ code: 'pst-corrupt', message });

export function pstSource(spec: string, target: string, options: SourceOptions): Source {
  const binary = readpstBinary();
  const cache = new ExpansionCache(binary, EXPANSIONS_AT_ONCE);

  return {
    kind: 'pst',
    spec,
    async units(report: (problem: UnitProblem) => void): Promise<SourceUnit[]> {
      const st = await statOrThrow(target);
      const files: string[] = [];
      if (st.isFile()) {
        // A single file that is no PST is bad usage (exit 2); inside a folder it is one error record.
        try {
          await readPstHeader(target);
        } catch (err) {
          const why = err instanceof NotAPstError ? err.message : 'cannot read its header';
          throw new ScanError('source-invalid', `${target}: ${why}`, { source: spec, path: target });
        }
        files.push(target);
      } else {
        let unreadable = 0;
        for await (const item of walkTree(target)) {
          if (item.kind === 'file') {
            if (isPstFile(item.path)) files.push(item.path);
          } else {
            // a subfolder, a PST/OST, or an entry that may have been either (a link to nowhere): said, not skipped
            unreadable++;
            const relative = path.relative(target, item.path).split(path.sep).join('/');
            const what = item.folder ? 'folder' : isPstFile(item.path) ? 'PST file' : 'entry';
            report({
              mailbox: options.mailbox ?? (what === 'PST file' ? baseNameWithoutExtension(item.path) : relative),
              ...(options.mailbox !== undefined ? { folder: relative } : {}),
              problem: { code: 'read-failed', message: `${what} ${item.reason}; not scanned` },
            });
          }
        }
        if (files.length === 0 && unreadable > 0) return [];
        if (files.length === 0) {
          throw new ScanError('source-invalid', `${target}: no .pst or .ost files found below this folder`, { source: spec, path: target });
        }
      }
      await checkReadpst(binary);
      const bytes = rangeBytes();
      const units: SourceUnit[] = [];
      for (const file of files) {
        // With --mailbox, the files of a folder are parts of that one mailbox: their relative
        // paths (without extension) lead their folder names, so two files' Inboxes stay apart.
        const relative = st.isFile() ? '' : path.relative(target, file).replace(/\.(pst|ost)$/i, '').split(path.sep).join('/');
        const unit: SourceUnit = {
          id: `pst:${path.resolve(file)}`,
          source: spec,
          mailbox: options.mailbox ?? baseNameWithoutExtension(file),
          folder: options.mailbox !== undefined ? relative : '',
          ref: file,
          ...(options.mailbox === undefined ? { origin: path.resolve(file) } : {}),
        };
        // A file that cannot be sized now is one unit: reading it says why.
        const size = bytes > 0 ? await stat(file).then((s) => s.size, () => 0) : 0;
        const ranges = pstRanges(size, bytes);
        if (ranges.length === 1) units.push(unit);
        // The first range keeps the file's unit id, so its checkpoint stays valid when a file grows past the size.
        else for (const range of ranges) units.push({ ...unit, id: range.start === 0 ? unit.id : `${unit.id}#${range.start}`, range });
      }
      return units;
    },

    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem> {
      // The place in line is taken first, so files are expanded in unit order (the output's order).
      const turn = cache.turn();
      // What concerns the whole file (unreadable, truncated, readpst failed) is said once, by its first unit.
      const first = unit.range === undefined || unit.range.start === 0;
      let release: ((keep: boolean) => Promise<void>) | undefined;
      try {
        let header: PstHeader;
        try {
          header = await readPstHeader(unit.ref);
        } catch (err) {
          if (!first) return;
          if (err instanceof NotAPstError) yield corrupt(err.message);
          else yield problemItem({ code: 'read-failed', message: `PST file ${describe(err)}` });
          return;
        }
        const cursor = parseCursor(after?.cursor);
        const resume = cursor && cursor.identity === header.identity ? cursor.done : 0;
        if (resume === 'all') return; // unchanged since the last complete scan: nothing is new
        if (first && header.declaredSize > header.actualSize) {
          yield corrupt(
            `file is truncated (${header.actualSize} of ${header.declaredSize} bytes; a partial copy?): only what readpst can still read is scanned`,
          );
        }
        if (options.signal?.aborted) return;
        const held = await cache.acquire(turn, `${path.resolve(unit.ref)}\0${header.identity}`, unit.ref, options.signal);
        release = held.release;
        if (!held.result.ok) {
          const err = held.result.error;
          if (options.signal?.aborted || !first) return;
          yield err.environment ? problemItem({ code: 'read-failed', message: err.message }) : corrupt(`${err.message} (damaged, or not a PST/OST)`);
          return;
        }
        const items = held.result.value.items;
        const { from, to } = unit.range ? itemsInRange(items.map((i) => i.size), header.actualSize, unit.range) : { from: 0, to: items.length };
        for (let i = Math.max(from, resume); i < to; i++) {
          const item = items[i];
          if (!item) break;
          const read = await readMessageFile(item.file, item.size, options.maxMessageBytes);
          const bytes = read.oversize ? read.bytes : item.kind === 'message' ? stableBoundaries(read.bytes) : wrapItem(item.kind, read.bytes);
          const folder = unit.folder !== '' ? `${unit.folder}/${item.folder}` : item.folder;
          yield {
            unit: folder === unit.folder ? unit : { ...unit, folder },
            locator: `${unit.ref}#${item.relative}`,
            size: item.size,
            bytes,
            ...(read.oversize ? { oversize: read.oversize } : {}),
            cursor: `pst1:${header.identity}:${i + 1}`,
          };
        }
        yield { kind: 'cursor', cursor: `pst1:${header.identity}:done` };
      } finally {
        turn.done();
        // A range's expansion is kept a while for the file's other ranges; a whole file's is not.
        await release?.(unit.range !== undefined && !options.signal?.aborted);
      }
    },

    async close(): Promise<void> {
      // Units release their expansions; this removes those kept for other ranges, or left by an abandoned unit.
      await cache.clear();
    },
  };
}

function describe(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  return `cannot read (${code || 'I/O error'})`;
}
