/**
 * What an attachment is, decided from its bytes first (magic numbers, the names inside a ZIP or
 * an OLE compound file), then from the declared content type and the file name extension.
 * Senders mislabel files all the time: a roster.xlsx sent as application/octet-stream, a PDF
 * named scan.dat.
 */
import path from 'node:path';
import type { Segment } from '../model/segment.js';
import type { Declared } from './context.js';
import type { ZipEntry } from './zip.js';

export type TextFormat = Segment['format'];

export type Sniffed =
  | { readonly kind: 'pdf' | 'zip' | 'ole' | 'tnef' | 'rtf' | 'message' }
  | { readonly kind: 'text'; readonly format: TextFormat; readonly encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'declared' }
  | { readonly kind: 'image'; readonly type: string }
  | { readonly kind: 'binary' };

export type ZipKind = 'docx' | 'xlsx' | 'pptx' | 'odt' | 'ods' | 'odp' | 'zip';
export type OleKind = 'msg' | 'doc' | 'xls' | 'ppt' | 'encrypted-office' | 'ole';

/** Text-like attachments we can read directly, by extension, then by content type. */
const TEXT_EXTENSIONS: Record<string, TextFormat> = {
  '.txt': 'text',
  '.text': 'text',
  '.log': 'text',
  '.md': 'text',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.html': 'html',
  '.htm': 'html',
  '.json': 'json',
  '.xml': 'xml',
  '.ics': 'calendar',
  '.vcf': 'vcard',
};
const TEXT_TYPES: Record<string, TextFormat> = {
  'text/plain': 'text',
  'text/csv': 'csv',
  'text/comma-separated-values': 'csv',
  'text/tab-separated-values': 'tsv',
  'text/html': 'html',
  'application/json': 'json',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'text/calendar': 'calendar',
  'text/vcard': 'vcard',
  'text/x-vcard': 'vcard',
};
/** Machine-readable parts that are text (delivery reports, header dumps): read as plain text. */
const TEXT_LIKE_PREFIXES = ['text/', 'message/delivery-status', 'message/disposition-notification', 'message/feedback-report', 'message/global-headers'];

/** The text format a declaration promises, if any. */
export function declaredTextFormat(declared: Declared): TextFormat | undefined {
  const type = (declared.contentType ?? '').toLowerCase();
  const known = TEXT_EXTENSIONS[path.extname(declared.name).toLowerCase()] ?? TEXT_TYPES[type];
  if (known) return known;
  return TEXT_LIKE_PREFIXES.some((p) => type.startsWith(p)) ? 'text' : undefined;
}

export function isDeclaredMessage(declared: Declared): boolean {
  return (declared.contentType ?? '').toLowerCase() === 'message/rfc822' || /\.eml$/i.test(declared.name);
}

const startsWith = (b: Uint8Array, bytes: readonly number[], at = 0): boolean => bytes.every((x, i) => b[at + i] === x);
const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));

const IMAGES: readonly [readonly number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'image/png'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x47, 0x49, 0x46, 0x38], 'image/gif'],
  [[0x49, 0x49, 0x2a, 0x00], 'image/tiff'],
  [[0x4d, 0x4d, 0x00, 0x2a], 'image/tiff'],
  [[0x42, 0x4d], 'image/bmp'],
];

export function sniff(b: Uint8Array, declared: Declared): Sniffed {
  const head = ascii(b, 0, 1024);
  // PDF readers accept junk before the header (within 1 KB); a text file that merely mentions
  // "%PDF-" stays text
  if (head.startsWith('%PDF-') || (head.includes('%PDF-') && !declaredTextFormat(declared))) return { kind: 'pdf' };
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06])) return { kind: 'zip' };
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return { kind: 'ole' };
  if (startsWith(b, [0x78, 0x9f, 0x3e, 0x22])) return { kind: 'tnef' };
  if (head.startsWith('{\\rtf')) return { kind: 'rtf' };
  for (const [magic, type] of IMAGES) if (startsWith(b, magic)) return { kind: 'image', type };
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return { kind: 'image', type: 'image/webp' };
  if (isDeclaredMessage(declared)) return { kind: 'message' };
  if (startsWith(b, [0xff, 0xfe])) return { kind: 'text', format: declaredTextFormat(declared) ?? 'text', encoding: 'utf-16le' };
  if (startsWith(b, [0xfe, 0xff])) return { kind: 'text', format: declaredTextFormat(declared) ?? 'text', encoding: 'utf-16be' };
  const declaredFormat = declaredTextFormat(declared);
  if (declaredFormat) return { kind: 'text', format: declaredFormat, encoding: 'declared' };
  if (looksLikeText(b)) {
    const start = head.trimStart().slice(0, 200).toLowerCase();
    const format: TextFormat = /^<(!doctype html|html|head|body|table|div|p)[\s>]/.test(start) ? 'html' : 'text';
    return { kind: 'text', format, encoding: 'utf-8' };
  }
  return { kind: 'binary' };
}

/** No NUL bytes and few control characters in the first 8 KB. */
function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 8192);
  if (n === 0) return false;
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c === 0) return false;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) control++;
  }
  return control / n < 0.01;
}

/** A ZIP's flavour from its entry names and ODF `mimetype` entry. */
export function zipKind(entries: readonly ZipEntry[], mimetype: () => string | undefined): ZipKind {
  const names = new Set(entries.map((e) => e.name));
  if (names.has('[Content_Types].xml')) {
    if (names.has('word/document.xml')) return 'docx';
    if (names.has('xl/workbook.xml')) return 'xlsx';
    if (names.has('ppt/presentation.xml')) return 'pptx';
  }
  if (names.has('mimetype') && names.has('content.xml')) {
    const type = mimetype()?.trim() ?? '';
    if (type.startsWith('application/vnd.oasis.opendocument.text')) return 'odt';
    if (type.startsWith('application/vnd.oasis.opendocument.spreadsheet')) return 'ods';
    if (type.startsWith('application/vnd.oasis.opendocument.presentation')) return 'odp';
  }
  return 'zip';
}

const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
const OLE_STREAMS: readonly [Buffer, OleKind][] = [
  [utf16('__substg1.0_'), 'msg'],
  [utf16('__properties_version1.0'), 'msg'],
  [utf16('EncryptedPackage'), 'encrypted-office'],
  [utf16('WordDocument'), 'doc'],
  [utf16('Workbook'), 'xls'],
  [utf16('Book'), 'xls'],
  [utf16('PowerPoint Document'), 'ppt'],
];

/** An OLE compound file's flavour from the stream names in its directory (UTF-16 on disk). */
export function oleKind(b: Uint8Array): OleKind {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (const [name, kind] of OLE_STREAMS) if (buf.includes(name)) return kind;
  return 'ole';
}
