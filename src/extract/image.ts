/**
 * Images to grey pixels for OCR: PNG (pngjs), JPEG (jpeg-js), GIF (first frame, in-house LZW),
 * BMP (uncompressed, in-house), TIFF with every page (utif2: CCITT G3/G4, LZW, PackBits,
 * Deflate, JPEG). The size is read from the header, and checked against the pixel limit, before
 * anything is decoded: a header that claims 100,000 × 100,000 pixels is an error, not 40 GB.
 */
import UTIF from 'utif2';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { ExtractError } from './context.js';

/** One byte per pixel, 0 black … 255 white, row after row. */
export interface Gray {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A page of an image file, decoded only when asked. */
export interface ImagePage {
  readonly width: number;
  readonly height: number;
  decode(): Gray;
}

const u16le = (b: Uint8Array, at: number): number => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u16be = (b: Uint8Array, at: number): number => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u32le = (b: Uint8Array, at: number): number => (u16le(b, at) + u16le(b, at + 2) * 65536) >>> 0;
const u32be = (b: Uint8Array, at: number): number => (u16be(b, at) * 65536 + u16be(b, at + 2)) >>> 0;
const i32le = (b: Uint8Array, at: number): number => u32le(b, at) | 0;

const corrupt = (type: string, why: string): ExtractError => new ExtractError('corrupt-attachment', `${type}: cannot be read (${why})`);

/** Throws unless width × height is a real size within the limit. */
export function checkPixels(type: string, width: number, height: number, maxPixels: number, where = ''): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw corrupt(type, `${where}no valid image size in the header`);
  if (width * height > maxPixels) {
    throw new ExtractError('attachment-limit', `${type}: ${where}${width} × ${height} pixels, over the ${maxPixels}-pixel OCR limit; not read`);
  }
}

/** RGBA (or RGB) to grey, on a white background where transparent. */
export function toGray(width: number, height: number, rgba: Uint8Array, channels: 3 | 4): Gray {
  const n = width * height;
  const data = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    const v = ((rgba[p] ?? 0) * 77 + (rgba[p + 1] ?? 0) * 150 + (rgba[p + 2] ?? 0) * 29) >> 8;
    const a = channels === 4 ? (rgba[p + 3] ?? 255) : 255;
    data[i] = a === 255 ? v : (v * a + 255 * (255 - a)) / 255;
  }
  return { width, height, data };
}

/** The pages of an image attachment (one, except TIFF), each size checked; nothing decoded yet. */
export function imagePages(bytes: Uint8Array, type: string, maxPixels: number): ImagePage[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'image/png': {
      if (buf.toString('latin1', 12, 16) !== 'IHDR') throw corrupt(type, 'no IHDR header');
      const width = u32be(bytes, 16);
      const height = u32be(bytes, 20);
      checkPixels(type, width, height, maxPixels);
      return [{ width, height, decode: () => { const png = PNG.sync.read(buf); return toGray(png.width, png.height, png.data, 4); } }];
    }
    case 'image/jpeg': {
      const { width, height } = jpegSize(bytes);
      checkPixels(type, width, height, maxPixels);
      return [{
        width,
        height,
        decode: () => {
          // jpeg-js enforces its own limits too: a frame bigger than announced stops there
          const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 6) / 1e6) + 64 });
          return toGray(img.width, img.height, img.data, 4);
        },
      }];
    }
    case 'image/gif': {
      const width = u16le(bytes, 6);
      const height = u16le(bytes, 8);
      checkPixels(type, width, height, maxPixels);
      return [{ width, height, decode: () => decodeGif(bytes, maxPixels) }];
    }
    case 'image/bmp': {
      const width = i32le(bytes, 18);
      const height = Math.abs(i32le(bytes, 22));
      checkPixels(type, width, height, maxPixels);
      return [{ width, height, decode: () => decodeBmp(bytes) }];
    }
    case 'image/tiff':
      return tiffPages(bytes, maxPixels);
    default:
      throw new ExtractError('unsupported-attachment', `${type}: image format not read by OCR (not scanned)`);
  }
}

function jpegSize(b: Uint8Array): { width: number; height: number } {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) throw corrupt('image/jpeg', 'damaged marker');
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) { at++; continue; }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
    // SOF0…SOF15 but DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    if (marker === 0xda || marker === 0xd9) break;
    at += 2 + u16be(b, at + 2);
  }
  throw corrupt('image/jpeg', 'no frame header');
}

/** First frame of a GIF, through its palette to grey; the frame sits on a white screen. */
function decodeGif(b: Uint8Array, maxPixels: number): Gray {
  const sw = u16le(b, 6);
  const sh = u16le(b, 8);
  const flags = b[10] ?? 0;
  let at = 13;
  let palette: Uint8Array = new Uint8Array(0);
  if (flags & 0x80) {
    const n = 3 << ((flags & 7) + 1);
    palette = b.subarray(at, at + n);
    at += n;
  }
  while (at < b.length) {
    const block = b[at];
    if (block === 0x21) {
      at += 2; // extension: skip its sub-blocks
      while (at < b.length && b[at] !== 0) at += (b[at] ?? 0) + 1;
      at++;
    } else if (block === 0x2c) {
      const left = u16le(b, at + 1), top = u16le(b, at + 3), w = u16le(b, at + 5), h = u16le(b, at + 7);
      const f = b[at + 9] ?? 0;
      at += 10;
      checkPixels('image/gif', w, h, maxPixels, 'frame ');
      if (f & 0x80) {
        const n = 3 << ((f & 7) + 1);
        palette = b.subarray(at, at + n);
        at += n;
      }
      const minCode = b[at++] ?? 2;
      const chunks: Uint8Array[] = [];
      while (at < b.length && b[at] !== 0) {
        const n = b[at] ?? 0;
        chunks.push(b.subarray(at + 1, at + 1 + n));
        at += n + 1;
      }
      const indices = gifLzw(Buffer.concat(chunks), minCode, w * h);
      const out = new Uint8Array(sw * sh).fill(255);
      const rows = (f & 0x40) ? interlacedRows(h) : Array.from({ length: h }, (_v, i) => i);
      for (let r = 0; r < h; r++) {
        const y = top + (rows[r] ?? 0);
        if (y >= sh) continue;
        for (let x = 0; x < w && left + x < sw; x++) {
          const i = (indices[r * w + x] ?? 0) * 3;
          out[y * sw + left + x] = ((palette[i] ?? 0) * 77 + (palette[i + 1] ?? 0) * 150 + (palette[i + 2] ?? 0) * 29) >> 8;
        }
      }
      return { width: sw, height: sh, data: out };
    } else break;
  }
  throw corrupt('image/gif', 'no image frame');
}

function interlacedRows(h: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) for (let y = start; y < h; y += step) rows.push(y);
  return rows;
}

/** GIF's variable-width LZW; stops at `count` pixels, so a stream cannot decode past the frame. */
function gifLzw(data: Uint8Array, minCode: number, count: number): Uint8Array {
  if (minCode < 2 || minCode > 11) throw corrupt('image/gif', 'bad LZW code size');
  const out = new Uint8Array(count);
  const clear = 1 << minCode;
  const end = clear + 1;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const stack = new Uint8Array(4097);
  for (let i = 0; i < clear; i++) (suffix[i] = i), (first[i] = i), (prefix[i] = -1);
  let size = minCode + 1;
  let next = end + 1;
  let prev = -1;
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < data.length && o < count; ) {
    while (bits < size && i < data.length) (acc |= (data[i++] ?? 0) << bits), (bits += 8);
    if (bits < size) break;
    const code = acc & ((1 << size) - 1);
    acc >>>= size;
    bits -= size;
    if (code === clear) { size = minCode + 1; next = end + 1; prev = -1; continue; }
    if (code === end) break;
    let c = code;
    let sp = 0;
    if (c >= next) {
      if (prev < 0 || c > next) throw corrupt('image/gif', 'damaged LZW data');
      stack[sp++] = first[prev] ?? 0;
      c = prev;
    } else if (c > end || c < clear) { /* a table or literal code */ }
    while (c >= 0 && sp < 4097) {
      stack[sp++] = suffix[c] ?? 0;
      c = c < clear ? -1 : (prefix[c] ?? -1);
    }
    const head = stack[sp - 1] ?? 0;
    while (sp > 0 && o < count) out[o++] = stack[--sp] ?? 0;
    if (prev >= 0 && next < 4096) {
      prefix[next] = prev;
      suffix[next] = head;
      first[next] = first[prev] ?? 0;
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    prev = code;
  }
  return out;
}

/** Uncompressed BMP: 1, 4, 8 bits with a palette; 16 (5-5-5), 24, 32 bits. */
function decodeBmp(b: Uint8Array): Gray {
  const offset = u32le(b, 10);
  const dib = u32le(b, 14);
  const width = i32le(b, 18);
  const rawHeight = i32le(b, 22);
  const height = Math.abs(rawHeight);
  const bpp = u16le(b, 28);
  const compression = dib >= 40 ? u32le(b, 30) : 0;
  if (compression !== 0 && compression !== 3) throw new ExtractError('unsupported-attachment', 'image/bmp: compressed BMP not read by OCR (not scanned)');
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw corrupt('image/bmp', `${bpp} bits per pixel`);
  const colors = dib >= 40 ? u32le(b, 46) || (bpp <= 8 ? 1 << bpp : 0) : 1 << bpp;
  const palette = new Uint8Array(256);
  const entry = dib === 12 ? 3 : 4;
  for (let i = 0; i < Math.min(colors, 256) && bpp <= 8; i++) {
    const p = 14 + dib + i * entry;
    palette[i] = ((b[p + 2] ?? 0) * 77 + (b[p + 1] ?? 0) * 150 + (b[p] ?? 0) * 29) >> 8;
  }
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (offset + stride * height > b.length) throw corrupt('image/bmp', 'pixel data shorter than the header says');
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      let v: number;
      if (bpp <= 8) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)] ?? 0;
        v = palette[(byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1)] ?? 0;
      } else if (bpp === 16) {
        const px = u16le(b, row + x * 2);
        v = ((((px >> 10) & 31) << 3) * 77 + (((px >> 5) & 31) << 3) * 150 + ((px & 31) << 3) * 29) >> 8;
      } else {
        const p = row + x * (bpp / 8);
        v = ((b[p + 2] ?? 0) * 77 + (b[p + 1] ?? 0) * 150 + (b[p] ?? 0) * 29) >> 8;
      }
      data[y * width + x] = v;
    }
  }
  return { width, height, data };
}

const TIFF_TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8];
/** Pages of a TIFF file, at most this many IFDs followed (a loop of IFDs ends too). */
const MAX_TIFF_IFDS = 10_000;

/**
 * Walks the IFD chain before utif2 does: every tag's values must fit in the file (utif2 reads
 * `count` values whatever the file's length, so a lying count would spin and allocate), and
 * every page's size is checked against the limit.
 */
function tiffPages(bytes: Uint8Array, maxPixels: number): ImagePage[] {
  const le = bytes[0] === 0x49;
  const u16 = le ? u16le : u16be;
  const u32 = le ? u32le : u32be;
  const seen = new Set<number>();
  let ifd = u32(bytes, 4);
  let pages = 0;
  while (ifd !== 0 && !seen.has(ifd) && seen.size < MAX_TIFF_IFDS) {
    seen.add(ifd);
    if (ifd + 2 > bytes.length) throw corrupt('image/tiff', 'a page directory lies outside the file');
    const n = u16(bytes, ifd);
    if (ifd + 2 + n * 12 + 4 > bytes.length) throw corrupt('image/tiff', 'a page directory is cut short');
    let width = 0;
    let height = 0;
    for (let e = 0; e < n; e++) {
      const at = ifd + 2 + e * 12;
      const tag = u16(bytes, at);
      const type = u16(bytes, at + 2);
      const count = u32(bytes, at + 4);
      const size = (TIFF_TYPE_SIZE[type] ?? 0) * count;
      if (size > 4 && u32(bytes, at + 8) + size > bytes.length) throw corrupt('image/tiff', `tag ${tag} points past the end of the file`);
      if (size > bytes.length) throw corrupt('image/tiff', `tag ${tag} claims more values than the file holds`);
      const value = type === 3 ? u16(bytes, at + 8) : u32(bytes, at + 8);
      if (tag === 256) width = value;
      if (tag === 257) height = value;
    }
    pages++;
    checkPixels('image/tiff', width, height, maxPixels, `page ${pages}: `);
    ifd = u32(bytes, ifd + 2 + n * 12);
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ifds = UTIF.decode(buf).slice(0, pages);
  return ifds.map((d) => {
    const width = tagNumber(d, 't256');
    const height = tagNumber(d, 't257');
    return {
      width,
      height,
      decode: () => {
        UTIF.decodeImage(buf, d);
        // a strip that decodes to more than the page's size cannot grow past it: toRGBA8 reads width × height
        if (d.width !== width || d.height !== height) throw corrupt('image/tiff', 'page size changed while decoding');
        return toGray(width, height, UTIF.toRGBA8(d), 4);
      },
    };
  });
}

function tagNumber(ifd: UTIF.IFD, tag: string): number {
  const v = ifd[tag];
  return Array.isArray(v) && typeof v[0] === 'number' ? v[0] : 0;
}

/** Quarter turns clockwise. */
export function rotate(g: Gray, quarter: 1 | 2 | 3): Gray {
  const { width: w, height: h, data } = g;
  const out = new Uint8Array(w * h);
  if (quarter === 2) {
    for (let i = 0, n = w * h; i < n; i++) out[n - 1 - i] = data[i] ?? 255;
    return { width: w, height: h, data: out };
  }
  // clockwise: (x, y) → (h - 1 - y, x); counter-clockwise: (x, y) → (y, w - 1 - x)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x] ?? 255;
      if (quarter === 1) out[x * h + (h - 1 - y)] = v;
      else out[(w - 1 - x) * h + y] = v;
    }
  }
  return { width: h, height: w, data: out };
}

/** Netpbm grey map: the one format the OCR engine reads without another decoder. */
export function toPgm(g: Gray): Uint8Array {
  const head = Buffer.from(`P5\n${g.width} ${g.height}\n255\n`, 'latin1');
  const out = new Uint8Array(head.length + g.data.length);
  out.set(head);
  out.set(g.data, head.length);
  return out;
}
