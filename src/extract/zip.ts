/**
 * ZIP: the central directory is read first, and every limit (entries, declared sizes, ratio,
 * encryption) is checked from it before a byte is inflated. Inflation itself is bounded by the
 * declared size too, so an entry that lies about its size cannot grow past it.
 * Also the container under DOCX/XLSX/PPTX/ODF.
 */
import { crc32 } from 'node:zlib';
import { Inflate } from 'fflate';
import { ExtractError, type ExtractContext } from './context.js';

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly encrypted: boolean;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

const corrupt = (what: string): ExtractError => new ExtractError('corrupt-attachment', `zip: ${what}`);

function u16(b: Uint8Array, o: number): number {
  if (o + 2 > b.length) throw corrupt('truncated');
  return (b[o] as number) | ((b[o + 1] as number) << 8);
}
function u32(b: Uint8Array, o: number): number {
  if (o + 4 > b.length) throw corrupt('truncated');
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 0x1000000;
}
function u64(b: Uint8Array, o: number): number {
  return u32(b, o) + u32(b, o + 4) * 0x100000000;
}

const utf8 = new TextDecoder('utf-8');

/** Lists the entries from the central directory. Throws `corrupt-attachment` when there is none. */
export function readZipDirectory(b: Uint8Array, maxEntries: number): ZipEntry[] {
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x05 && b[i + 3] === 0x06) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no central directory (truncated or not a zip)');
  let count = u16(b, eocd + 10);
  let offset = u32(b, eocd + 16);
  if (count === 0xffff || offset === 0xffffffff) {
    // ZIP64: the locator sits just before the classic end record
    const loc = eocd - 20;
    if (loc < 0 || u32(b, loc) !== 0x07064b50) throw corrupt('bad zip64 locator');
    const rec = u64(b, loc + 8);
    if (u32(b, rec) !== 0x06064b50) throw corrupt('bad zip64 end record');
    count = u64(b, rec + 32);
    offset = u64(b, rec + 48);
  }
  if (count > maxEntries) throw new ExtractError('attachment-limit', `zip: ${count} entries, over the ${maxEntries}-entry limit; not read`);
  const entries: ZipEntry[] = [];
  let p = offset;
  for (let n = 0; n < count; n++) {
    if (u32(b, p) !== 0x02014b50) throw corrupt('bad central directory entry');
    const flags = u16(b, p + 8);
    const method = u16(b, p + 10);
    const crc = u32(b, p + 16);
    let compressedSize = u32(b, p + 20);
    let size = u32(b, p + 24);
    const nameLen = u16(b, p + 28);
    const extraLen = u16(b, p + 30);
    const commentLen = u16(b, p + 32);
    let localOffset = u32(b, p + 42);
    if (p + 46 + nameLen > b.length) throw corrupt('truncated');
    const name = utf8.decode(b.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: the 64-bit values, in this order, for each 32-bit field that is 0xFFFFFFFF
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = u16(b, e);
      const len = u16(b, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = u64(b, q)), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(b, q)), (q += 8);
        if (localOffset === 0xffffffff) localOffset = u64(b, q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, encrypted: (flags & 1) === 1, crc, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Checks the directory against the limits before anything is inflated. */
export function checkZipLimits(entries: readonly ZipEntry[], ctx: ExtractContext, what: string): void {
  let total = 0;
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    total += e.size;
    if (e.size > ctx.limits.maxAttachmentBytes) {
      throw new ExtractError('attachment-limit', `${what}: an entry declares ${e.size} bytes, over the ${ctx.limits.maxAttachmentBytes}-byte limit; not read`);
    }
    if (e.size > 1024 * 1024 && e.size > e.compressedSize * ctx.limits.maxCompressionRatio) {
      throw new ExtractError('attachment-limit', `${what}: compression ratio over ${ctx.limits.maxCompressionRatio}:1 (zip bomb?); not read`);
    }
  }
  if (total > ctx.limits.maxInflatedBytes) {
    throw new ExtractError('attachment-limit', `${what}: ${total} bytes uncompressed, over the ${ctx.limits.maxInflatedBytes}-byte limit; not read`);
  }
}

/** One entry's bytes, inflated to at most its declared size and charged to the message's budget. */
export function readZipEntry(b: Uint8Array, e: ZipEntry, ctx: ExtractContext, what = 'zip'): Uint8Array {
  if (e.encrypted) throw new ExtractError('encrypted', `${what}: entry is encrypted, not read`);
  const p = e.localOffset;
  if (u32(b, p) !== 0x04034b50) throw corrupt('bad local header');
  const start = p + 30 + u16(b, p + 26) + u16(b, p + 28);
  const end = start + e.compressedSize;
  if (end > b.length) throw corrupt('entry data truncated');
  const data = b.subarray(start, end);
  ctx.reserve(e.size, what);
  if (e.method !== 0 && e.method !== 8) throw new ExtractError('unsupported-attachment', `${what}: compression method ${e.method} is not supported`);
  const out = e.method === 0 ? data : inflateBounded(data, e.size, what);
  // damage that still inflates (or a stored entry cut short) shows in the checksum
  if (out.length !== e.size || crc32(out) !== e.crc) throw corrupt('entry is damaged (size or checksum mismatch)');
  return out;
}


/** Raw DEFLATE, stopped as soon as the output passes `limit` (16 KB of input at a time). */
export function inflateBounded(data: Uint8Array, limit: number, what = 'zip'): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflate = new Inflate((chunk) => {
    total += chunk.length;
    if (total > limit) throw new ExtractError('attachment-limit', `${what}: an entry inflates past its declared size (zip bomb?); not read`);
    chunks.push(chunk);
  });
  try {
    const step = 16 * 1024;
    for (let i = 0; i < data.length; i += step) inflate.push(data.subarray(i, Math.min(i + step, data.length)), i + step >= data.length);
    if (data.length === 0) inflate.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof ExtractError) throw err;
    throw corrupt('entry data cannot be inflated');
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) out.set(c, o), (o += c.length);
  return out;
}

/** An archive as a name → entry map with lazy, bounded reads: what the Office readers use. */
export interface ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  read(name: string): Uint8Array | undefined;
  text(name: string): string | undefined;
}

export function openZip(b: Uint8Array, ctx: ExtractContext, what: string): ZipArchive {
  const list = readZipDirectory(b, ctx.limits.maxArchiveEntries);
  checkZipLimits(list, ctx, what);
  const entries = new Map(list.map((e) => [e.name, e]));
  const read = (name: string): Uint8Array | undefined => {
    const e = entries.get(name);
    return e ? readZipEntry(b, e, ctx, what) : undefined;
  };
  return { entries, read, text: (name) => {
    const bytes = read(name);
    return bytes ? utf8.decode(bytes) : undefined;
  } };
}

/** A plain archive: every entry is a file of its own, extracted recursively. */
export async function extractZip(
  b: Uint8Array,
  entries: readonly ZipEntry[],
  ctx: ExtractContext,
  extract: (bytes: Uint8Array, ctx: ExtractContext, name: string) => Promise<void>,
): Promise<void> {
  checkZipLimits(entries, ctx, 'zip');
  if (ctx.depth + 1 > ctx.maxDepth) {
    ctx.problem('nesting-too-deep', `zip: nested deeper than ${ctx.maxDepth} levels, not read`);
    return;
  }
  // an archive of 10,000 encrypted entries is one finding for a reader, not 10,000 records
  const MAX_LISTED = 20;
  let listed = 0;
  const unlisted = new Map<ExtractError['code'], number>();
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    if (!ctx.inTime('zip')) break;
    const child = ctx.child(e.name);
    let bytes: Uint8Array;
    try {
      bytes = readZipEntry(b, e, child);
    } catch (err) {
      if (!(err instanceof ExtractError)) throw err;
      if (listed++ < MAX_LISTED) child.problem(err.code, err.message);
      else unlisted.set(err.code, (unlisted.get(err.code) ?? 0) + 1);
      if (err.code === 'attachment-limit' && /per message/.test(err.message)) break;
      continue;
    }
    await extract(bytes, child, e.name.split('/').pop() ?? e.name);
  }
  for (const [code, n] of unlisted) ctx.problem(code, `zip: ${n} more entries not read (${code}), not listed one by one`);
}
