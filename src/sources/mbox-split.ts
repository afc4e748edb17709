/**
 * Streaming mbox splitter: bytes in, one message at a time out, memory bounded by the
 * largest message kept (oversize messages keep only their head).
 *
 * Formats (RFC 4155 and the de-facto variants):
 * - mboxo: body lines `From ` are written as `>From `; unescaping removes one `>`.
 * - mboxrd: every `^>*From ` line gets one more `>`; unescaping removes one `>`.
 *   Both are undone by the same rule, so we do not need to know which one wrote the file.
 * - mboxcl/mboxcl2: a `Content-Length` header counts the body bytes, and `From ` lines in the
 *   body may be left unescaped; a separator inside the counted body is therefore ignored.
 * A line is a separator when it starts with `From ` and either follows an empty line (or the
 * start of the file) or looks like a complete From_ line with an asctime date. LF and CRLF
 * files both work; offsets are plain numbers, exact up to 2^53 bytes, so files over 4 GB are fine.
 */
import { createHash, type Hash } from 'node:crypto';
import { OVERSIZE_HEAD_BYTES } from './types.js';

export interface SplitMessage {
  /** Byte offset of the message's From_ line in the file. */
  readonly offset: number;
  /** Byte offset where the next message's From_ line starts (or the end of the file). */
  readonly end: number;
  /** Size of the message itself, without From_ line and trailing separator blank line. */
  readonly size: number;
  readonly bytes: Buffer;
  readonly oversize?: { readonly limit: number; readonly sha256: string };
}

const LF = 0x0a;
const CR = 0x0d;
const FROM_ = Buffer.from('From ', 'latin1');
/** `From sender Mon Jan  1 00:00:00 2001` with optional time zone: asctime as mbox writers use it. */
const FROM_LINE_WITH_DATE =
  /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})? +(?:[+-]?\d{4} +|[A-Z]{2,5} +)?\d{4}\b/;
const CONTENT_LENGTH = /^content-length:[ \t]*(\d+)/i;

class MessageBuilder {
  parts: Buffer[] = [];
  kept = 0;
  size = 0;
  hash: Hash | undefined;
  inHeaders = true;
  bodyStart = -1;
  contentLength: number | undefined;

  constructor(
    readonly offset: number,
    private readonly maxBytes: number,
  ) {}

  add(piece: Buffer): void {
    this.size += piece.length;
    if (this.hash) {
      this.hash.update(piece);
      return;
    }
    this.parts.push(piece);
    this.kept += piece.length;
    if (this.size > this.maxBytes) {
      // Over the cap: from here on keep only the hash; the head is enough for an error record.
      this.hash = createHash('sha256');
      for (const p of this.parts) this.hash.update(p);
      const head = Buffer.concat(this.parts, this.kept).subarray(0, OVERSIZE_HEAD_BYTES);
      this.parts = [Buffer.from(head)];
      this.kept = head.length;
    }
  }

  finish(end: number): SplitMessage {
    if (this.hash) {
      return {
        offset: this.offset,
        end,
        size: this.size,
        bytes: this.parts[0] ?? Buffer.alloc(0),
        oversize: { limit: this.maxBytes, sha256: this.hash.digest('hex') },
      };
    }
    let bytes: Buffer = Buffer.concat(this.parts, this.kept);
    bytes = stripSeparatorBlankLine(bytes);
    bytes = unescapeFromLines(bytes);
    return { offset: this.offset, end, size: bytes.length, bytes };
  }
}

/** The empty line that precedes the next From_ line belongs to the mbox format, not the message. */
function stripSeparatorBlankLine(bytes: Buffer): Buffer {
  const n = bytes.length;
  if (n >= 4 && bytes[n - 1] === LF && bytes[n - 2] === CR && bytes[n - 3] === LF && bytes[n - 4] === CR) {
    return bytes.subarray(0, n - 2);
  }
  if (n >= 2 && bytes[n - 1] === LF && bytes[n - 2] === LF) return bytes.subarray(0, n - 1);
  return bytes;
}

const ESCAPED_FROM = /^>(>*From )/gm;
function unescapeFromLines(bytes: Buffer): Buffer {
  if (bytes.indexOf('>From ', 0, 'latin1') === -1) return bytes;
  // latin1 maps bytes 1:1 to code units, so a string round trip keeps every byte.
  return Buffer.from(bytes.toString('latin1').replace(ESCAPED_FROM, '$1'), 'latin1');
}

function isBlankLine(line: Buffer): boolean {
  return line.length === 1 ? line[0] === LF : line.length === 2 && line[0] === CR && line[1] === LF;
}

function startsWithFrom(line: Buffer): boolean {
  return line.length >= FROM_.length && line.compare(FROM_, 0, FROM_.length, 0, FROM_.length) === 0;
}

/** A line start shorter than this, cut by a chunk boundary, is carried into the next chunk. */
const CARRY_LIMIT = 256;

/**
 * Push-based splitter: `push()` chunks, take finished messages from `ready`, call `end()` last.
 * Lines are handled as slices of the chunks (no copy); only a line start cut by a chunk
 * boundary is copied, so a 50 MB line without newlines costs nothing extra.
 */
export class MboxSplitter {
  readonly ready: SplitMessage[] = [];
  private carry: Buffer | undefined;
  private offset: number;
  private atLineStart = true;
  private inSeparator = false;
  private previousBlank = false;
  private started = false;
  private current: MessageBuilder | undefined;

  constructor(
    private readonly maxBytes: number,
    startOffset = 0,
  ) {
    this.offset = startOffset;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    let base = this.offset;
    if (this.carry) {
      data = Buffer.concat([this.carry, chunk]);
      base -= this.carry.length;
      this.carry = undefined;
    }
    this.offset += chunk.length;
    let pos = 0;
    while (pos < data.length) {
      const nl = data.indexOf(LF, pos);
      const complete = nl !== -1;
      const end = complete ? nl + 1 : data.length;
      if (this.atLineStart && !complete && end - pos < CARRY_LIMIT) {
        this.carry = Buffer.from(data.subarray(pos));
        return;
      }
      this.line(data.subarray(pos, end), base + pos, complete);
      pos = end;
    }
  }

  end(): void {
    if (this.carry) {
      const rest = this.carry;
      this.carry = undefined;
      if (!this.started && rest.toString('latin1').trim() === '') return;
      this.line(rest, this.offset - rest.length, false);
    }
    if (this.current) this.ready.push(this.current.finish(this.offset));
    this.current = undefined;
  }

  private line(piece: Buffer, pieceOffset: number, complete: boolean): void {
    const lineStart = this.atLineStart;
    if (lineStart && this.isSeparator(piece)) {
      if (this.current) this.ready.push(this.current.finish(pieceOffset));
      this.current = new MessageBuilder(pieceOffset, this.maxBytes);
      this.inSeparator = true;
    }
    const current = this.current;
    if (!this.inSeparator && current) {
      current.add(piece);
      if (lineStart && current.inHeaders) {
        if (isBlankLine(piece)) {
          current.inHeaders = false;
          current.bodyStart = current.size;
        } else if (piece[0] === 0x43 || piece[0] === 0x63) {
          const m = CONTENT_LENGTH.exec(piece.subarray(0, 64).toString('latin1'));
          if (m?.[1]) current.contentLength = Number(m[1]);
        }
      }
    }
    if (complete) {
      this.previousBlank = lineStart && !this.inSeparator && isBlankLine(piece);
      this.inSeparator = false;
      this.atLineStart = true;
    } else {
      this.atLineStart = false;
    }
  }

  private isSeparator(line: Buffer): boolean {
    if (!this.started) {
      if (isBlankLine(line)) return false; // blank lines before the first From_ line are tolerated
      if (!startsWithFrom(line)) throw new NotAnMboxError();
      this.started = true;
      return true;
    }
    if (!startsWithFrom(line)) return false;
    const current = this.current;
    // mboxcl: inside the body counted by Content-Length, a From line is content.
    if (current?.contentLength !== undefined && current.bodyStart >= 0) {
      if (current.size - current.bodyStart < current.contentLength) return false;
    }
    if (this.previousBlank) return true;
    return FROM_LINE_WITH_DATE.test(line.subarray(0, CARRY_LIMIT).toString('latin1'));
  }
}

/** Splits an mbox byte stream; `startOffset` is the file offset of its first byte (a checkpoint). */
export async function* splitMbox(
  chunks: AsyncIterable<Buffer>,
  options: { maxMessageBytes: number; startOffset?: number },
): AsyncGenerator<SplitMessage> {
  const splitter = new MboxSplitter(options.maxMessageBytes, options.startOffset ?? 0);
  for await (const chunk of chunks) {
    splitter.push(chunk);
    while (splitter.ready.length > 0) yield splitter.ready.shift() as SplitMessage;
  }
  splitter.end();
  while (splitter.ready.length > 0) yield splitter.ready.shift() as SplitMessage;
}

export class NotAnMboxError extends Error {
  constructor() {
    super('not an mbox file (does not start with a From_ line)');
  }
}

/**
 * Where a byte range of an mbox file starts: the first separator line in [offset, limit), or
 * `limit` when there is none (no message starts in the range). Byte ranges let one large file
 * run as several units: range [a, b) holds the messages whose separator line starts in it, and
 * ends where the splitter reading it meets a separator at or after b. A line counts as a
 * separator by the splitter's own rule (a `From ` line after an empty line, or one with an
 * asctime date), so a range starts exactly where a one-pass split starts a message: quoted body
 * lines are escaped (`>From `) and never match. One case cannot be told from the bytes alone:
 * an mboxcl file whose Content-Length-counted body holds an unescaped `From ` line after an empty
 * line; such a file is read in one piece (PHI_SCAN_MBOX_RANGE_BYTES=0) if it must be split exactly.
 */
export async function rangeStart(read: (buffer: Buffer, position: number) => Promise<number>, offset: number, limit: number): Promise<number> {
  if (offset <= 0) return 0;
  const BLOCK = 1024 * 1024;
  // 3 bytes before: whether the line before is empty; CARRY_LIMIT after: the date of a From_ line.
  const buffer = Buffer.alloc(BLOCK + 3 + CARRY_LIMIT);
  let from = offset;
  while (from < limit) {
    const base = Math.max(0, from - 3);
    const n = await read(buffer, base);
    if (n <= 0) return limit;
    const data = buffer.subarray(0, n);
    const atEnd = n < buffer.length;
    // Candidates that start in this block with their line (up to CARRY_LIMIT bytes) inside it.
    const stop = atEnd ? n : n - CARRY_LIMIT;
    for (let i = data.indexOf('From ', from - base, 'latin1'); i !== -1 && i < stop; i = data.indexOf('From ', i + 1, 'latin1')) {
      const p = base + i;
      if (p >= limit) return limit;
      if (i > 0 && data[i - 1] !== LF) continue;
      const blankBefore = i >= 2 && data[i - 2] === LF ? true : i >= 3 && data[i - 2] === CR && data[i - 3] === LF;
      if (blankBefore) return p;
      const nl = data.indexOf(LF, i);
      const line = data.subarray(i, nl === -1 ? Math.min(n, i + CARRY_LIMIT) : Math.min(nl, i + CARRY_LIMIT)).toString('latin1');
      if (FROM_LINE_WITH_DATE.test(line)) return p;
    }
    if (atEnd) return limit;
    from = base + stop;
  }
  return limit;
}
