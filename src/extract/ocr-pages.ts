/**
 * Image attachments and image-only PDF pages through OCR: each page's text is a segment with
 * `part: page N`; a page that cannot be decoded or read in time is an error record naming it.
 */
import { safeReason } from '../common/safe-reason.js';
import { ExtractError, OutOfTime, type ExtractContext } from './context.js';
import { imagePages, type Gray } from './image.js';
import { OcrTimeout, ocrPage } from './ocr.js';

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
/** Smaller than this (either side) cannot hold a line of text: not worth the engine. */
const MIN_SIDE = 8;
/**
 * Whether OCR found text: something like a word (3+ letters or digits in a row) read with some
 * confidence. A photo gives a few low-confidence shapes; its page is still scanned, and reported.
 */
const hasText = (text: string, confidence: number): boolean => confidence >= 40 && /[A-Za-z0-9]{3}/.test(text);

/**
 * OCRs one page. Throws OutOfTime (problem recorded) when the attachment's time is up, so the
 * caller stops; every other failure is this page's error record only.
 */
export async function ocrOnePage(what: string, n: number, decode: () => Gray | Promise<Gray>, ctx: ExtractContext): Promise<'text' | 'none' | 'failed'> {
  if (!ctx.inTime(what)) throw new OutOfTime();
  let gray: Gray;
  try {
    gray = await decode();
  } catch (err) {
    if (err instanceof ExtractError) ctx.problem(err.code, `${what} page ${n}: ${err.message}`);
    else ctx.problem('corrupt-attachment', `${what} page ${n}: cannot be decoded (${safeReason(err)})`);
    return 'failed';
  }
  if (gray.width < MIN_SIDE || gray.height < MIN_SIDE) return 'none';
  const pageMs = ctx.limits.maxOcrPageMillis;
  const ms = Math.min(pageMs, ctx.remainingMs());
  try {
    const reading = await ocrPage(gray, ms);
    ctx.text('text', reading.text, `page ${n}`);
    if (reading.partial) ctx.problem('attachment-limit', `${what} page ${n}: OCR time limit reached before every orientation was tried; read as the best one found`);
    return hasText(reading.text, reading.confidence) ? 'text' : 'none';
  } catch (err) {
    if (!(err instanceof OcrTimeout)) {
      ctx.problem('corrupt-attachment', `${what} page ${n}: OCR failed (${safeReason(err)})`);
      return 'failed';
    }
    if (ms < pageMs) {
      ctx.problem('attachment-limit', `${what} page ${n}: not read by OCR, the attachment's time ran out`);
      ctx.inTime(what); // records the attachment's time limit
      throw new OutOfTime();
    }
    ctx.problem('attachment-limit', `${what} page ${n}: OCR time limit of ${seconds(pageMs)} per page reached; page not read`);
    return 'failed';
  }
}

/** An image attachment: every page (TIFF) up to the OCR page limit. */
export async function extractImage(bytes: Uint8Array, type: string, ctx: ExtractContext): Promise<void> {
  if (!ctx.limits.ocr) {
    ctx.problem('no-text', `${type}: image without text: not read`);
    return;
  }
  const pages = imagePages(bytes, type, ctx.limits.maxOcrPixels);
  const what = type.replace(/^image\//, '');
  const read = Math.min(pages.length, ctx.limits.maxOcrPages);
  if (pages.length > read) ctx.problem('attachment-limit', `${what}: ${pages.length} pages, only the first ${read} read by OCR (page limit)`);
  let none = 0;
  for (let i = 0; i < read; i++) {
    const page = pages[i];
    if (page && (await ocrOnePage(what, i + 1, () => page.decode(), ctx)) === 'none') none++;
  }
  // a photo without writing: said so, as before OCR (skipped by design, not a failure)
  if (none === read) ctx.problem('no-text', `${type}: image without text (OCR found none)`);
  else if (none > 0) ctx.problem('no-text', `${what}: ${none} page(s) without text (OCR found none)`);
}
