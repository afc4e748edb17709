/** File-system helpers shared by the archive sources (mbox, Maildir, EML). */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import type { Checkpoint, SourceUnit, UnitItem } from '../model/message.js';
import path from 'node:path';
import { describeFsError } from '../common/errors.js';
import { OVERSIZE_HEAD_BYTES } from './types.js';

export async function statOrThrow(p: string): Promise<import('node:fs').Stats> {
  try {
    return await stat(p);
  } catch (err) {
    throw describeFsError(err, p);
  }
}

/**
 * Extensions of the archives a mailbox name may come from. Only these are stripped: in
 * `john.smith` or `j.doe.2019` the dot is part of the name (exports named after people).
 */
const ARCHIVE_EXTENSION = /\.(?:mbox|mbx|mbs|pst|ost|eml|maildir)$/i;

/** The base name without a known archive extension: the default mailbox name of an archive. */
export function baseNameWithoutExtension(p: string): string {
  const base = path.basename(path.resolve(p));
  const stripped = base.replace(ARCHIVE_EXTENSION, '');
  return stripped === '' ? base : stripped;
}

/** One entry of a folder, classified by what it points to (symbolic links followed). */
export type Entry =
  | { readonly kind: 'file' | 'dir'; readonly name: string; readonly path: string }
  /** Listed, but cannot be read as a file or folder: `reason` says why, without the path. */
  | { readonly kind: 'unreadable'; readonly name: string; readonly path: string; readonly reason: string };

/** An fs error's code as a reason that never names the path: `permission denied (EACCES)`. */
export function fsReason(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'ELOOP':
      return 'symbolic link loop (ELOOP)';
    case 'EISDIR':
      return 'is a folder (EISDIR)';
    case 'ENOENT':
      return 'broken symbolic link (ENOENT)';
    default:
      return `cannot be read (${code || 'I/O error'})`;
  }
}

/**
 * The entries of `dir`, sorted by name. A symbolic link is classified by its target; a FIFO,
 * socket or device is `unreadable` (opening a FIFO would wait forever); an entry that vanished
 * since the listing (a mail client moved it) is left out. Throws when `dir` cannot be listed.
 */
export async function listEntries(dir: string): Promise<Entry[]> {
  const dirents: Dirent[] = await readdir(dir, { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: Entry[] = [];
  for (const d of dirents) {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) out.push({ kind: 'dir', name: d.name, path: full });
    else if (d.isFile()) out.push({ kind: 'file', name: d.name, path: full });
    else {
      const entry = await classify(d.name, full);
      if (entry) out.push(entry);
    }
  }
  return out;
}

async function classify(name: string, full: string): Promise<Entry | undefined> {
  try {
    const st = await stat(full);
    if (st.isDirectory()) return { kind: 'dir', name, path: full };
    if (st.isFile()) return { kind: 'file', name, path: full };
    return { kind: 'unreadable', name, path: full, reason: 'not a regular file (a FIFO, socket or device)' };
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      // gone since the listing: not ours to report; still there: a link pointing nowhere
      const still = await lstat(full).then(
        () => true,
        () => false,
      );
      if (!still) return undefined;
    }
    return { kind: 'unreadable', name, path: full, reason: fsReason(err) };
  }
}

/** What a walk below a folder finds: files to read, and entries (files or folders) that cannot be read. */
export type WalkItem =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'unreadable'; readonly path: string; readonly folder: boolean; readonly reason: string };

/**
 * Every file below `root`, depth first, in a stable (sorted) order, following symbolic links
 * (a folder reached twice, or a loop, is walked once). A subfolder or entry that cannot be read
 * is yielded as `unreadable` and the walk goes on; only `root` itself failing throws.
 */
export async function* walkTree(root: string): AsyncGenerator<WalkItem> {
  const seen = new Set<string>();
  let entries: Entry[];
  try {
    seen.add(await realpath(root));
    entries = await listEntries(root);
  } catch (err) {
    throw describeFsError(err, root);
  }
  yield* walkEntries(entries, seen);
}

async function* walkEntries(entries: Entry[], seen: Set<string>): AsyncGenerator<WalkItem> {
  for (const entry of entries) {
    if (entry.kind === 'file') yield { kind: 'file', path: entry.path };
    else if (entry.kind === 'unreadable') yield { kind: 'unreadable', path: entry.path, folder: false, reason: entry.reason };
    else {
      let children: Entry[];
      try {
        const real = await realpath(entry.path);
        if (seen.has(real)) continue; // reached before (a link to a folder already walked)
        seen.add(real);
        children = await listEntries(entry.path);
      } catch (err) {
        yield { kind: 'unreadable', path: entry.path, folder: true, reason: fsReason(err) };
        continue;
      }
      yield* walkEntries(children, seen);
    }
  }
}

/**
 * The cursor of a folder read in name order: the last name done, then (after `/`, which no
 * file name holds) the names skipped as unreadable, retried on the next `--since-last` run
 * until they can be read. A cursor without `/` is the older form: a name alone.
 */
export function parseNameCursor(cursor: string | undefined): { readonly last: string; readonly retry: ReadonlySet<string> } {
  if (cursor === undefined) return { last: '', retry: new Set() };
  const [last = '', ...retry] = cursor.split('/');
  return { last, retry: new Set(retry.filter((r) => r !== '')) };
}

export function formatNameCursor(last: string, retry: Iterable<string>): string {
  return [last, ...[...retry].sort()].join('/');
}

/** Reads the first bytes of a file (for sniffing a format). */
export async function readHead(p: string, bytes: number): Promise<Buffer> {
  const handle = await open(p, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a whole message file, or only its head when it is over the size cap, so that
 * memory stays bounded. The sha256 of an oversize file is computed by streaming it.
 */
export async function readMessageFile(
  p: string,
  size: number,
  maxBytes: number,
): Promise<{ bytes: Buffer; oversize?: { limit: number; sha256: string } }> {
  const handle = await open(p, 'r');
  try {
    if (size <= maxBytes) {
      return { bytes: await handle.readFile() };
    }
    const head = Buffer.alloc(Math.min(size, OVERSIZE_HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
    return { bytes: head, oversize: { limit: maxBytes, sha256: hash.digest('hex') } };
  } finally {
    await handle.close();
  }
}
/** A message file of a folder read in name order; `item` names it in an error record (masked there). */
export interface NamedFile {
  /** What the folder is ordered and resumed by (the file name; a Maildir message's unique part). */
  readonly key: string;
  /** The file as a path below the unit (`cur/NAME`), for the error record. */
  readonly item: string;
  readonly entry: Entry;
}

/**
 * Reads a folder's message files in key order after a checkpoint. A file that cannot be read
 * is an `error` item and the folder goes on; the cursor moves past it and keeps its key, so a
 * `--since-last` run retries it (reported again each run until it can be read, then scanned).
 */
export async function* readInNameOrder(
  unit: SourceUnit,
  files: readonly NamedFile[],
  after: Checkpoint | undefined,
  maxMessageBytes: number,
): AsyncGenerator<UnitItem> {
  const { last, retry } = parseNameCursor(after?.cursor);
  const present = new Set(files.map((f) => f.key));
  // Retries of files that are gone are forgotten: there is nothing left to read.
  const pending = new Set([...retry].filter((key) => present.has(key)));
  const failed = new Set<string>();
  let position = last;
  const cursor = (): string => formatNameCursor(position, new Set([...pending, ...failed]));
  for (const { key, item, entry } of files) {
    const isRetry = pending.delete(key);
    if (!isRetry && key <= last) continue;
    if (key > position) position = key;
    let why: string | undefined;
    if (entry.kind === 'unreadable') why = entry.reason;
    else if (entry.kind === 'dir') why = 'is a folder where a message file should be';
    else {
      try {
        const size = (await stat(entry.path)).size;
        const { bytes, oversize } = await readMessageFile(entry.path, size, maxMessageBytes);
        yield { unit, locator: entry.path, size, bytes, ...(oversize ? { oversize } : {}), cursor: cursor() };
        continue;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') continue; // moved or deleted by a mail client meanwhile
        why = fsReason(err);
      }
    }
    failed.add(key);
    yield { kind: 'cursor', cursor: cursor(), item, problem: { code: 'read-failed', message: `message file ${why}; not scanned` } };
  }
}
