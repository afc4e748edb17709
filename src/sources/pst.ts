/**
 * `pst:PATH` — an Outlook PST/OST export, or every `.pst`/`.ost` below a folder (one mailbox per
 * file, named after the file). Read with readpst (see pst/readpst.ts) into a private temp folder,
 * then each item is handed on as MIME bytes, so bodies, attachments and embedded messages go
 * through the same parser as every other source.
 *
 * One unit is one file: readpst expands a whole file at once, so a unit per folder would expand
 * it once per folder or hold its expansion across units. Each message names its own folder
 * (`Inbox/Projects`). At most EXPANSIONS_AT_ONCE files are expanded at a time per source, and an
 * expansion is removed as soon as its unit ends (finished, failed or stopped), so temp disk is
 * bounded by the largest files, not by the size of the export folder.
 */
import path from 'node:path';
import type { Checkpoint, CursorAdvance, SourceUnit, UnitItem } from '../model/message.js';
import type { Problem } from '../model/problem.js';
import { ScanError } from '../shared/errors.js';
import { baseNameWithoutExtension, readMessageFile, statOrThrow, walkTree } from './files.js';
import { NotAPstError, readPstHeader, type PstHeader } from './pst/header.js';
import { listItems, stableBoundaries, wrapItem } from './pst/items.js';
import { ReadpstFailed, checkReadpst, expandPst, makeExpansionDir, readpstBinary, removeExpansion } from './pst/readpst.js';
import type { Source, SourceOptions, UnitProblem } from './types.js';

const isPstFile = (file: string): boolean => /\.(pst|ost)$/i.test(file);

/** Two: readpst expands the next file while the current one is scanned, and no more is on disk. */
const EXPANSIONS_AT_ONCE = 2;

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

/** A small counting semaphore: expansions held at once by one source. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** An `error` record in the unit's stream; the cursor stays where it is. */
const problemItem = (problem: Problem): CursorAdvance => ({ kind: 'cursor', cursor: '', problem });
const corrupt = (message: string): CursorAdvance => problemItem({ code: 'pst-corrupt', message });

export function pstSource(spec: string, target: string, options: SourceOptions): Source {
  const binary = readpstBinary();
  const slots = new Slots(EXPANSIONS_AT_ONCE);
  const expansions = new Set<string>();

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
      return files.map((file) => {
        // With --mailbox, the files of a folder are parts of that one mailbox: their relative
        // paths (without extension) lead their folder names, so two files' Inboxes stay apart.
        const relative = st.isFile() ? '' : path.relative(target, file).replace(/\.(pst|ost)$/i, '').split(path.sep).join('/');
        return {
          id: `pst:${path.resolve(file)}`,
          source: spec,
          mailbox: options.mailbox ?? baseNameWithoutExtension(file),
          folder: options.mailbox !== undefined ? relative : '',
          ref: file,
          ...(options.mailbox === undefined ? { origin: path.resolve(file) } : {}),
        };
      });
    },

    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem> {
      // The slot is taken first, so files are expanded in unit order (the output's order).
      await slots.acquire();
      let dir: string | undefined;
      try {
        let header: PstHeader;
        try {
          header = await readPstHeader(unit.ref);
        } catch (err) {
          if (err instanceof NotAPstError) yield corrupt(err.message);
          else yield problemItem({ code: 'read-failed', message: `PST file ${describe(err)}` });
          return;
        }
        const cursor = parseCursor(after?.cursor);
        const resume = cursor && cursor.identity === header.identity ? cursor.done : 0;
        if (resume === 'all') return; // unchanged since the last complete scan: nothing is new
        if (header.declaredSize > header.actualSize) {
          yield corrupt(
            `file is truncated (${header.actualSize} of ${header.declaredSize} bytes; a partial copy?): only what readpst can still read is scanned`,
          );
        }
        if (options.signal?.aborted) return;
        dir = await makeExpansionDir();
        expansions.add(dir);
        try {
          await expandPst(binary, unit.ref, dir, options.signal ? { signal: options.signal } : {});
        } catch (err) {
          if (err instanceof ReadpstFailed) {
            if (options.signal?.aborted) return;
            yield err.environment ? problemItem({ code: 'read-failed', message: err.message }) : corrupt(`${err.message} (damaged, or not a PST/OST)`);
            return;
          }
          throw err;
        }
        const items = await listItems(dir);
        for (const [i, item] of items.entries()) {
          if (i < resume) continue;
          const size = (await statOrThrow(item.file)).size;
          const read = await readMessageFile(item.file, size, options.maxMessageBytes);
          const bytes = read.oversize ? read.bytes : item.kind === 'message' ? stableBoundaries(read.bytes) : wrapItem(item.kind, read.bytes);
          const folder = unit.folder !== '' ? `${unit.folder}/${item.folder}` : item.folder;
          yield {
            unit: folder === unit.folder ? unit : { ...unit, folder },
            locator: `${unit.ref}#${item.relative}`,
            size,
            bytes,
            ...(read.oversize ? { oversize: read.oversize } : {}),
            cursor: `pst1:${header.identity}:${i + 1}`,
          };
        }
        yield { kind: 'cursor', cursor: `pst1:${header.identity}:done` };
      } finally {
        if (dir !== undefined) {
          await removeExpansion(dir);
          expansions.delete(dir);
        }
        slots.release();
      }
    },

    async close(): Promise<void> {
      // Units normally remove their own expansions; this catches any left by an abandoned unit.
      await Promise.all([...expansions].map((dir) => removeExpansion(dir)));
      expansions.clear();
    },
  };
}

function describe(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  return `cannot read (${code || 'I/O error'})`;
}
