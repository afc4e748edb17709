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


export function inlineScanner(engine: Engine, options: MessageScanOptions): MessageScanner {
  // OCR starts its engine on this thread when a page needs it: ended with the scan
  return { scan: (raw) => scanMessage(raw, engine, options), close: closeOcr };
}


/**
 * One thread per core but one: the main thread keeps a core for reading sources (or receiving
 * from the IMAP thread) and writing reports. Measured on the 2-core project machine under load
 * (README, Worker threads), two workers cost ~40 % more CPU than the main thread alone and
 * were slower; one worker keeps the time and memory fences at a smaller cost.
 */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

/** The pool when threads are asked for and the compiled worker exists (not under tsx), else inline. */
export async function createScanner(engine: Engine, settings: ScannerSettings): Promise<MessageScanner> {
  const threads = settings.threads ?? defaultThreads();
  const url = poolWorkerUrl();
  const inline = inlineScanner(engine, settings.options);
  if (threads < 1 || !url) return inline;
  // A roster loaded on this thread stays here: each worker thread loads `edm` from its path.
  const { roster: _roster, ...people } = settings.options.people ?? { key: settings.key };
  const options = settings.options.people ? { ...settings.options, people } : settings.options;
  const pool = await startPool(url, { ...settings, options, threads });
  return {
    // Oversize and unreadable messages are reported from their headers alone: not worth a thread.
    scan: (raw) => (raw.oversize || raw.unreadable ? inline.scan(raw) : pool.scan(raw)),
    close: () => pool.close(),
  };
}
