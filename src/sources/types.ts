import type { Checkpoint, SourceKind, SourceUnit, UnitItem } from '../model/message.js';
import type { Problem } from '../model/problem.js';
import type { z } from 'zod';

export interface SourceOptions {
  /** Messages larger than this are not read into memory; they become `error` records. */
  readonly maxMessageBytes: number;
  /** `--mailbox`: the mailbox name to report for an archive source. */
  readonly mailbox?: string;
  readonly signal?: AbortSignal;
  /** mbox files larger than this are read as byte-range units of about this size (0: never; default PHI_SCAN_MBOX_RANGE_BYTES or 128 MiB). */
  readonly mboxRangeBytes?: number;
}

/** A mailbox or folder that could not be opened while listing units (bad password, no mailbox). */
export interface UnitProblem {
  readonly mailbox: string;
  readonly folder?: string;
  readonly problem: Problem;
}

/**
 * A source splits into units (a folder of a mailbox) and each unit into messages.
 * `units()` throws a ScanError (exit 2) when the source cannot be opened at all (bad usage); a
 * mailbox that fails while others work (one account's bad password) is `report`ed instead and
 * becomes an `error` record. `messages()` yields each message once, in a stable order, resumable
 * from a checkpoint: every message carries the cursor that resumes right after it.
 */
export interface Source {
  readonly kind: SourceKind;
  /** The SOURCE argument as given. */
  readonly spec: string;
  units(report: (problem: UnitProblem) => void): Promise<SourceUnit[]>;
  messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem>;
  /** Releases what the source holds open (network connections); called once after the scan. */
  close?(): Promise<void>;
}

/** How many bytes of an oversize message are kept: enough for its headers. */
export const OVERSIZE_HEAD_BYTES = 64 * 1024;

/**
 * What a source gets from where it runs rather than from its settings: the environment
 * (credentials come only from there) and hooks of the process running the scan.
 */
export interface SourceRuntime {
  /** Where credentials and PHI_SCAN_* settings are read from. */
  readonly env: NodeJS.ProcessEnv;
  /** Progress lines (names and counts, never content), e.g. one per mailbox finished. */
  readonly log?: (line: string) => void;
  /** Awaited before every request to a rate-limited service (queue workers share a rate in Redis). */
  readonly beforeRequest?: () => Promise<void>;
  /** Receives one summary line (counts only) when the source is closed. */
  readonly summary?: (line: string) => void;
}

/** A limit shared by every queue worker: at most `slots` jobs holding `key` at once. */
export interface SharedLimit {
  readonly key: string;
  readonly slots: number;
}

/**
 * One source, described in one place (registered in registry.ts): its SOURCE schemes, the zod
 * schema of its own settings (flags and --config; carried unchanged by queue jobs), how to create
 * it, and what the queue needs to know to hand its units out.
 */
export interface SourceDefinition<S> {
  /** The key of its settings in ScanSettings.sourceSettings and queue jobs (e.g. `imap`). */
  readonly name: string;
  /** `mbox` for `mbox:PATH`, `imaps` for `imaps://…`. */
  readonly schemes: readonly string[];
  /** Archive sources take `scheme:PATH` and need a path; network sources parse their own URL. */
  readonly needsPath: boolean;
  /** Its own settings: plain data (JSON), strict; `{}` when it has none. */
  readonly settings: z.ZodType<S>;
  create(spec: string, settings: S, options: SourceOptions, runtime: SourceRuntime): Source;
  /** Queue jobs: one per unit, or every unit of one mailbox in one job (per-mailbox request limits). */
  readonly jobs: 'unit' | 'mailbox';
  /**
   * Network sources: a worker lists the units itself to map the job's unit-id digests back to
   * real ids (archive units are read from their path alone).
   */
  readonly listsUnitsOnWorker: boolean;
  /** A limit across queue workers for a job of this SOURCE (connections per host, jobs per tenant). */
  limit?(spec: string, settings: S): SharedLimit | undefined;
  /** A request rate shared across queue workers (PHI_SCAN_QUEUE_GRAPH_RATE), keyed e.g. by tenant. */
  rateKey?(spec: string): string | undefined;
  /**
   * The source's own numbers that end its locators (mbox `@OFFSET`, IMAP `:UIDVALIDITY:UID`):
   * not names, so never masked. A 9-digit offset or UIDVALIDITY looks like an SSN, and
   * remediation finds the message by them.
   */
  readonly locatorNumbers?: RegExp;
}
