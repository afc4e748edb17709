/**
 * `maildir:PATH` — a Maildir, or a tree of Maildir++ folders.
 * A folder is any directory with `cur/` or `new/` (tmp/ holds deliveries in progress and is
 * never read). Maildir++ subfolders are `.A.B` directories beside cur/new, meaning folder `A/B`;
 * nested directories (Dovecot's LAYOUT=fs) are accepted too.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, SourceUnit, UnitItem } from '../model/message.js';
import { ScanError, describeFsError } from '../common/errors.js';
import { baseNameWithoutExtension, fsReason, listEntries, readInNameOrder, statOrThrow, type Entry, type NamedFile } from './files.js';
import type { Source, SourceOptions, UnitProblem } from './types.js';

export interface MaildirName {
  /** The unique part, stable when the flags change (a message moves new/ → cur/ and gains `:2,S`). */
  readonly unique: string;
  /** Flags from the `:2,` info suffix, e.g. ['R', 'S']. */
  readonly flags: readonly string[];
}

/** Parses `1700000000.M1P2.host:2,RS` (Windows copies use `!` instead of `:`). */
export function parseMaildirName(name: string): MaildirName {
  const m = /^(.*?)[:!]2,([A-Za-z]*)$/.exec(name);
  if (!m) return { unique: name, flags: [] };
  return { unique: m[1] ?? name, flags: [...(m[2] ?? '')].filter((f) => /[A-Z]/.test(f)).sort() };
}

/** The folder's entries; none when it does not exist (a Maildir without new/). */
async function listDir(dir: string): Promise<Entry[]> {
  try {
    return await listEntries(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

function isMaildirFolder(entries: readonly Entry[]): boolean {
  return entries.some((e) => e.kind === 'dir' && (e.name === 'cur' || e.name === 'new'));
}

/** `.Archive.2019` → `Archive/2019`; Maildir++ escapes nothing else we need to undo. */
function maildirPlusPlusFolder(dirName: string): string {
  return dirName.slice(1).split('.').filter(Boolean).join('/');
}

interface FolderSearch {
  readonly out: { dir: string; folder: string }[];
  /** A subfolder that cannot be listed: reported, and the search goes on. */
  readonly unreadable: (folder: string, reason: string) => void;
  /** Real paths already searched: a linked folder is read once, a link loop ends. */
  readonly seen: Set<string>;
}

async function findFolders(entries: readonly Entry[], relative: string[], search: FolderSearch): Promise<void> {
  for (const e of entries) {
    if (e.name === 'cur' || e.name === 'new' || e.name === 'tmp' || e.kind === 'file') continue;
    const parts = e.name.startsWith('.') && e.name.length > 1 ? [...relative, maildirPlusPlusFolder(e.name)] : [...relative, e.name];
    // a link to nowhere (or a FIFO) among the folders may have been one: said, not skipped
    if (e.kind === 'unreadable') {
      search.unreadable(parts.join('/'), e.reason);
      continue;
    }
    let children: Entry[];
    try {
      const real = await realpath(e.path);
      if (search.seen.has(real)) continue;
      search.seen.add(real);
      children = await listDir(e.path);
    } catch (err) {
      search.unreadable(parts.join('/'), fsReason(err));
      continue;
    }
    if (isMaildirFolder(children)) search.out.push({ dir: e.path, folder: parts.join('/') });
    await findFolders(children, parts, search);
  }
}

export function maildirSource(spec: string, target: string, options: SourceOptions): Source {
  return {
    kind: 'maildir',
    spec,
    async units(report: (problem: UnitProblem) => void): Promise<SourceUnit[]> {
      const st = await statOrThrow(target);
      if (!st.isDirectory()) {
        throw new ScanError('source-invalid', `${target}: not a Maildir (not a directory)`, { source: spec, path: target });
      }
      const mailbox = options.mailbox ?? baseNameWithoutExtension(target);
      const origin = options.mailbox === undefined ? { origin: path.resolve(target) } : {};
      let top: Entry[];
      let real: string;
      try {
        real = await realpath(target);
        top = await listEntries(target);
      } catch (err) {
        throw describeFsError(err, target);
      }
      const folders: { dir: string; folder: string }[] = [];
      if (isMaildirFolder(top)) folders.push({ dir: target, folder: 'INBOX' });
      let unreadable = 0;
      await findFolders(top, [], {
        out: folders,
        seen: new Set([real]),
        unreadable: (folder, reason) => {
          unreadable++;
          report({ mailbox, folder, problem: { code: 'read-failed', message: `folder ${reason}; its messages are not scanned` } });
        },
      });
      if (folders.length === 0 && unreadable === 0) {
        throw new ScanError('source-invalid', `${target}: not a Maildir (no cur/ or new/ folder below it)`, {
          source: spec,
          path: target,
        });
      }
      return folders.map(({ dir, folder }) => ({
        id: `maildir:${path.resolve(dir)}`,
        source: spec,
        mailbox,
        folder,
        ref: dir,
        ...origin,
      }));
    },
    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem> {
      // Sorted by unique name (delivery time first), so the order and the cursor are stable
      // even when a mail client moves a message from new/ to cur/ between runs.
      const files: NamedFile[] = [];
      for (const sub of ['new', 'cur']) {
        let entries: Entry[];
        try {
          entries = await listDir(path.join(unit.ref, sub));
        } catch (err) {
          throw new Error(`${sub}/ ${fsReason(err)}`); // without the path: it may name a person
        }
        for (const entry of entries) {
          if (entry.name.startsWith('.')) continue;
          files.push({ key: parseMaildirName(entry.name).unique, item: `${sub}/${entry.name}`, entry });
        }
      }
      files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      yield* readInNameOrder(unit, files, after, options.maxMessageBytes);
    },
  };
}
