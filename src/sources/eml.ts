/** `eml:PATH` — one .eml file, or a folder searched recursively for `*.eml` files. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, SourceUnit, UnitItem } from '../model/message.js';
import { ScanError } from '../common/errors.js';
import { baseNameWithoutExtension, fsReason, listEntries, readInNameOrder, statOrThrow, walkTree, type Entry } from './files.js';
import type { Source, SourceOptions, UnitProblem } from './types.js';

const isEml = (file: string): boolean => /\.eml$/i.test(file);

/** A folder's path below the root, `/`-separated; the root itself is INBOX. */
function folderOf(root: string, dir: string): string {
  const relative = path.relative(root, dir);
  return relative === '' ? 'INBOX' : relative.split(path.sep).join('/');
}

export function emlSource(spec: string, target: string, options: SourceOptions): Source {
  return {
    kind: 'eml',
    spec,
    async units(report: (problem: UnitProblem) => void): Promise<SourceUnit[]> {
      const st = await statOrThrow(target);
      const mailbox = options.mailbox ?? baseNameWithoutExtension(target);
      const origin = options.mailbox === undefined ? { origin: path.resolve(target) } : {};
      if (st.isFile()) {
        return [{ id: `eml:${path.resolve(target)}`, source: spec, mailbox, folder: 'INBOX', ref: target, ...origin }];
      }
      // One unit per directory that holds .eml entries (readable or not: an unreadable one is
      // reported by its folder); the folder is its path below the root.
      const dirs = new Set<string>();
      let unreadableFolders = 0;
      for await (const item of walkTree(target)) {
        if (item.kind === 'unreadable' && !(isEml(item.path) && !item.folder)) {
          // A folder, or an entry that may have been one (a link to nowhere): said, not skipped.
          // Its path is reported as a folder (masked there); an unreadable .eml is its folder's to report.
          unreadableFolders++;
          const what = item.folder ? 'folder' : 'entry';
          report({ mailbox, folder: folderOf(target, item.path), problem: { code: 'read-failed', message: `${what} ${item.reason}; the messages in it are not scanned` } });
        } else if (isEml(item.path)) dirs.add(path.dirname(item.path));
      }
      if (dirs.size === 0 && unreadableFolders === 0) {
        throw new ScanError('source-invalid', `${target}: no .eml files found below this folder`, { source: spec, path: target });
      }
      return [...dirs].sort().map((dir) => ({ id: `eml:${path.resolve(dir)}`, source: spec, mailbox, folder: folderOf(target, dir), ref: dir, ...origin }));
    },
    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem> {
      let entries: Entry[];
      try {
        entries = (await stat(unit.ref)).isFile()
          ? [{ kind: 'file', name: path.basename(unit.ref), path: unit.ref }]
          : (await listEntries(unit.ref)).filter((e) => e.kind !== 'dir' && isEml(e.name));
      } catch (err) {
        throw new Error(`folder ${fsReason(err)}`); // without the path: it may name a person
      }
      const files = entries.map((entry) => ({ key: entry.name, item: entry.name, entry }));
      yield* readInNameOrder(unit, files, after, options.maxMessageBytes);
    },
  };
}
