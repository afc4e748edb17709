/**
 * A message that is one text part (no MIME structure, or `text/plain` or `text/html` written as
 * it is) read without mailparser's stream pipeline: the same result as `simpleParser` gives it, from
 * the same components. mailsplit's MimeNode reads the header and decides the structure exactly
 * as mailparser's splitter does, libmime decodes the three header fields the scan reads as
 * mailparser does (`processHeaders`), and the body is the bytes after the header. For such a
 * message mailparser is a chain of streams and event-loop turns around a copy of its body:
 * three quarters of its time on business mail (README, Benchmarks).
 *
 * Anything else — multipart or any part with a boundary, an attachment, base64, a character set
 * to convert, format=flowed, a header too large to be plainly one — returns null and goes to
 * mailparser.
 * Tested against mailparser itself: tests/parse/single-part.test.ts.
 */
import { isAscii } from 'node:buffer';
import { MimeNode } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import libqp from 'libqp';
import type { ParsedMail } from 'mailparser';

/** What the scan reads of a parsed message (parse/mime.ts), from mailparser or from here. */
export interface MimeContent {
  readonly subject?: string;
  readonly text?: string;
  readonly html?: ParsedMail['html'];
  readonly attachments: ParsedMail['attachments'];
  readonly messageId?: string;
  readonly headerLines: ParsedMail['headerLines'];
  readonly date?: Date;
}

/**
 * Headers larger than this go to mailparser, whose splitter limits a header block to 1 MiB
 * counting each line as at least 64 bytes: well inside that, the limit never applies here.
 */
const MAX_HEAD_BYTES = 8 * 1024;

/** Charsets mailparser does not decode: the body is read as UTF-8 (its `processChunk`). */
const READ_AS_UTF8 = new Set(['ascii', 'usascii', 'utf8']);
/** Charsets in which every 7-bit byte is the ASCII character: a 7-bit body reads the same in any of them. */
const ASCII_SUPERSET = /^(?:ansix341968|iso646us|us|iso8859\d{1,2}|latin\d|l\d|windows125\d|cp125\d|cp819|ibm819)$/;

const LF = 0x0a;

/** mailparser's reading of one header line's value (`processHeaders`, before the per-field step). */
function fieldValue(line: string): string {
  const value = String(libmime.decodeHeader(line)?.value ?? '').trim();
  return Buffer.from(value, 'binary').toString();
}

function decodedWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value; // mailparser keeps a value it cannot decode as it is
  }
}

/** mailparser's `ensureMessageIDFormat`. */
function messageIdFormat(value: string): string | undefined {
  if (!value.length) return undefined;
  return `${value.startsWith('<') ? '' : '<'}${value}${value.endsWith('>') ? '' : '>'}`;
}

/** The message's content as simpleParser gives it, or null when it is not one text part read as it is. */
export function singlePartMessage(raw: Buffer): MimeContent | null {
  const node = new MimeNode(false, {});
  let start = 0;
  let ended = false;
  while (start < raw.length && start <= MAX_HEAD_BYTES) {
    const newline = raw.indexOf(LF, start);
    if (newline === -1) return null; // a header that runs to the end of the message
    const line = raw.subarray(start, newline + 1);
    start = newline + 1;
    if (node.addHeaderChunk(line)) {
      ended = true;
      break;
    }
  }
  if (!ended || start > MAX_HEAD_BYTES) return null;
  node.parseHeaders();
  const html = node.contentType === 'text/html';
  // A boundary parameter makes mailsplit look for parts under any type, text too.
  if (node.multipart || node._boundary || (node.contentType !== 'text/plain' && !html) || node.flowed) return null;
  if (node.disposition && node.disposition !== 'inline') return null;
  // base64 is left to mailparser: its stream decoder's result depends on where chunks end.
  if (node.encoding === 'base64') return null;
  // mailsplit's quoted-printable decoder collects the body and decodes it whole, as here.
  const body = node.encoding === 'quoted-printable' ? libqp.decode(raw.subarray(start)) : raw.subarray(start);
  const charset = String(node.charset || 'utf-8')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
  if (!READ_AS_UTF8.has(charset) && !(ASCII_SUPERSET.test(charset) && isAscii(body))) return null;
  const headers = node.headers;
  if (!headers) return null;

  const content: { -readonly [K in keyof MimeContent]: MimeContent[K] } = { attachments: [], headerLines: headers.getList() };
  // The first non-empty value of each field counts (mailparser's singleKeys).
  for (const { key, line } of content.headerLines) {
    if (key === 'subject' && content.subject === undefined) {
      const subject = decodedWords(fieldValue(line));
      if (subject) content.subject = subject;
    } else if (key === 'message-id' && content.messageId === undefined) {
      content.messageId = messageIdFormat(decodedWords(fieldValue(line)));
    } else if (key === 'date' && content.date === undefined) {
      const date = new Date(fieldValue(line));
      content.date = Number.isNaN(date.getTime()) ? new Date() : date; // mailparser's "now" (parse/mime.ts dateOf sees through it)
    }
  }
  const text = body.toString().replace(/\r?\n/g, '\n');
  // mailparser's `getTextContent`: an HTML body alone is the HTML, and an empty text beside it.
  if (text && html) {
    content.html = text;
    content.text = '';
  } else if (text) content.text = text;
  return content;
}
