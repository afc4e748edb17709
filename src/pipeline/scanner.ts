/**
 * Where messages are scanned: on the calling thread, or in a pool of worker threads (pool.ts)
 * so every core parses and scans. Both give the same outcome for the same bytes; run.ts keeps
 * the output order either way.
 */
import os from 'node:os';
import type { Engine } from '../engine/engine.js';
import { closeOcr } from '../extract/ocr.js';
import { poolWorkerUrl, startPool } from './pool.js';
import { scanMessage, type MessageScanOptions } from './scan-message.js';
import type { MessageScanner, ScannerSettings } from './scanner-types.js';

export type { MessageScanner, ScannerSettings } from './scanner-types.js';


/** Inline scanners open in this thread: they share its one OCR engine (a queue worker holds several). */
let inlineOpen = 0;

export function inlineScanner(engine: Engine, options: MessageScanOptions): MessageScanner {
  // OCR starts its engine on this thread when a page needs it, ended when the last inline
  // scanner closes: closing one must not stop a page another is reading.
  inlineOpen++;
  let closed = false;
  return {
    scan: (raw) => scanMessage(raw, engine, options),
    close: async () => {
      if (closed) return;
      closed = true;
      if (--inlineOpen === 0) await closeOcr();
    },
  };
}


/**
 * One thread per core but one: the main thread keeps a core for reading sources (or receiving
 * from the IMAP thread) and writing reports. Measured on the 2-core project machine under load
 * (README, Worker threads), two workers cost ~40 % more CPU than the main thread alone and
 * were slower; one worker keeps the time and memory fences at a smaller cost.
 */
export function defaultThreads(cores = os.availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/**
 * Below three cores, the default pool takes only the messages worth a thread (see `worthAThread`);
 * the rest are scanned on the main thread. A thread costs every message a copy, a wake-up of each
 * thread and the outcome's JSON, and the pool its own engine: with one worker beside the main
 * thread that was ~30 % more CPU than `--threads 0` for business mail and never faster on 2
 * cores (README, Worker threads). Messages with attachments or of some size are where the time
 * and memory fences matter (pdf.js, OCR, archives) and where a second core pays.
 */
export const SMALL_MACHINE_CORES = 2;

/** Plain messages under this size are scanned on the main thread by the default pool of a small machine. */
export const THREAD_MIN_BYTES = 32 * 1024;

/**
 * A message that goes to the pool on a small machine: large, or with attachments or images (any
 * multipart but alternative, or a non-text body), judged from the top-level Content-Type.
 */
export function worthAThread(bytes: Buffer): boolean {
  if (bytes.length >= THREAD_MIN_BYTES) return true;
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, 8192));
  const end = head.search(/\r?\n\r?\n/);
  const headers = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' '); // unfolded
  const type = /^content-type:[ \t]*([^;\r\n]*)/im.exec(headers)?.[1]?.trim().toLowerCase() ?? '';
  // multipart/alternative is text and HTML of one body; anything else multipart holds parts
  // (attachments, inline images to read), and a lone non-text part is an attachment itself.
  if (type.startsWith('multipart/')) return type !== 'multipart/alternative';
  return type !== '' && !type.startsWith('text/');
}

/** Threads to start, and whether only messages `worthAThread` go to them (the default on a small machine). */
export function threadPlan(threads: number | undefined, cores: number): { threads: number; choosy: boolean } {
  if (threads !== undefined) return { threads, choosy: false };
  return { threads: defaultThreads(cores), choosy: cores <= SMALL_MACHINE_CORES };
}

/**
 * The pool when threads are asked for and the compiled worker exists (not under tsx), else inline.
 * Without `threads` on a machine of SMALL_MACHINE_CORES or fewer, only messages `worthAThread` go
 * to the pool; an explicit `threads` sends every message there.
 */
export async function createScanner(engine: Engine, settings: ScannerSettings, cores = os.availableParallelism()): Promise<MessageScanner> {
  const { threads, choosy } = threadPlan(settings.threads, cores);
  const url = poolWorkerUrl();
  const inline = inlineScanner(engine, settings.options);
  if (threads < 1 || !url) return inline;
  // A roster loaded on this thread stays here: each worker thread loads `edm` from its path.
  const { roster: _roster, ...people } = settings.options.people ?? { key: settings.key };
  const options = settings.options.people ? { ...settings.options, people } : settings.options;
  const start = (): Promise<MessageScanner> => startPool(url, { ...settings, options, threads });
  // Oversize and unreadable messages are reported from their headers alone: not worth a thread.
  const headersOnly = (raw: Parameters<MessageScanner['scan']>[0]): boolean => Boolean(raw.oversize || raw.unreadable);
  if (choosy) {
    // The default on a small machine: the thread starts with the first message worth one, so a
    // scan of plain mail never pays for it (its modules and engine: about a CPU-second).
    let pool: Promise<MessageScanner> | undefined;
    return {
      scan: (raw) => (headersOnly(raw) || !worthAThread(raw.bytes) ? inline.scan(raw) : (pool ??= start()).then((p) => p.scan(raw))),
      close: async () => {
        const started = await pool?.catch(() => undefined);
        await started?.close();
        await inline.close();
      },
    };
  }
  let pool: MessageScanner;
  try {
    pool = await start();
  } catch (err) {
    await inline.close();
    throw err;
  }
  return {
    scan: (raw) => (headersOnly(raw) ? inline.scan(raw) : pool.scan(raw)),
    // A message scanned here may have started OCR on this thread.
    close: async () => {
      await pool.close();
      await inline.close();
    },
  };
}
