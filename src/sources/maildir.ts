/**
 * `maildir:PATH` — a Maildir, or a tree of Maildir++ folders.
 * A folder is any directory with `cur/` or `new/` (tmp/ holds deliveries in progress and is
 * never read). Maildir++ subfolders are `.A.B` directories beside cur/new, meaning folder `A/B`;
 * nested directories (Dovecot's LAYOUT=fs) are accepted too.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint, RawMessage, SourceUnit } from '../model/message.js';
import { ScanError, describeFsError } from '../shared/errors.js';
import { baseNameWithoutExtension, readMessageFile, statOrThrow } from './files.js';
import type { Source, SourceOptions } from './types.js';

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

async function listDir(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') return [];
    throw describeFsError(err, dir);
  }
}

async function isMaildirFolder(dir: string): Promise<boolean> {
  const names = new Set((await listDir(dir)).filter((e) => e.isDirectory()).map((e) => e.name));
  return names.has('cur') || names.has('new');
}

/** `.Archive.2019` → `Archive/2019`; Maildir++ escapes nothing else we need to undo. */
function maildirPlusPlusFolder(dirName: string): string {
  return dirName.slice(1).split('.').filter(Boolean).join('/');
}

async function findFolders(root: string, relative: string[], out: { dir: string; folder: string }[]): Promise<void> {
  const entries = (await listDir(root)).filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name === 'cur' || e.name === 'new' || e.name === 'tmp') continue;
    const dir = path.join(root, e.name);
    const parts = e.name.startsWith('.') && e.name.length > 1 ? [...relative, maildirPlusPlusFolder(e.name)] : [...relative, e.name];
    if (await isMaildirFolder(dir)) out.push({ dir, folder: parts.join('/') });
    await findFolders(dir, parts, out);
  }
}

export function maildirSource(spec: string, target: string, options: SourceOptions): Source {
  return {
    kind: 'maildir',
    spec,
    async units(): Promise<SourceUnit[]> {
      const st = await statOrThrow(target);
      if (!st.isDirectory()) {
        throw new ScanError('source-invalid', `${target}: not a Maildir (not a directory)`, { source: spec, path: target });
      }
      const mailbox = options.mailbox ?? baseNameWithoutExtension(target);
      const folders: { dir: string; folder: string }[] = [];
      if (await isMaildirFolder(target)) folders.push({ dir: target, folder: 'INBOX' });
      await findFolders(target, [], folders);
      if (folders.length === 0) {
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
      }));
    },
    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<RawMessage> {
      // Sorted by unique name (delivery time first), so the order and the cursor are stable
      // even when a mail client moves a message from new/ to cur/ between runs.
      const files: { unique: string; file: string }[] = [];
      for (const sub of ['new', 'cur']) {
        for (const e of await listDir(path.join(unit.ref, sub))) {
          if (!e.isFile() || e.name.startsWith('.')) continue;
          files.push({ unique: parseMaildirName(e.name).unique, file: path.join(unit.ref, sub, e.name) });
        }
      }
      files.sort((a, b) => (a.unique < b.unique ? -1 : a.unique > b.unique ? 1 : 0));
      for (const { unique, file } of files) {
        if (after && unique <= after.cursor) continue;
        let st;
        try {
          st = await statOrThrow(file);
        } catch {
          continue; // moved or deleted by a mail client while we scanned: not ours to report
        }
        const { bytes, oversize } = await readMessageFile(file, st.size, options.maxMessageBytes);
        yield { unit, locator: file, size: st.size, bytes, ...(oversize ? { oversize } : {}), cursor: unique };
      }
    },
  };
}
