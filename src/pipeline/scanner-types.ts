/** What scanner.ts and pool.ts share (a file of its own, so neither imports the other's module both ways). */
import type { Rule } from '../rules/compile.js';
import type { MessageInput, MessageOutcome, MessageScanOptions } from './scan-message.js';

/**
 * The scanner's threads cannot run at all (the first could not start: a broken installation, a
 * `--thread-memory` too small to load them). Not one message's fault: it ends the scan (unit.ts
 * passes it on instead of reporting the message).
 */
export class ScannerFailed extends Error {
  override readonly name = 'ScannerFailed';
}

export interface MessageScanner {
  /** Resolves with the message's outcome; rejects only when scanning threw (run.ts reports it). */
  scan(raw: MessageInput): Promise<MessageOutcome>;
  close(): Promise<void>;
  /** Messages it can use at once, when more than `--concurrency` (a thread that parses ahead). */
  readonly ahead?: number;
}

export interface ScannerSettings {
  readonly rules: readonly Rule[];
  readonly key: Buffer;
  /** "Today" of the engine on the calling thread: workers must judge dates alike. */
  readonly today: Date;
  readonly options: MessageScanOptions;
  /** Worker threads; 0 scans on the calling thread. Default: one per core (see defaultThreads). */
  readonly threads?: number;
  /** A message still scanning after this long is stopped (its worker replaced) and reported. */
  readonly messageTimeoutMs: number;
  /** V8 old-generation heap cap of each worker thread, MB. */
  readonly threadMemoryMb: number;
}
