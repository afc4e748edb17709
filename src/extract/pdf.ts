/**
 * PDF: the text layer of every page (pdf.js through unpdf, eval off, no fonts loaded), one
 * part per page. Encrypted documents, pages that are only images, and documents over the page
 * limit are reported, never silently skipped.
 */
import { constants, createInflate } from 'node:zlib';
import { ExtractError, OutOfTime, type ExtractContext } from './context.js';
import { toGray, type Gray } from './image.js';
import { ocrOnePage } from './ocr-pages.js';
import { chainStages, DamagedFlate, EXPANDING, filterChain, readPdfValue, UncheckableChain, type PdfValue } from './pdf-filters.js';

/** Pixels of one image pdf.js may decode (to tell image-only pages); larger ones are skipped. */
const MAX_IMAGE_PIXELS = 40_000_000;

interface TextItem {
  readonly str: string;
  readonly hasEOL?: boolean;
  readonly transform?: readonly number[];
}

/** The pdf.js module is loaded once per process (worker thread), on the first PDF. */
let pdfjs: Promise<typeof import('unpdf')> | undefined;

const IMAGE_OPS_NAMES = ['paintImageXObject', 'paintInlineImageXObject', 'paintImageMaskXObject', 'paintImageXObjectRepeat', 'paintInlineImageXObjectGroup'] as const;

function pageText(items: readonly unknown[]): string {
  const out: string[] = [];
  let lastY: number | undefined;
  for (const raw of items) {
    if (typeof raw !== 'object' || raw === null || !('str' in raw)) continue;
    const item = raw as TextItem;
    const y = item.transform?.[5];
    if (lastY !== undefined && y !== undefined && Math.abs(y - lastY) > 1 && out.length > 0 && !out[out.length - 1]?.endsWith('\n')) out.push('\n');
    else if (out.length > 0 && !/\s$/.test(out[out.length - 1] ?? '') && !/^\s/.test(item.str)) out.push(' ');
    out.push(item.str);
    if (item.hasEOL) out.push('\n');
    if (y !== undefined) lastY = y;
  }
  return out.join('');
}

const STREAM = Buffer.from('stream');

/**
 * Inflates every zlib stream of the file, counting and discarding the output, before pdf.js
 * (which inflates streams itself, without a limit) sees it. Every byte is charged to the
 * message's inflation budget, so a stream that would inflate past it makes the PDF an
 * `attachment-limit` error, after at most the budget was inflated (in 64 KB pieces: memory
 * stays flat). Streams are found by their `stream` keyword and the zlib header pdf.js itself
 * requires of FlateDecode data, whatever the dictionary says (names can be #-escaped). The
 * attachment's time limit is checked as it goes.
 */
export async function checkPdfStreams(bytes: Uint8Array, ctx: ExtractContext): Promise<void> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const objects = new ObjectFinder(buf);
  let from = 0;
  for (let at = buf.indexOf(STREAM, from); at >= 0; at = buf.indexOf(STREAM, from)) {
    const dictFrom = from;
    from = at + STREAM.length;
    let start = from;
    if (buf[start] === 0x0d) start++;
    if (buf[start] === 0x0a) start++;
    if (start === from) continue; // `endstream`, or the word inside some text
    const chained = chainedStream(buf, dictFrom, at, start, objects);
    if (chained !== undefined) {
      countChain(buf.subarray(start, chained.end), chained.steps, ctx);
      from = Math.max(from, chained.end);
      continue;
    }
    const cmf = buf[start] ?? 0;
    const flg = buf[start + 1] ?? 0;
    if ((cmf & 0x0f) !== 8 || ((cmf << 8) | flg) % 31 !== 0 || (flg & 0x20) !== 0) continue;
    // zlib stops at the end of the stream: what follows it is not read
    const { consumed, damaged } = await countInflated(buf.subarray(start), (n) => {
      if (!ctx.inTime('pdf')) throw new OutOfTime();
      ctx.reserve(n, 'pdf');
    });
    // pdf.js's inflater goes on past damage zlib stops at (an empty stored block, a distance too
    // far back): past that point the size is unknown, so a damaged FlateDecode stream is refused
    if (damaged && declaresFlate(buf, at)) throw new ExtractError('corrupt-attachment', 'pdf: a compressed stream is damaged, its size cannot be checked; not read');
    from = Math.max(from, start + consumed);
  }
}

const ENDSTREAM = Buffer.from('endstream');

/** Finds `N G obj` in the file (one pass, on the first reference), to resolve references in stream dictionaries. */
class ObjectFinder {
  private offsets: Map<string, number> | undefined;
  private text: string | undefined;
  constructor(private readonly buf: Buffer) {}
  resolve = (v: PdfValue | undefined, depth = 0): PdfValue | undefined => {
    if (typeof v !== 'object' || v === null || !('ref' in v) || depth > 8) return v;
    this.text ??= this.buf.toString('latin1');
    if (this.offsets === undefined) {
      this.offsets = new Map();
      // the last definition wins, as in pdf.js's rebuilt cross-reference table
      for (const m of this.text.matchAll(/(?<![0-9])(\d+)\s+(\d+)\s+obj\b/g)) this.offsets.set(`${m[1]} ${m[2]}`, m.index + m[0].length);
    }
    const at = this.offsets.get(v.ref);
    return at === undefined ? null : this.resolve(readPdfValue(this.text.slice(at, at + 4096), 0).value, depth + 1);
  };
}

/**
 * The filter chain of the stream whose `stream` keyword is at `at`, when it is one the zlib
 * pass cannot check on its own: any LZW, RunLength or ASCII85 step, or FlateDecode behind
 * another filter (its data then does not start with a zlib header). `end` is where pdf.js
 * takes its data to end: at /Length when `endstream` follows it, else at the first `endstream`
 * (the further of the two when they disagree, so that nothing is left uncounted).
 */
function chainedStream(buf: Buffer, lowest: number, at: number, start: number, objects: ObjectFinder): { steps: ReturnType<typeof filterChain> & object; end: number } | undefined {
  if (buf.toString('latin1', Math.max(0, at - 3), at) === 'end') return undefined;
  // only what follows the previous stream is searched: linear over the file
  const dict = streamDict(buf.subarray(lowest, at).toString('latin1'));
  if (dict === undefined) return undefined;
  const steps = filterChain(dict, objects.resolve);
  if (steps === undefined) throw new ExtractError('corrupt-attachment', 'pdf: a stream names a filter that cannot be read, its size cannot be checked; not read');
  const checked = steps.some((s, i) => s.name !== 'FlateDecode' ? EXPANDING.has(s.name) : i > 0) || steps.some((s) => s.name === 'BrotliDecode');
  if (!checked) return undefined;
  const found = buf.indexOf(ENDSTREAM, start);
  const byKeyword = found < 0 ? buf.length : found;
  const length = objects.resolve(dict.get('Length'));
  if (typeof length === 'number' && Number.isInteger(length) && length >= 0 && start + length <= buf.length) {
    const after = buf.subarray(start + length, start + length + 64).toString('latin1');
    return { steps, end: /^\s*endstream/.test(after) ? start + length : Math.max(start + length, byKeyword) };
  }
  return { steps, end: byKeyword };
}

/**
 * The dictionary right before a `stream` keyword (`text` ends there): the value after one of the
 * last 8 `obj` keywords that ends just before the keyword (an `obj` inside a string of the
 * dictionary does not), else the one after the last `obj`.
 */
function streamDict(text: string): ReadonlyMap<string, PdfValue> | undefined {
  let fallback: PdfValue | undefined;
  let at = text.length;
  for (let tries = 0; tries < 8; tries++) {
    at = text.lastIndexOf('obj', at - 1);
    if (at < 0) break;
    const { value, end } = readPdfValue(text, at + 3);
    fallback ??= value;
    if (value instanceof Map && /^\s*$/.test(text.slice(end))) return value;
  }
  if (fallback === undefined) fallback = readPdfValue(text, Math.max(0, text.indexOf('<<'))).value;
  return fallback instanceof Map ? fallback : undefined;
}

/** Decodes one stream's data through its chain, charging every expanding step's output to the budget. */
function countChain(data: Buffer, steps: NonNullable<ReturnType<typeof filterChain>>, ctx: ExtractContext): void {
  try {
    const chain = chainStages(steps, (n) => {
      if (!ctx.inTime('pdf')) throw new OutOfTime();
      ctx.reserve(n, 'pdf');
    });
    for (let at = 0; at < data.length; at += 64 * 1024) {
      if (!ctx.inTime('pdf')) throw new OutOfTime();
      chain.push(data.subarray(at, at + 64 * 1024));
    }
    chain.end();
  } catch (err) {
    if (err instanceof DamagedFlate) throw new ExtractError('corrupt-attachment', 'pdf: a compressed stream is damaged, its size cannot be checked; not read');
    if (err instanceof UncheckableChain) throw new ExtractError('corrupt-attachment', `pdf: a stream's filters (${err.message}) cannot be checked for size; not read`);
    throw err;
  }
}

/** Whether the dictionary before a `stream` keyword names FlateDecode (`/Fl`), #-escapes decoded. */
function declaresFlate(buf: Buffer, streamAt: number): boolean {
  const head = buf.subarray(Math.max(0, streamAt - 4096), streamAt).toString('latin1');
  const dict = head.slice(Math.max(0, head.lastIndexOf('obj'))).replace(/#([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return /\/(FlateDecode|Fl)(?![A-Za-z])/.test(dict);
}

/**
 * Inflates zlib data, handing each output piece's size to `count` (which may throw to stop);
 * resolves with the input bytes used and whether the data was damaged (a wrong checksum at the
 * very end is not damage: everything was inflated).
 */
function countInflated(data: Buffer, count: (bytes: number) => void): Promise<{ consumed: number; damaged: boolean }> {
  return new Promise((resolve, reject) => {
    const z = createInflate({ finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 64 * 1024 });
    let stopped: unknown;
    z.on('data', (chunk: Buffer) => {
      if (stopped !== undefined) return;
      try {
        count(chunk.length);
      } catch (err) {
        stopped = err;
        z.destroy();
      }
    });
    z.on('error', (err: NodeJS.ErrnoException) => resolve({ consumed: z.bytesWritten, damaged: !/incorrect data check/.test(err.message) }));
    z.on('end', () => resolve({ consumed: z.bytesWritten, damaged: false }));
    z.on('close', () => (stopped !== undefined ? reject(stopped) : resolve({ consumed: z.bytesWritten, damaged: false })));
    z.end(data);
  });
}

/**
 * pdf.js yields between slices of a page's work: a page still running when the attachment's
 * time is up is abandoned (the document is destroyed on the way out) and the time limit recorded,
 * rather than running into the worker's whole-message timeout.
 */
async function beforeDeadline<T>(work: Promise<T>, ctx: ExtractContext): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OutOfTime()), Math.max(0, ctx.remainingMs()) + 1);
  });
  try {
    return await Promise.race([work, late]);
  } catch (err) {
    if (err instanceof OutOfTime) ctx.inTime('pdf'); // records the time limit
    throw err;
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // an abandoned page's later failure is no one's business
  }
}

interface PdfImage {
  readonly width?: number;
  readonly height?: number;
  readonly kind?: number;
  readonly data?: Uint8Array | Uint8ClampedArray;
}

type PdfPage = Awaited<ReturnType<Awaited<ReturnType<typeof import('unpdf').getDocumentProxy>>['getPage']>>;
type OperatorList = Awaited<ReturnType<PdfPage['getOperatorList']>>;

/** pdf.js's image kinds (ImageKind): 1 bit grey (1 = white), RGB, RGBA; image masks are 1 bit too. */
function pdfImageToGray(img: PdfImage): Gray | undefined {
  const { width, height, data, kind } = img;
  if (!width || !height || !data) return undefined;
  if (kind === 2 && data.length >= width * height * 3) return toGray(width, height, data as Uint8Array, 3);
  if (kind === 3 && data.length >= width * height * 4) return toGray(width, height, data as Uint8Array, 4);
  const row = (width + 7) >> 3;
  if (data.length < row * height) return undefined;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = ((data[y * row + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1 ? 255 : 0;
  return { width, height, data: out };
}

/** The largest image drawn on a page (a scan is one image per page), decoded by pdf.js within its size limit. */
async function largestImage(page: PdfPage, ops: OperatorList, imageOps: ReadonlySet<number>): Promise<Gray | undefined> {
  let best: PdfImage | undefined;
  for (let i = 0; i < ops.fnArray.length; i++) {
    if (!imageOps.has(ops.fnArray[i] ?? -1)) continue;
    const arg: unknown = (ops.argsArray[i] as unknown[] | undefined)?.[0];
    let img: unknown = arg;
    if (typeof arg === 'string') {
      const objs = arg.startsWith('g_') ? page.commonObjs : page.objs;
      img = await new Promise((resolve) => objs.get(arg, resolve));
    }
    if (typeof img !== 'object' || img === null) continue;
    const candidate = img as PdfImage;
    if ((candidate.width ?? 0) * (candidate.height ?? 0) > (best?.width ?? 0) * (best?.height ?? 0)) best = candidate;
  }
  return best ? pdfImageToGray(best) : undefined;
}

export async function extractPdf(bytes: Uint8Array, ctx: ExtractContext): Promise<void> {
  await checkPdfStreams(bytes, ctx);
  pdfjs ??= import('unpdf');
  const unpdf = await pdfjs;
  const lib = await unpdf.getResolvedPDFJS();
  const imageOps = new Set<number>(IMAGE_OPS_NAMES.map((n) => (lib.OPS as Record<string, number>)[n]).filter((n): n is number => n !== undefined));
  let doc: Awaited<ReturnType<typeof unpdf.getDocumentProxy>>;
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: pass a copy
    doc = await unpdf.getDocumentProxy(new Uint8Array(bytes), { isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0, stopAtErrors: false, maxImageSize: Math.min(MAX_IMAGE_PIXELS, ctx.limits.maxOcrPixels), isOffscreenCanvasSupported: false, isImageDecoderSupported: false });
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'PasswordException') throw new ExtractError('encrypted', 'pdf: encrypted, no text extracted');
    throw new ExtractError('corrupt-attachment', `pdf: cannot be read (${name === 'InvalidPDFException' ? 'invalid or truncated' : 'malformed'})`);
  }
  try {
    const pages = Math.min(doc.numPages, ctx.limits.maxPages);
    const imageOnly: number[] = [];
    /** Image-only pages past the OCR page limit. */
    const overOcr: number[] = [];
    let ocred = 0;
    let failed = 0;
    let withText = 0;
    for (let n = 1; n <= pages; n++) {
      if (!ctx.inTime('pdf')) return;
      try {
        const page = await beforeDeadline(doc.getPage(n), ctx);
        const text = pageText((await beforeDeadline(page.getTextContent(), ctx)).items);
        if (text.trim().length > 0) ctx.text('text', text, `page ${n}`), withText++;
        else {
          const ops = await beforeDeadline(page.getOperatorList(), ctx);
          if (ops.fnArray.some((op) => imageOps.has(op))) {
            if (!ctx.limits.ocr) imageOnly.push(n);
            else if (ocred >= ctx.limits.maxOcrPages) overOcr.push(n);
            else {
              ocred++;
              const image = await beforeDeadline(largestImage(page, ops, imageOps), ctx);
              if (!image) ctx.problem('corrupt-attachment', `pdf page ${n}: its image cannot be decoded; page not read`);
              else if ((await ocrOnePage('pdf', n, () => image, ctx)) === 'none') imageOnly.push(n);
            }
          }
        }
        page.cleanup();
      } catch (err) {
        if (err instanceof OutOfTime) return;
        failed++;
      }
    }
    if (imageOnly.length > 0) {
      const which = imageOnly.length === doc.numPages ? 'every page is' : `${imageOnly.length} page(s) (${imageOnly.slice(0, 10).join(', ')}${imageOnly.length > 10 ? ', …' : ''}) are`;
      ctx.problem('no-text', ctx.limits.ocr ? `pdf: ${which} an image without text (OCR found none)` : `pdf: ${which} an image without text: not read`);
    }
    // pages drawn as vector outlines or broken images: still nothing a person could check was read
    else if (withText === 0 && failed === 0 && ocred === 0 && overOcr.length === 0) ctx.problem('no-text', `pdf: no text layer on any of its ${doc.numPages} page(s): not read`);
    if (overOcr.length > 0) ctx.problem('attachment-limit', `pdf: ${overOcr.length} image-only page(s) (${overOcr.slice(0, 10).join(', ')}${overOcr.length > 10 ? ', …' : ''}) past the OCR page limit of ${ctx.limits.maxOcrPages}: not read`);
    if (failed > 0) ctx.problem('corrupt-attachment', `pdf: ${failed} page(s) could not be read`);
    if (doc.numPages > pages) ctx.problem('attachment-limit', `pdf: ${doc.numPages} pages, only the first ${pages} read (page limit)`);
  } finally {
    await doc.destroy();
  }
}
