/**
 * Streaming decoders for the PDF filters that pdf.js decodes without a limit, used only to
 * count how many bytes a stream's filter chain would produce: each decoder mirrors pdf.js's own
 * (LZWStream, RunLengthStream, AsciiHexStream, Ascii85Stream, FlateStream) byte for byte, takes
 * its input in pieces and hands its output on in pieces of at most 64 KB, so nothing is ever
 * held whole and the caller can stop at any piece (by throwing from `count`).
 */
import { Inflate } from 'fflate';

const PIECE = 64 * 1024;

/** A decoder stage: input pushed in pieces, `end` at the end of the stream's data. */
export interface Stage {
  push(chunk: Uint8Array): void;
  end(): void;
}

export type Sink = (chunk: Uint8Array) => void;

/** Collects single bytes and runs into 64 KB pieces for the next stage. */
class Pieces {
  private readonly buf = new Uint8Array(PIECE);
  private n = 0;
  constructor(private readonly out: Sink) {}
  byte(b: number): void {
    this.buf[this.n++] = b;
    if (this.n === PIECE) this.flush();
  }
  /** `count` copies of `b`. */
  fill(b: number, count: number): void {
    while (count > 0) {
      const k = Math.min(count, PIECE - this.n);
      this.buf.fill(b, this.n, this.n + k);
      this.n += k;
      count -= k;
      if (this.n === PIECE) this.flush();
    }
  }
  /** The first `length` bytes of `seq`; past its end, zeros (as pdf.js reads past a typed array). */
  copy(seq: Uint8Array, length: number): void {
    let from = 0;
    const real = Math.min(length, seq.length);
    while (from < real) {
      const k = Math.min(real - from, PIECE - this.n);
      this.buf.set(seq.subarray(from, from + k), this.n);
      this.n += k;
      from += k;
      if (this.n === PIECE) this.flush();
    }
    if (length > real) this.fill(0, length - real);
  }
  flush(): void {
    if (this.n === 0) return;
    const n = this.n;
    this.n = 0;
    this.out(this.buf.subarray(0, n));
  }
}

/**
 * LZWDecode as pdf.js's LZWStream: codes of 9 to 12 bits, 256 clears, 257 ends; a code not yet
 * in the table repeats the previous sequence plus its first byte (pdf.js never rejects a code);
 * the code width grows `earlyChange` codes early (1 unless /DecodeParms says otherwise; pdf.js
 * uses whatever value is there, so the same arithmetic is done on it here).
 */
export function lzwStage(out: Sink, earlyChange: number): Stage {
  const size = 4096;
  const values = new Uint8Array(size);
  const lengths = new Uint16Array(size);
  const prevCodes = new Uint16Array(size);
  const seq = new Uint8Array(size);
  for (let i = 0; i < 256; i++) (values[i] = i), (lengths[i] = 1);
  const pieces = new Pieces(out);
  let nextCode = 258;
  let codeLength = 9;
  let prevCode = 0;
  let seqLength = 0;
  let cached = 0;
  let bits = 0;
  let done = false;

  function code(j: number): void {
    const hasPrev = seqLength > 0;
    if (j < 256) (seq[0] = j), (seqLength = 1);
    else if (j >= 258) {
      if (j < nextCode) {
        seqLength = lengths[j] ?? 0;
        for (let a = seqLength - 1, r = j; a >= 0; a--) (seq[a] = values[r] ?? 0), (r = prevCodes[r] ?? 0);
      } else seq[seqLength++] = seq[0] ?? 0;
    } else if (j === 256) {
      codeLength = 9;
      nextCode = 258;
      seqLength = 0;
      return;
    } else {
      done = true;
      return;
    }
    if (hasPrev) {
      prevCodes[nextCode] = prevCode;
      lengths[nextCode] = (lengths[prevCode] ?? 0) + 1;
      values[nextCode] = seq[0] ?? 0;
      nextCode++;
      const k = nextCode + earlyChange;
      codeLength = k & (k - 1) ? codeLength : Math.min(Math.log(k) / 0.6931471805599453 + 1, 12) | 0;
    }
    prevCode = j;
    pieces.copy(seq, seqLength);
  }

  return {
    push(chunk) {
      for (let i = 0; i < chunk.length && !done; i++) {
        cached = (cached << 8) | (chunk[i] ?? 0);
        bits += 8;
        while (bits >= codeLength && !done) {
          bits -= codeLength;
          code((cached >>> bits) & ((1 << codeLength) - 1));
        }
      }
      pieces.flush();
    },
    end() {
      pieces.flush();
    },
  };
}

/**
 * RunLengthDecode as pdf.js's RunLengthStream: n < 128 copies n + 1 bytes, n > 128 repeats the
 * next byte 257 - n times, 128 ends. A literal run cut short by the end of the data still counts
 * n + 1 bytes (pdf.js advances its length by n whatever it read).
 */
export function runLengthStage(out: Sink): Stage {
  const pieces = new Pieces(out);
  let head = -1; // the run's length byte, once read
  let literal = 0; // literal bytes still to copy
  let done = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length && !done; i++) {
        const b = chunk[i] ?? 0;
        if (literal > 0) {
          pieces.byte(b);
          literal--;
        } else if (head < 0) {
          head = b;
        } else {
          if (head === 128) done = true;
          else if (head < 128) pieces.byte(b), (literal = head);
          else pieces.fill(b, 257 - head);
          head = -1;
        }
      }
      if (head === 128) done = true;
      pieces.flush();
    },
    end() {
      if (literal > 0 && !done) pieces.fill(0, literal);
      literal = 0;
      pieces.flush();
    },
  };
}

/** ASCIIHexDecode as pdf.js: hex digits in pairs, other bytes skipped, `>` ends (a lone last digit then counts as `d0`). */
export function asciiHexStage(out: Sink): Stage {
  const pieces = new Pieces(out);
  let first = -1;
  let done = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length && !done; i++) {
        const o = chunk[i] ?? 0;
        let digit: number;
        if (o >= 48 && o <= 57) digit = o & 15;
        else if ((o >= 65 && o <= 70) || (o >= 97 && o <= 102)) digit = (o & 15) + 9;
        else if (o === 62) {
          done = true;
          if (first >= 0) pieces.byte(first << 4);
          break;
        } else continue;
        if (first < 0) first = digit;
        else pieces.byte((first << 4) | digit), (first = -1);
      }
      pieces.flush();
    },
    end() {
      pieces.flush();
    },
  };
}

/** ASCII85Decode as pdf.js: groups of five, `z` for four zeros, `~` (or the end) ends with a short group. */
export function ascii85Stage(out: Sink): Stage {
  const pieces = new Pieces(out);
  const group = new Uint8Array(5);
  let l = 0;
  let done = false;
  function emit(n: number): void {
    for (let k = l; k < 5; k++) group[k] = 117;
    let c = 0;
    for (let k = 0; k < 5; k++) c = c * 85 + ((group[k] ?? 0) - 33);
    const bytes = [0, 0, 0, 0];
    for (let k = 3; k >= 0; --k) (bytes[k] = c & 255), (c >>= 8);
    for (let k = 0; k < n; k++) pieces.byte(bytes[k] ?? 0);
    l = 0;
  }
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length && !done; i++) {
        const a = chunk[i] ?? 0;
        if (a === 32 || a === 9 || a === 13 || a === 10) continue;
        if (l === 0 && a === 126) done = true;
        else if (l === 0 && a === 122) pieces.fill(0, 4);
        else if (a === 126) emit(l - 1), (done = true);
        else {
          group[l++] = a;
          if (l === 5) emit(4);
        }
      }
      pieces.flush();
    },
    end() {
      if (!done && l > 0) emit(l - 1);
      done = true;
      pieces.flush();
    },
  };
}

/** Thrown when FlateDecode data is damaged: past that point pdf.js's size is unknown. */
export class DamagedFlate extends Error {}

/**
 * FlateDecode: the zlib header is checked as pdf.js checks it (a bad one makes pdf.js's stream
 * empty), then raw DEFLATE is inflated in 1 KB input pieces, so one piece inflates to at most
 * about 1 MB.
 */
export function flateStage(out: Sink): Stage {
  const header: number[] = [];
  let bad = false;
  let finished = false;
  const inflate = new Inflate((data, final) => {
    for (let at = 0; at < data.length; at += PIECE) out(data.subarray(at, at + PIECE));
    if (final) finished = true;
  });
  function feed(data: Uint8Array, final: boolean): void {
    if (finished) return;
    try {
      // copied: fflate may keep a piece it has not used up, and the upstream stage reuses its buffer
      for (let at = 0; at < data.length && !finished; at += 1024) inflate.push(data.slice(at, at + 1024), final && at + 1024 >= data.length);
      if (final && data.length === 0) inflate.push(new Uint8Array(0), true);
    } catch (err) {
      // fflate's own errors carry a numeric code; anything else (the budget) passes through
      if (err instanceof Error && typeof (err as { code?: unknown }).code === 'number') throw new DamagedFlate(err.message);
      throw err;
    }
  }
  return {
    push(chunk) {
      if (bad) return;
      let from = 0;
      while (header.length < 2 && from < chunk.length) header.push(chunk[from++] ?? 0);
      if (header.length < 2) return;
      if (from > 0) {
        const [cmf = 0, flg = 0] = header;
        if ((cmf & 0x0f) !== 8 || ((cmf << 8) + flg) % 31 !== 0 || flg & 0x20) {
          bad = true;
          return;
        }
      }
      feed(chunk.subarray(from), false);
    },
    end() {
      // data cut short after the last whole piece: what could be inflated was counted
      if (!bad && header.length === 2) {
        try {
          feed(new Uint8Array(0), true);
        } catch (err) {
          if (!(err instanceof DamagedFlate)) throw err;
        }
      }
    },
  };
}

/** A PDF object as far as filter chains need it: names, numbers, arrays, dictionaries, references. */
export type PdfValue = { readonly name: string } | number | readonly PdfValue[] | PdfDict | { readonly ref: string } | null | { readonly other: true };
export type PdfDict = ReadonlyMap<string, PdfValue>;

const OTHER = { other: true } as const;
const DELIMITERS = new Set([...'()<>[]{}/%'].map((c) => c.charCodeAt(0)));
const isSpace = (c: number): boolean => c === 0 || c === 9 || c === 10 || c === 12 || c === 13 || c === 32;

/**
 * Reads one PDF object from `s` (latin1) at `pos`: enough of the syntax to read a stream's
 * dictionary the way pdf.js's lexer does (names with #-escapes, comments, strings skipped,
 * `N G R` references). Nesting deeper than 64 reads as "other".
 */
export function readPdfValue(s: string, pos: number, depth = 0): { value: PdfValue; end: number } {
  const skip = (p: number): number => {
    for (;;) {
      while (p < s.length && isSpace(s.charCodeAt(p))) p++;
      if (s[p] !== '%') return p;
      while (p < s.length && s[p] !== '\n' && s[p] !== '\r') p++;
    }
  };
  const word = (p: number): number => {
    while (p < s.length && !isSpace(s.charCodeAt(p)) && !DELIMITERS.has(s.charCodeAt(p))) p++;
    return p;
  };
  let p = skip(pos);
  if (p >= s.length) return { value: OTHER, end: p };
  if (s.startsWith('<<', p)) {
    const dict = new Map<string, PdfValue>();
    p += 2;
    for (;;) {
      p = skip(p);
      if (p >= s.length) return { value: OTHER, end: p };
      if (s.startsWith('>>', p)) return { value: depth > 64 ? OTHER : dict, end: p + 2 };
      const key = readPdfValue(s, p, depth + 1);
      if (key.end <= p) return { value: OTHER, end: s.length };
      const val = readPdfValue(s, key.end, depth + 1);
      if (typeof key.value === 'object' && key.value !== null && 'name' in key.value) dict.set(key.value.name, val.value);
      p = val.end;
    }
  }
  const c = s[p];
  if (c === '[') {
    const items: PdfValue[] = [];
    p++;
    for (;;) {
      p = skip(p);
      if (p >= s.length) return { value: OTHER, end: p };
      if (s[p] === ']') return { value: depth > 64 ? OTHER : items, end: p + 1 };
      const item = readPdfValue(s, p, depth + 1);
      if (item.end <= p) return { value: OTHER, end: s.length };
      items.push(item.value);
      p = item.end;
    }
  }
  if (c === '/') {
    const end = word(p + 1);
    return { value: { name: s.slice(p + 1, end).replace(/#([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) }, end };
  }
  if (c === '(') {
    let nest = 0;
    for (p++; p < s.length; p++) {
      if (s[p] === '\\') p++;
      else if (s[p] === '(') nest++;
      else if (s[p] === ')' && nest-- === 0) return { value: OTHER, end: p + 1 };
    }
    return { value: OTHER, end: p };
  }
  if (c === '<') {
    const end = s.indexOf('>', p);
    return { value: OTHER, end: end < 0 ? s.length : end + 1 };
  }
  if (c === ']' || c === '>' || c === ')' || c === '{' || c === '}') return { value: OTHER, end: p + 1 };
  const end = Math.max(word(p), p + 1);
  const token = s.slice(p, end);
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(token)) {
    // `N G R` is a reference
    const m = /^\s+(\d+)\s+R(?![^\s()<>[\]{}/%])/.exec(s.slice(end, end + 32));
    if (m && /^\d+$/.test(token)) return { value: { ref: `${token} ${m[1]}` }, end: end + m[0].length };
    return { value: Number(token), end };
  }
  return { value: token === 'null' ? null : OTHER, end };
}

/** One step of a filter chain. `params` is the step's /DecodeParms, `bad` when pdf.js would fail to build it. */
export interface FilterStep {
  readonly name: string;
  readonly params: PdfDict | null;
  readonly bad?: boolean;
}

const ABBREVIATIONS: Record<string, string> = { Fl: 'FlateDecode', LZW: 'LZWDecode', RL: 'RunLengthDecode', AHx: 'ASCIIHexDecode', A85: 'ASCII85Decode', DCT: 'DCTDecode', CCF: 'CCITTFaxDecode' };

const isDict = (v: PdfValue | undefined): v is PdfDict => v instanceof Map;
const nameOf = (v: PdfValue | undefined): string | undefined => (typeof v === 'object' && v !== null && 'name' in v ? v.name : undefined);

/**
 * The filter chain of a stream dictionary, as pdf.js builds it (`/F` before `/Filter`, `/DP`
 * before `/DecodeParms`, a parameter array only with a filter array); references are resolved
 * by `resolve`. Undefined when a filter name cannot be known (pdf.js would refuse the stream).
 */
export function filterChain(dict: PdfDict, resolve: (v: PdfValue | undefined) => PdfValue | undefined): FilterStep[] | undefined {
  const filter = resolve(dict.get('F') ?? dict.get('Filter'));
  const params = resolve(dict.get('DP') ?? dict.get('DecodeParms'));
  const full = (name: string): string => ABBREVIATIONS[name] ?? name;
  const withRefs = (p: PdfValue | undefined): PdfDict | null => (isDict(p) ? new Map([...p].map(([k, v]) => [k, resolve(v) ?? null])) : null);
  const single = nameOf(filter);
  if (single !== undefined) return [{ name: full(single), params: withRefs(params), bad: Array.isArray(params) }];
  if (!Array.isArray(filter)) return [];
  const steps: FilterStep[] = [];
  for (const [i, item] of (filter as readonly PdfValue[]).entries()) {
    const name = nameOf(resolve(item));
    if (name === undefined) return undefined;
    const p = Array.isArray(params) ? resolve((params as readonly PdfValue[])[i]) : undefined;
    steps.push({ name: full(name), params: withRefs(p) });
  }
  return steps;
}

/** Filters whose output can be larger than their input: their output is what is counted. */
export const EXPANDING = new Set(['FlateDecode', 'LZWDecode', 'RunLengthDecode', 'ASCII85Decode']);

/** Image decoders: their output is bounded by pdf.js's image size limit, so a chain is followed up to them. */
const IMAGE_FILTERS = new Set(['DCTDecode', 'JPXDecode', 'CCITTFaxDecode', 'JBIG2Decode']);

export class UncheckableChain extends Error {}

/**
 * Builds the chain's decoders, last first; `count(bytes)` is handed the size of every piece an
 * expanding filter produces (and may throw to stop everything). Unknown names are skipped as
 * pdf.js skips them; the chain ends at an image filter or one pdf.js could not build. A
 * predictor between two expanding filters (which would change what the second one reads) makes
 * the chain uncheckable, as does BrotliDecode (no bounded streaming decoder here).
 */
export function chainStages(steps: readonly FilterStep[], count: (bytes: number) => void): Stage {
  let next: Stage = { push: () => undefined, end: () => undefined };
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (step === undefined) continue;
    if (step.name === 'BrotliDecode') throw new UncheckableChain('BrotliDecode');
    const downstream = next;
    const out: Sink = (chunk) => {
      count(chunk.length);
      downstream.push(chunk);
    };
    const predictor = step.params?.get('Predictor');
    if (typeof predictor === 'number' && predictor > 1 && steps.slice(i + 1).some((s) => EXPANDING.has(s.name))) throw new UncheckableChain('predictor');
    const stop: Stage = { push: () => undefined, end: () => undefined };
    let stage: Stage;
    switch (step.name) {
      case 'FlateDecode':
        stage = step.bad ? stop : flateStage(out);
        break;
      case 'LZWDecode': {
        const early = step.params?.get('EarlyChange');
        // pdf.js does its arithmetic on whatever /EarlyChange holds: a non-number gives NaN there too
        stage = step.bad ? stop : lzwStage(out, early === undefined ? 1 : typeof early === 'number' ? early : NaN);
        break;
      }
      case 'RunLengthDecode':
        stage = runLengthStage(out);
        break;
      case 'ASCII85Decode':
        stage = ascii85Stage(out);
        break;
      case 'ASCIIHexDecode':
        stage = asciiHexStage((chunk) => downstream.push(chunk));
        break;
      default:
        stage = IMAGE_FILTERS.has(step.name) ? stop : next;
    }
    const inner = stage;
    next = { push: (c) => inner.push(c), end: () => (inner.end(), downstream === inner ? undefined : downstream.end()) };
  }
  return next;
}
