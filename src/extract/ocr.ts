/**
 * OCR of grey pages with tesseract.js (WebAssembly, English LSTM model from
 * @tesseract.js-data/eng, read from node_modules: nothing is downloaded, nothing is cached to
 * disk). One engine per scanning thread, started on the first page that needs it (a scan
 * without images pays nothing), pages one at a time; closeOcr() ends it at the end of a scan.
 *
 * A page gets a time cap: past it the engine is terminated (the only way to stop WebAssembly)
 * and started again for the next page. Orientation: the page is read as it is, with tesseract's
 * skew correction; when that yields little confident text, it is read turned 180°, 90° and
 * 270° and the best reading is kept. Every reading (each orientation too) starts from the same
 * engine state (ocr-engine.ts), so what a page gives never depends on the pages read before it,
 * nor on which thread's engine read it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Tesseract from 'tesseract.js';
import { rotate, toPgm, type Gray } from './image.js';

/** The page took longer than its cap. */
export class OcrTimeout extends Error {
  override readonly name = 'OcrTimeout';
}

export interface OcrReading {
  readonly text: string;
  /** Quarter turns clockwise that gave the text. */
  readonly turned: 0 | 1 | 2 | 3;
  /** Whether the time ran out before every orientation was tried. */
  readonly partial: boolean;
  /** The engine's mean word confidence, 0 to 100. */
  readonly confidence: number;
}

let engine: Promise<Tesseract.Worker> | undefined;
/** Pages are read one after another: a second caller waits its turn. */
let turn: Promise<unknown> = Promise.resolve();

function langPath(): string {
  const require = createRequire(import.meta.url);
  // the "best_int" LSTM model: 3 MB, the one tesseract.js itself picks for LSTM-only
  return path.join(path.dirname(require.resolve('@tesseract.js-data/eng')), '4.0.0_best_int');
}

/**
 * The engine thread's script (ocr-engine.ts: each reading starts from the engine's memory as it
 * was at start). Run from the TypeScript sources (tests), it is the built one: `npm run build`.
 */
function engineScript(): string {
  const here = import.meta.url;
  const script = fileURLToPath(new URL(here.endsWith('.js') ? './ocr-engine.js' : '../../dist/extract/ocr-engine.js', here));
  if (!existsSync(script)) throw new Error('the OCR engine script is not built (npm run build)');
  return script;
}

async function start(): Promise<Tesseract.Worker> {
  const T = (await import('tesseract.js')).default;
  const worker = await T.createWorker('eng', T.OEM.LSTM_ONLY, {
    workerPath: engineScript(),
    langPath: langPath(),
    gzip: true,
    cacheMethod: 'none',
    logger: () => undefined,
    errorHandler: () => undefined,
  });
  // tesseract's diagnostics ("Estimating resolution as …") would go to stderr. Parameters are
  // set here only: the engine's memory, parameters included, is put back before every page.
  await worker.setParameters({ debug_file: '/dev/null' } as unknown as Partial<Tesseract.WorkerParams>);
  return worker;
}

async function stop(): Promise<void> {
  const current = engine;
  engine = undefined;
  if (current) await current.then((w) => w.terminate(), () => undefined).catch(() => undefined);
}

/** Ends the engine of this thread (if one was started); the next page starts a new one. */
export function closeOcr(): Promise<void> {
  return stop();
}

/** Whether an engine is running in this thread (tests: started lazily, ended at the end). */
export function ocrRunning(): boolean {
  return engine !== undefined;
}

interface Attempt {
  readonly text: string;
  readonly confidence: number;
}

async function recognize(page: Gray, rotateAuto: boolean, ms: number): Promise<Attempt> {
  if (ms <= 0) throw new OcrTimeout();
  engine ??= start();
  const worker = await engine;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OcrTimeout()), ms);
  });
  const job = worker.recognize(Buffer.from(toPgm(page)), { rotateAuto });
  try {
    const { data } = await Promise.race([job, late]);
    return { text: data.text, confidence: data.confidence };
  } catch (err) {
    // stopped mid-page (or broken): a new engine for the next page
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
    job.catch(() => undefined);
  }
}

/** Characters of words of 3+ letters or digits, weighed by the engine's confidence. */
function score(a: Attempt): number {
  const chars = (a.text.match(/[A-Za-z0-9]{3,}/g) ?? []).reduce((n, w) => n + w.length, 0);
  return chars * Math.max(0, a.confidence);
}

const confident = (a: Attempt): boolean => a.confidence >= 70 && score(a) >= 20 * 70;

/**
 * Reads one page within `ms` milliseconds. Throws OcrTimeout when not even the upright reading
 * finished in time; a later orientation running out of time keeps the best reading so far.
 */
export function ocrPage(page: Gray, ms: number): Promise<OcrReading> {
  const run = turn.then(async (): Promise<OcrReading> => {
    const deadline = Date.now() + ms;
    let best: Attempt & { turned: OcrReading['turned'] } = { ...(await recognize(page, true, ms)), turned: 0 };
    if (confident(best)) return { text: best.text, turned: 0, partial: false, confidence: best.confidence };
    for (const q of [2, 1, 3] as const) {
      try {
        const a = await recognize(rotate(page, q), true, deadline - Date.now());
        if (score(a) > score(best)) best = { ...a, turned: q };
        if (confident(best)) break;
      } catch (err) {
        if (err instanceof OcrTimeout) return { text: best.text, turned: best.turned, partial: true, confidence: best.confidence };
        throw err;
      }
    }
    return { text: best.text, turned: best.turned, partial: false, confidence: best.confidence };
  });
  turn = run.catch(() => undefined);
  return run;
}
