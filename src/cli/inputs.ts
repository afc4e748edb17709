/**
 * SOURCE arguments as people type them, checked before a scan starts: `~` expanded (a shell does
 * not expand it after `maildir:`), and the common wrong inputs said clearly instead of surfacing
 * as a parse failure deep in a source: a gzip file, an mbox given to `eml:`.
 */
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScanError } from '../common/errors.js';
import { readHead } from '../sources/files.js';

const FILE_SCHEMES = ['mbox', 'maildir', 'eml', 'pst'] as const;
type FileScheme = (typeof FILE_SCHEMES)[number];

/** `maildir:~/Maildir` → `maildir:/home/me/Maildir`; `~user` forms are left alone. */
export function expandHome(spec: string, home: string = os.homedir()): string {
  const m = /^([a-z]+):(~(?=\/|$))(.*)$/s.exec(spec);
  if (!m || !FILE_SCHEMES.includes(m[1] as FileScheme)) return spec;
  return `${m[1]}:${home}${m[3] ?? ''}`;
}


const isGzip = (b: Buffer): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** An mbox From_ line: `From sender date`, as mbox.ts recognises a file. */
const startsWithFromLine = (b: Buffer): boolean => /^(?:\r?\n)*From \S/.test(b.toString('latin1'));

function decompressHint(scheme: FileScheme, file: string): string {
  if (/\.gz$/i.test(file)) return `decompress it first (gunzip -k ${file}), then scan ${scheme}:${file.replace(/\.gz$/i, '')}`;
  return `decompress it first (gunzip -c ${file} > ${file}.out), then scan ${scheme}:${file}.out`;
}

/**
 * Throws a usage error for a SOURCE that cannot be what its scheme says; returns warnings for
 * files below a folder that will not be read (compressed archives), so nothing is passed over
 * silently. Missing paths are left to the source, which already says so.
 */
export async function checkSource(spec: string): Promise<string[]> {
  const m = /^([a-z]+):(.+)$/s.exec(spec);
  if (!m || !FILE_SCHEMES.includes(m[1] as FileScheme)) return [];
  const scheme = m[1] as FileScheme;
  const target = m[2] as string;
  let isFile: boolean;
  try {
    isFile = (await stat(target)).isFile();
  } catch {
    return [];
  }
  if (isFile) {
    let first: Buffer;
    try {
      first = await readHead(target, 4096);
    } catch {
      return [];
    }
    if (isGzip(first)) {
      throw new ScanError('usage', `${spec}: the file is gzip-compressed and phi-scan reads archives uncompressed: ${decompressHint(scheme, target)}`);
    }
    if (scheme === 'eml' && startsWithFromLine(first)) {
      throw new ScanError('usage', `${spec}: this is an mbox file (it starts with a "From " line), not a single message: scan it as mbox:${target}`);
    }
    if (scheme === 'maildir') {
      throw new ScanError('usage', `${spec}: a Maildir is a folder (with cur/ and new/), not a file${startsWithFromLine(first) ? `; this file is an mbox: scan it as mbox:${target}` : ''}`);
    }
    return [];
  }
  if (scheme !== 'mbox' && scheme !== 'eml') return [];
  // Compressed files below a folder are not read: say which, so none is passed over silently.
  let names: string[];
  try {
    names = await readdir(target, { recursive: true });
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.(?:gz|bz2|xz|zst)$/i.test(n))
    .sort()
    .map((n) => `${spec}: ${path.join(target, n)} is compressed and is not scanned: decompress it to scan it`);
}
