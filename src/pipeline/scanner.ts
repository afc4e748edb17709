/**
 * Where messages are scanned: on the calling thread, or in a pool of worker threads (pool.ts)
 * so every core parses and scans. Both give the same outcome for the same bytes; run.ts keeps
 * the output order either way.
 */
import os from 'node:os';
import type { Engine } from '../engine/engine.js';
import { poolWorkerUrl, startPool } from './pool.js';
import { closeParsing, scanMessage, scanParsed, type MessageOutcome, type MessageScanOptions } from './scan-message.js';
import type { MessageScanner, ScannerSettings } from './scanner-types.js';

export { ScannerFailed, type MessageScanner, type ScannerSettings } from './scanner-types.js';


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
      if (--inlineOpen === 0) await closeParsing();
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
 * Below three cores, the default thread only parses (MIME, bodies, attachments into text: the
 * third-party readers of hostile bytes, under its time and memory limits) and the main thread
 * runs the rules on the text. A thread scanning whole messages sends every finding back across
 * threads and costs a second engine: on 2 cores that was ~35–60 % more CPU than `--threads 0`
 * and slower (README, Worker threads); text crosses as a few strings.
 */
export const SMALL_MACHINE_CORES = 2;

/**
 * Messages the parsing thread holds (and the scan keeps in flight): it parses ahead while this
 * thread runs the rules on a roster. Measured on 10 MB of PHI-dense mail on 2 cores (README,
 * Worker threads): 2 → 1.10×, 8 → 1.01×, 32 → 0.95× the time of `--threads 0`.
 */
export const PARSE_AHEAD = 32;

/**
 * Messages sent to the parsing thread in one `postMessage`: it is topped up once this many fit
 * under PARSE_AHEAD, not after every message. Each message sent alone cost the main thread ~19 µs
 * of `postMessage` (~0.2 s of the Enron sample's 10,502 messages) and the thread a message event;
 * round-robin on 2 cores, Enron sample, the default's time against `--threads 0`: 1.08–1.12× one
 * at a time, 0.96–1.03× in lists of 8 (README, Worker threads). The time limit still runs for one
 * message at a time: a batch is a list of messages the thread takes one after the other.
 */
export const PARSE_SEND_BATCH = 8;

/**
 * The parsing thread's young generation (V8's nursery, MB): its garbage is mailparser's and the
 * readers' short-lived strings and buffers, collected as well from a smaller nursery. V8's
 * default (48 MB) costs ~20 MB more resident memory on two cores, where the default scan is at
 * the edge of 400 MB (README, Peak RSS).
 */
export const PARSE_THREAD_YOUNG_MB = 8;

/** Threads to start, and whether they only parse (the default on a small machine). */
export function threadPlan(threads: number | undefined, cores: number): { threads: number; parseOnly: boolean } {
  if (threads !== undefined) return { threads, parseOnly: false };
  return { threads: defaultThreads(cores), parseOnly: cores <= SMALL_MACHINE_CORES };
}

/**
 * Whether the state store writes from its own thread (state/store.ts `openStateStoreInThread`):
 * with threads that scan whole messages (more than SMALL_MACHINE_CORES cores, or an explicit
 * `--threads N`), where the main thread receives every outcome and its per-finding writing caps
 * the scan. Not with the 2-core default, whose two cores are already busy (the parsing thread and
 * the rules): there it gave 0.95× the time for 30–45 MB more peak RSS (README, Worker threads).
 */
export function storeThread(threads: number | undefined, cores: number): boolean {
  const plan = threadPlan(threads, cores);
  return plan.threads >= 1 && !plan.parseOnly;
}

/** A scanner whose threads are starting: they load their modules while this thread builds the engine. */
export interface StartingScanner {
  /** Resolves once the threads can take messages; rejects (ScannerFailed) when they cannot start. */
  readonly ready: Promise<void>;
  /**
   * The scanner, with the engine that runs the rules on this thread. It does not wait for the
   * threads: its first message does (a scan with nothing to parse never does); if they cannot
   * start, every message rejects with ScannerFailed, which ends the scan (unit.ts).
   */
  withEngine(engine: Engine): MessageScanner;
  /**
   * Stops the threads: for when the scan is over or never began (it failed before). A scanner
   * made from them and closed already leaves nothing to stop; one still in use would lose them.
   */
  cancel(): Promise<void>;
}

/**
 * Starts a scan's threads now and makes its scanner later, with the engine: a thread's modules
 * (mailparser, the readers) take ~0.3 s to load, which the session overlaps with building the
 * engine and opening the state store instead of waiting for them after (README, Worker threads).
 * The pool when threads are asked for and the compiled worker exists (not under tsx), else inline.
 * Without `threads` on a machine of SMALL_MACHINE_CORES or fewer, the pool parses messages and
 * the rules run here; an explicit `threads` sends every message there whole.
 */
export function startScanner(settings: ScannerSettings, cores = os.availableParallelism()): StartingScanner {
  const { threads, parseOnly } = threadPlan(settings.threads, cores);
  const url = poolWorkerUrl();
  if (threads < 1 || !url) return { ready: Promise.resolve(), withEngine: (engine) => inlineScanner(engine, settings.options), cancel: async () => undefined };
  // A roster loaded on this thread stays here: each worker thread loads `edm` from its path.
  const { roster: _roster, ...people } = settings.options.people ?? { key: settings.key };
  const options = settings.options.people ? { ...settings.options, people } : settings.options;
  const pool = startPool(url, { ...settings, options, threads, ...(parseOnly ? { perWorker: PARSE_AHEAD, sendBatch: PARSE_SEND_BATCH, youngGenerationMb: PARSE_THREAD_YOUNG_MB } : {}) });
  return {
    ready: pool.ready,
    withEngine(engine) {
      const inline = inlineScanner(engine, settings.options);
      // Oversize and unreadable messages are reported from their headers alone: not worth a thread.
      const headersOnly = (raw: Parameters<MessageScanner['scan']>[0]): boolean => Boolean(raw.oversize || raw.unreadable);
      // Parsed there, the rules run here: with this thread's engine and roster.
      const toPool = (raw: Parameters<MessageScanner['scan']>[0]): Promise<MessageOutcome> =>
        parseOnly ? pool.parse(raw, (parsed) => scanParsed(parsed, engine, settings.options)) : pool.scan(raw);
      return {
        scan: (raw) => (headersOnly(raw) ? inline.scan(raw) : toPool(raw)),
        ...(parseOnly ? { ahead: PARSE_AHEAD } : {}),
        // A message scanned here may have started OCR on this thread.
        close: async () => {
          await pool.close();
          await inline.close();
        },
      };
    },
    cancel: () => pool.close(),
  };
}

/**
 * startScanner, when the engine is built already (a queue worker's scans, library callers): it
 * waits for the threads, so a pool that cannot start rejects here (ScannerFailed), not per message.
 */
export async function createScanner(engine: Engine, settings: ScannerSettings, cores = os.availableParallelism()): Promise<MessageScanner> {
  const starting = startScanner(settings, cores);
  try {
    await starting.ready;
  } catch (err) {
    await starting.cancel();
    throw err;
  }
  return starting.withEngine(engine);
}
