/**
 * What every extractor gets: where it is (location, depth), the limits, and where to put text
 * and problems. One context tree per message; budgets are shared by the whole message, the
 * time limit and the text cap by one top-level attachment and everything inside it.
 */
import type { Segment } from '../model/segment.js';
import type { Problem, ProblemCode } from '../model/problem.js';

export interface ExtractLimits {
  /** Bytes of one attachment (or archive entry) before anything is read. */
  readonly maxAttachmentBytes: number;
  /** Bytes inflated from archives and Office files, all attachments of one message together. */
  readonly maxInflatedBytes: number;
  /** Entries of one archive (ZIP, and the parts of an Office file). */
  readonly maxArchiveEntries: number;
  /** Uncompressed : compressed size of one entry, checked from the central directory. */
  readonly maxCompressionRatio: number;
  /** PDF pages read per document. */
  readonly maxPages: number;
  /** Characters of text kept per top-level attachment (everything nested in it included). */
  readonly maxTextChars: number;
  /** Wall time per top-level attachment, checked between pages, entries and sheets. */
  readonly maxAttachmentMillis: number;
  /** OCR of images and of PDF pages without a text layer (`--no-ocr`: off). */
  readonly ocr: boolean;
  /** Pages OCRed per attachment (TIFF pages, image-only PDF pages). */
  readonly maxOcrPages: number;
  /** Wall time of OCR for one page, every orientation tried included. */
  readonly maxOcrPageMillis: number;
  /** Pixels of one image or page, read from its header before it is decoded. */
  readonly maxOcrPixels: number;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxAttachmentBytes: 50 * 1024 * 1024,
  maxInflatedBytes: 200 * 1024 * 1024,
  maxArchiveEntries: 10_000,
  maxCompressionRatio: 100,
  maxPages: 2_000,
  maxTextChars: 20_000_000,
  maxAttachmentMillis: 30_000,
  ocr: true,
  maxOcrPages: 20,
  maxOcrPageMillis: 20_000,
  maxOcrPixels: 40_000_000,
};

/** A problem an extractor raises to stop reading one file; `code` names what happened. */
export class ExtractError extends Error {
  override readonly name = 'ExtractError';
  constructor(
    readonly code: ProblemCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown to stop reading when `inTime` has returned false: the time-limit problem is already
 * recorded, so the dispatcher records nothing more for it.
 */
export class OutOfTime extends Error {
  override readonly name = 'OutOfTime';
}

/** Hint about an attachment that the bytes alone may not tell. */
export interface Declared {
  readonly name: string;
  readonly contentType?: string;
  readonly charset?: string;
}

interface MessageState {
  readonly limits: ExtractLimits;
  readonly maxDepth: number;
  readonly segments: Segment[];
  readonly problems: Problem[];
  inflated: number;
  /** Opens an attached message (message/rfc822 or .eml inside an archive) at a context. */
  readonly readMessage: (bytes: Uint8Array, ctx: ExtractContext) => Promise<void>;
}

interface AttachmentState {
  readonly deadline: number;
  chars: number;
  capped: boolean;
  timedOut: boolean;
}

export interface ExtractContext {
  /** `attachment:outer.zip/inner.pdf` */
  readonly location: string;
  /** How many containers (messages, archives) enclose this file. */
  readonly depth: number;
  readonly limits: ExtractLimits;
  readonly maxDepth: number;
  text(format: Segment['format'], text: string, part?: string): void;
  problem(code: ProblemCode, message: string, location?: string): void;
  /** A file inside this one: `location/name`, one level deeper. */
  child(name: string): ExtractContext;
  /** False (and a problem recorded once) when this attachment's time is up. */
  inTime(what: string): boolean;
  /** Milliseconds left of this attachment's time (negative when past). */
  remainingMs(): number;
  /** Reserves inflated bytes from the message's budget; throws an ExtractError when over. */
  reserve(bytes: number, what: string): void;
  readMessage(bytes: Uint8Array): Promise<void>;
}

export function messageExtraction(
  limits: ExtractLimits,
  maxDepth: number,
  segments: Segment[],
  problems: Problem[],
  readMessage: MessageState['readMessage'],
): { attachment(location: string, depth: number): ExtractContext } {
  const state: MessageState = { limits, maxDepth, segments, problems, inflated: 0, readMessage };
  return {
    attachment(location, depth) {
      return contextAt(state, { deadline: Date.now() + limits.maxAttachmentMillis, chars: 0, capped: false, timedOut: false }, location, depth);
    },
  };
}

function contextAt(m: MessageState, a: AttachmentState, location: string, depth: number): ExtractContext {
  const ctx: ExtractContext = {
    location,
    depth,
    limits: m.limits,
    maxDepth: m.maxDepth,
    text(format, text, part) {
      if (text.trim().length === 0 || a.capped) return;
      let kept = text;
      if (a.chars + text.length > m.limits.maxTextChars) {
        kept = text.slice(0, Math.max(0, m.limits.maxTextChars - a.chars));
        a.capped = true;
        ctx.problem('attachment-limit', `text over the ${m.limits.maxTextChars}-character limit; the rest is not scanned`);
      }
      a.chars += kept.length;
      m.segments.push({ location, item: location, format, text: kept, ...(part ? { part } : {}) });
    },
    problem(code, message, at) {
      m.problems.push({ code, message, location: at ?? location });
    },
    child(name) {
      return contextAt(m, a, `${location}/${name.replace(/\\/g, '/')}`, depth + 1);
    },
    inTime(what) {
      if (Date.now() <= a.deadline) return true;
      if (!a.timedOut) {
        a.timedOut = true;
        ctx.problem('attachment-limit', `${what}: time limit of ${m.limits.maxAttachmentMillis} ms reached; the rest is not read`);
      }
      return false;
    },
    remainingMs() {
      return a.deadline - Date.now();
    },
    reserve(bytes, what) {
      if (m.inflated + bytes > m.limits.maxInflatedBytes) {
        throw new ExtractError('attachment-limit', `${what}: inflating would exceed the ${m.limits.maxInflatedBytes}-byte limit per message; not read`);
      }
      m.inflated += bytes;
    },
    readMessage(bytes) {
      return m.readMessage(bytes, ctx);
    },
  };
  return ctx;
}
