/**
 * mailparser adapter: raw message bytes → the segments a person would read (subject, text
 * body, HTML body as text, text-like attachments, nested messages recursively), each with
 * its location. Raw MIME and headers other than Subject are never scanned: they are full of
 * IDs, hashes and base64 that look like identifiers and are not PHI.
 */
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Joiner, Splitter, type SplitterChunk } from '@zone-eu/mailsplit';
import { simpleParser, type Attachment, type SimpleParserOptions } from 'mailparser';
import type { Segment } from '../model/segment.js';
import type { Problem } from '../model/problem.js';
import { withReadFieldsOnly } from './header-fields.js';
import { singlePartMessage, type MimeContent } from './single-part.js';
import { headerFields, isoDate, syntheticMessageId } from './header-values.js';
import { htmlToText } from './html.js';
import { DEFAULT_LIMITS, extractAttachment, messageExtraction, type ExtractContext, type ExtractLimits } from '../extract/index.js';
import { isDeclaredMessage } from '../extract/sniff.js';
import { safeReason } from '../common/safe-reason.js';

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
  /** Per-attachment limits (size, inflation, entries, ratio, pages, text, time); defaults in extract/context.ts. */
  readonly limits?: Partial<ExtractLimits>;
}

export const PARSER_OPTIONS: SimpleParserOptions = {
  skipHtmlToText: true, // we convert HTML ourselves, once, with tables kept
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  keepCidLinks: true, // no data: URLs inlined into the HTML
  checksumAlgo: false,
  ignoreEmbedded: true, // every message/rfc822 part arrives as an attachment; we recurse ourselves
};

export function messageIdOf(parsed: Pick<MimeContent, 'messageId'>, raw: Buffer): string {
  const id = parsed.messageId?.trim();
  return id ? id : syntheticMessageId(raw);
}

/**
 * The message's Date as an ISO time, or null when it has none that can be read. mailparser reads
 * the first Date field and puts the time of parsing in place of one it cannot read, which would
 * date the message the day it was scanned (and make two scans of it differ): then a later
 * readable Date field counts, else there is no date.
 */
function dateOf(parsed: MimeContent): string | null {
  const written = parsed.headerLines.filter((l) => l.key === 'date').map((l) => l.line.slice(l.line.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '').trim());
  const readable = (value: string): boolean => !Number.isNaN(new Date(value).getTime());
  if (written.length === 0 || readable(written[0] as string)) return isoDate(parsed.date);
  return isoDate(written.find(readable));
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

/** Parts that carry no human-written content: signatures and keys. Skipped without an error. */
const NOT_CONTENT = new Set([
  'application/pgp-signature',
  'application/pkcs7-signature',
  'application/x-pkcs7-signature',
  'application/pgp-keys',
  'application/pgp-encrypted', // the version marker of PGP/MIME; the encrypted part itself is reported
]);

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
  let parsed: MimeContent;
  try {
    parsed = await parseMime(raw);
  } catch (err) {
    const fields = headerFields(raw);
    problems.push({ code: 'parse-failed', message: `message could not be parsed: ${safeReason(err)}` });
    return { messageId: fields.messageId ?? syntheticMessageId(raw), date: isoDate(fields.date), segments, problems };
  }
  const extraction = messageExtraction({ ...DEFAULT_LIMITS, ...options.limits }, options.maxNestingDepth, segments, problems, (bytes, ctx) =>
    readAttached(bytes, ctx, extraction),
  );
  await collect(parsed, '', 0, extraction, segments);
  return {
    messageId: messageIdOf(parsed, raw),
    date: dateOf(parsed),
    ...(parsed.subject !== undefined ? { subject: parsed.subject } : {}),
    segments,
    problems,
  };
}

/**
 * mailparser, after giving every boundary-less multipart part the reading mail clients give it,
 * given only the header fields that are read (header-fields.ts); a message of one text part
 * (plain or HTML) is read without its streams (single-part.ts), to the same result.
 */
async function parseMime(raw: Buffer): Promise<MimeContent> {
  const read = withReadFieldsOnly(raw);
  const single = singlePartMessage(read);
  if (single) return single;
  const bytes = mayHaveBoundarylessMultipart(read) ? ((await boundarylessMultipartsAsText(read).catch(() => null)) ?? read) : read;
  return simpleParser(bytes, PARSER_OPTIONS);
}

/**
 * A Content-Type header naming a multipart type. Only a prefilter for the exact check below
 * (mailsplit, the splitter mailparser uses, decides), so it may match too much, never too little:
 * a `Content-Type :` with a space, a value folded onto the next line, any case.
 */
const MULTIPART_HEADER = /^content-type[ \t]*:(?:\r?\n)?[ \t]*multipart[ \t]*\/((?:[^\r\n]|\r?\n[ \t])*)/gim;
/** `boundary=x` or `boundary="x"`: a non-empty value. */
const HAS_BOUNDARY = /\bboundary[ \t]*=[ \t]*(?:"[^"\r\n]|[^\s";])/i;

/** True when some part may be `multipart/*` without a boundary mailsplit accepts (absent, empty, non-ASCII). */
export function mayHaveBoundarylessMultipart(raw: Buffer): boolean {
  for (const m of raw.toString('latin1').matchAll(MULTIPART_HEADER)) {
    const params = m[1] ?? '';
    if (!HAS_BOUNDARY.test(params) || /[^\x00-\x7f]/.test(params)) return true;
  }
  return false;
}

/**
 * mailparser drops the body of a `multipart/*` part that has no boundary (every line of it is
 * read as the space between parts): a message whose only body is such a part was reported with
 * nothing in it. Mail clients show that body as text, so it becomes `text/plain` here, and is
 * scanned as what a person sees. Null when no part needed it.
 */
export async function boundarylessMultipartsAsText(raw: Buffer): Promise<Buffer | null> {
  let changed = false;
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from([raw]),
    new Splitter({ ignoreEmbedded: true }), // attached messages are parsed (and fixed) on their own
    new Transform({
      objectMode: true,
      transform(chunk: SplitterChunk, _encoding, done) {
        if (chunk.type === 'node' && chunk.multipart && !chunk._boundary) {
          chunk.setContentType('text/plain');
          changed = true;
        }
        done(null, chunk);
      },
    }),
    new Joiner(),
    async function (joined: AsyncIterable<Buffer>) {
      for await (const piece of joined) chunks.push(piece);
    },
  );
  return changed ? Buffer.concat(chunks) : null;
}

type Extraction = ReturnType<typeof messageExtraction>;

/** An attached message (message/rfc822, or an .eml inside an archive), one level deeper. */
async function readAttached(bytes: Uint8Array, ctx: ExtractContext, extraction: Extraction): Promise<void> {
  if (ctx.depth + 1 > ctx.maxDepth) {
    ctx.problem('nesting-too-deep', `attached message nested deeper than ${ctx.maxDepth} levels, not read`);
    return;
  }
  let inner: MimeContent;
  try {
    inner = await parseMime(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    ctx.problem('parse-failed', `attached message could not be parsed: ${safeReason(err)}`);
    return;
  }
  await collect(inner, ctx.location.slice('attachment:'.length), ctx.depth + 1, extraction, null);
}

async function collect(parsed: MimeContent, prefix: string, depth: number, extraction: Extraction, top: Segment[] | null): Promise<void> {
  // A nested message's own subject and body belong to its attachment location.
  const bodyLocation = prefix ? `attachment:${prefix}` : 'body';
  const at = extraction.attachment(bodyLocation, depth);
  if (top && parsed.subject) top.push({ location: 'subject', item: 'body', format: 'subject', text: parsed.subject });
  else if (parsed.subject) at.text('subject', parsed.subject);
  if (parsed.text) at.text('text', parsed.text);
  if (typeof parsed.html === 'string' && parsed.html.length > 0) {
    const html = parsed.html;
    // A body that cannot be converted costs that body only: subject, text part and attachments stay.
    isolated(at, 'HTML body', () => at.text('html', htmlToText(html)));
  }

  const used = new Set<string>();
  for (const [index, att] of parsed.attachments.entries()) {
    let name = attachmentName(att, index);
    // Two attachments with one name get distinct locations, so findings are not merged.
    for (let n = 2; used.has(name); n++) name = `${attachmentName(att, index)} (${n})`;
    used.add(name);
    const location = `attachment:${prefix ? `${prefix}/${name}` : name}`;
    if (isDecoration(att) || NOT_CONTENT.has(att.contentType.toLowerCase())) continue;
    const declared = { name, contentType: att.contentType, ...(charsetOf(att) ? { charset: charsetOf(att) } : {}) };
    const ctx = extraction.attachment(location, depth);
    if (isDeclaredMessage(declared)) await isolatedAsync(ctx, 'attached message', () => ctx.readMessage(att.content));
    else await isolatedAsync(ctx, 'attachment', () => extractAttachment(att.content, ctx, declared));
  }
}

/** Runs one part's conversion; a throw becomes a `parse-failed` problem at that part, never the message's loss. */
function isolated(ctx: ExtractContext, what: string, run: () => void): void {
  try {
    run();
  } catch (err) {
    ctx.problem('parse-failed', `${what} could not be converted to text: ${safeReason(err)}`);
  }
}

async function isolatedAsync(ctx: ExtractContext, what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    ctx.problem('parse-failed', `${what} could not be converted to text: ${safeReason(err)}`);
  }
}
