/** File-system helpers shared by the archive sources (mbox, Maildir, EML). */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError } from '../shared/errors.js';
import { OVERSIZE_HEAD_BYTES } from './types.js';

export async function statOrThrow(p: string): Promise<import('node:fs').Stats> {
  try {
    return await stat(p);
  } catch (err) {
    throw describeFsError(err, p);
  }
}

/** Every regular file below `dir`, depth first, in a stable (sorted) order. */
export async function* walkFiles(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw describeFsError(err, dir);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(full);
    else if (entry.isFile()) yield full;
  }
}

/** The base name without its extension: the default mailbox name of an archive. */
export function baseNameWithoutExtension(p: string): string {
  const base = path.basename(path.resolve(p));
  const ext = path.extname(base);
  return ext && ext !== base ? base.slice(0, -ext.length) : base;
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
