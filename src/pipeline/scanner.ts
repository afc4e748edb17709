/**
 * Where messages are scanned: on the calling thread, or in a pool of worker threads (pool.ts)
 * so every core parses and scans. Both give the same outcome for the same bytes; run.ts keeps
 * the output order either way.
 */
import os from 'node:os';
import type { Engine } from '../engine/engine.js';
import { closeOcr } from '../extract/ocr.js';
import { poolWorkerUrl, startPool, type Pool } from './pool.js';
import type { AttachmentReader } from '../extract/context.js';
import { scanMessage, type MessageScanOptions } from './scan-message.js';
import type { MessageScanner, ScannerSettings } from './scanner-types.js';

export type { MessageScanner, ScannerSettings } from './scanner-types.js';


/** Inline scanners open in this thread: they share its one OCR engine (a queue worker holds several). */
let inlineOpen = 0;

/** Scans on this thread; `elsewhere` reads the file attachments (a worker thread), else here too. */
export function inlineScanner(engine: Engine, options: MessageScanOptions, elsewhere?: AttachmentReader): MessageScanner {
  // OCR starts its engine on this thread when a page needs it, ended when the last inline
  // scanner closes: closing one must not stop a page another is reading.
  inlineOpen++;
  let closed = false;
  return {
    scan: (raw) => scanMessage(raw, engine, options, elsewhere),
    close: async () => {
      if (closed) return;
      closed = true;
      if (--inlineOpen === 0) await closeOcr();
    },
  };
}


/**
 * One thread per core but one: the main thread keeps a core for reading sources (or receiving
 * from the IMAP thread) and writing reports.
 */
export function defaultThreads(cores = os.availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/**
 * Below three cores, the default thread reads attachments only (PDF, Office, archives, images:
 * the third-party readers of hostile bytes, under its time and memory limits) and messages are
 * scanned on the main thread. A thread scanning whole messages costs every message a copy, its
 * findings a round trip between threads, and the process a second engine and heap: on 2 cores
 * that was ~35–60 % more CPU than `--threads 0` and slower (README, Worker threads), while an
 * attachment crosses as its bytes and comes back as its text.
 */
export const SMALL_MACHINE_CORES = 2;

/** Threads to start, and whether they read attachments only (the default on a small machine). */
export function threadPlan(threads: number | undefined, cores: number): { threads: number; attachmentsOnly: boolean } {
  if (threads !== undefined) return { threads, attachmentsOnly: false };
  return { threads: defaultThreads(cores), attachmentsOnly: cores <= SMALL_MACHINE_CORES };
}

/**
 * The pool when threads are asked for and the compiled worker exists (not under tsx), else inline.
 * Without `threads` on a machine of SMALL_MACHINE_CORES or fewer, messages are scanned here and
 * their file attachments read by the pool; an explicit `threads` sends every message there.
 */
export async function createScanner(engine: Engine, settings: ScannerSettings, cores = os.availableParallelism()): Promise<MessageScanner> {
  const { threads, attachmentsOnly } = threadPlan(settings.threads, cores);
  const url = poolWorkerUrl();
  if (threads < 1 || !url) return inlineScanner(engine, settings.options);
  // A roster loaded on this thread stays here: each worker thread loads `edm` from its path.
  const { roster: _roster, ...people } = settings.options.people ?? { key: settings.key };
  const options = settings.options.people ? { ...settings.options, people } : settings.options;
  const start = (): Promise<Pool> => startPool(url, { ...settings, options, threads });
  if (attachmentsOnly) {
    // The thread starts with the first attachment it reads, so a scan of plain mail never pays
    // for it (its modules: about a CPU-second).
    let pool: Promise<Pool> | undefined;
    const inline = inlineScanner(engine, settings.options, (request) => (pool ??= start()).then((p) => p.read(request)));
    return {
      scan: inline.scan,
      close: async () => {
        const started = await pool?.catch(() => undefined);
        await started?.close();
        await inline.close();
      },
    };
  }
  const inline = inlineScanner(engine, settings.options);
  // Oversize and unreadable messages are reported from their headers alone: not worth a thread.
  const headersOnly = (raw: Parameters<MessageScanner['scan']>[0]): boolean => Boolean(raw.oversize || raw.unreadable);
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
