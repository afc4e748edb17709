/**
 * mailparser adapter: raw message bytes → the segments a person would read (subject, text
 * body, HTML body as text, text-like attachments, nested messages recursively), each with
 * its location. Raw MIME and headers other than Subject are never scanned: they are full of
 * IDs, hashes and base64 that look like identifiers and are not PHI.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { simpleParser, type Attachment, type ParsedMail, type SimpleParserOptions } from 'mailparser';
import type { Segment } from '../model/segment.js';
import type { Problem } from '../model/problem.js';
import { htmlToText } from './html.js';

export interface ParsedMessage {
  /** The Message-ID header as written, or `<sha256:HEX>` of the raw bytes. */
  readonly messageId: string;
  readonly date: string | null;
  /** Raw subject: stays inside the process (only its masked form is ever written). */
  readonly subject?: string;
  readonly segments: Segment[];
  readonly problems: Problem[];
}

export interface ParseOptions {
  /** How deep attached messages are opened (message/rfc822 inside message/rfc822 ...). */
  readonly maxNestingDepth: number;
}

const PARSER_OPTIONS: SimpleParserOptions = {
  skipHtmlToText: true, // we convert HTML ourselves, once, with tables kept
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  keepCidLinks: true, // no data: URLs inlined into the HTML
  checksumAlgo: false,
  ignoreEmbedded: true, // every message/rfc822 part arrives as an attachment; we recurse ourselves
};

type TextFormat = Segment['format'];

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

export function messageIdOf(parsed: Pick<ParsedMail, 'messageId'>, raw: Buffer): string {
  const id = parsed.messageId?.trim();
  return id ? id : syntheticMessageId(raw);
}

export function syntheticMessageId(raw: Buffer | string): string {
  const hex = typeof raw === 'string' ? raw : createHash('sha256').update(raw).digest('hex');
  return `<sha256:${hex}>`;
}

/** Message-ID and Date from a header block alone (an oversize message we do not parse). */
export function headerFields(head: Buffer): { messageId?: string; date?: string } {
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const id = /^message-id:[ \t]*(\S.*?)\s*$/im.exec(block)?.[1];
  const date = /^date:[ \t]*(\S.*?)\s*$/im.exec(block)?.[1];
  return { ...(id ? { messageId: id } : {}), ...(date ? { date } : {}) };
}

export function isoDate(value: Date | string | undefined): string | null {
  if (value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function decodeText(content: Buffer, charset: string | undefined): string {
  if (charset) {
    try {
      return new TextDecoder(charset.toLowerCase()).decode(content);
    } catch {
      // unknown charset label: fall through to UTF-8, which keeps ASCII digits and keywords intact
    }
  }
  return new TextDecoder('utf-8').decode(content);
}

function charsetOf(att: Attachment): string | undefined {
  const header = att.headers.get('content-type');
  if (header && typeof header === 'object' && 'params' in header) {
    const params = (header as { params?: Record<string, string> }).params;
    return params?.charset;
  }
  return undefined;
}

function attachmentName(att: Attachment, index: number): string {
  if (att.filename) return att.filename.replace(/\//g, '_');
  if (att.contentType === 'message/rfc822') return `message-${index + 1}.eml`;
  return `part-${index + 1}`;
}

/** Machine-readable parts that are text (delivery reports, header dumps): read as plain text. */
const TEXT_LIKE_PREFIXES = ['text/', 'message/delivery-status', 'message/disposition-notification', 'message/feedback-report', 'message/global-headers'];

/** Parts that carry no human-written content: signatures and keys. Skipped without an error. */
const NOT_CONTENT = new Set([
  'application/pgp-signature',
  'application/pkcs7-signature',
  'application/x-pkcs7-signature',
  'application/pgp-keys',
  'application/pgp-encrypted', // the version marker of PGP/MIME; the encrypted part itself is reported
]);

function textFormatOf(att: Attachment, name: string): TextFormat | undefined {
  const type = att.contentType.toLowerCase();
  const known = TEXT_EXTENSIONS[path.extname(name).toLowerCase()] ?? TEXT_TYPES[type];
  if (known) return known;
  return TEXT_LIKE_PREFIXES.some((p) => type.startsWith(p)) ? 'text' : undefined;
}

function isNestedMessage(att: Attachment, name: string): boolean {
  return att.contentType.toLowerCase() === 'message/rfc822' || /\.eml$/i.test(name);
}

/** Inline images of an HTML body (logos, signatures): decoration, not documents. */
function isDecoration(att: Attachment): boolean {
  return att.contentType.startsWith('image/') && (att.related === true || att.contentDisposition === 'inline');
}

/**
 * Parses one message. Never throws for bad input: a message mailparser cannot read at all
 * yields a `parse-failed` problem and no segments.
 */
export async function parseMessage(raw: Buffer, options: ParseOptions): Promise<ParsedMessage> {
  const segments: Segment[] = [];
  const problems: Problem[] = [];
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, PARSER_OPTIONS);
  } catch (err) {
    const fields = headerFields(raw);
    problems.push({ code: 'parse-failed', message: `message could not be parsed: ${safeReason(err)}` });
    return { messageId: fields.messageId ?? syntheticMessageId(raw), date: isoDate(fields.date), segments, problems };
  }
  await collect(parsed, '', 0, options, segments, problems);
  return {
    messageId: messageIdOf(parsed, raw),
    date: isoDate(parsed.date),
    ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
    segments,
    problems,
  };
}

async function collect(
  parsed: ParsedMail,
  prefix: string,
  depth: number,
  options: ParseOptions,
  segments: Segment[],
  problems: Problem[],
): Promise<void> {
  // A nested message's own subject and body belong to its attachment location.
  const subjectLocation = prefix ? `attachment:${prefix}` : 'subject';
  const bodyLocation = prefix ? `attachment:${prefix}` : 'body';
  if (parsed.subject) segments.push({ location: subjectLocation, item: bodyLocation, format: 'subject', text: parsed.subject });
  if (parsed.text) segments.push({ location: bodyLocation, item: bodyLocation, format: 'text', text: parsed.text });
  if (typeof parsed.html === 'string' && parsed.html.length > 0) {
    segments.push({ location: bodyLocation, item: bodyLocation, format: 'html', text: htmlToText(parsed.html) });
  }

  const used = new Set<string>();
  for (const [index, att] of parsed.attachments.entries()) {
    let name = attachmentName(att, index);
    // Two attachments with one name get distinct locations, so findings are not merged.
    for (let n = 2; used.has(name); n++) name = `${attachmentName(att, index)} (${n})`;
    used.add(name);
    const relative = prefix ? `${prefix}/${name}` : name;
    const location = `attachment:${relative}`;

    if (isNestedMessage(att, name)) {
      if (depth + 1 > options.maxNestingDepth) {
        problems.push({ code: 'nesting-too-deep', message: `attached message nested deeper than ${options.maxNestingDepth} levels, not read`, location });
        continue;
      }
      let inner: ParsedMail;
      try {
        inner = await simpleParser(att.content, PARSER_OPTIONS);
      } catch (err) {
        problems.push({ code: 'parse-failed', message: `attached message could not be parsed: ${safeReason(err)}`, location });
        continue;
      }
      await collect(inner, relative, depth + 1, options, segments, problems);
      continue;
    }

    const format = textFormatOf(att, name);
    if (format) {
      const text = decodeText(att.content, charsetOf(att));
      segments.push({ location, item: location, format, text: format === 'html' ? htmlToText(text) : text });
      continue;
    }
    if (isDecoration(att) || NOT_CONTENT.has(att.contentType.toLowerCase())) continue;
    problems.push({
      code: 'unsupported-attachment',
      message: `attachment type ${att.contentType || 'unknown'} is not read by this version (not scanned)`,
      location,
    });
  }
}

/** An error's message, cut to one line; parser errors describe structure, never content. */
export function safeReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // Parser errors describe structure, but may quote a header; tokens with digits are masked.
  return (text.split('\n')[0] ?? 'unknown error').slice(0, 200).replace(/[\p{L}\p{N}._-]*\p{N}[\p{L}\p{N}._-]*/gu, (t) => (t.length > 4 ? '…' : t));
}
