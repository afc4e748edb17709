import type { Checkpoint, SourceKind, SourceUnit, UnitItem } from '../model/message.js';
import type { Problem } from '../model/problem.js';
import type { GraphSourceOptions } from './graph/options.js';

export interface SourceOptions {
  /** Messages larger than this are not read into memory; they become `error` records. */
  readonly maxMessageBytes: number;
  /** `--mailbox`: the mailbox name to report for an archive source. */
  readonly mailbox?: string;
  readonly signal?: AbortSignal;
  /** Settings of `graph://` sources (flags and environment). */
  readonly graph?: GraphSourceOptions;
  /** Settings of the `imap://` / `imaps://` sources (flags --accounts, --folders, ...). */
  readonly imap?: ImapSourceOptions;
  /** mbox files larger than this are read as byte-range units of about this size (0: never). */
  readonly mboxRangeBytes?: number;
}

/** What the IMAP source takes from the command line and environment (see src/sources/imap.ts). */
export interface ImapSourceOptions {
  /** `--accounts FILE`: CSV or YAML, one mailbox a row, with a credential reference. */
  readonly accountsFile?: string;
  /** `--folders GLOB`: only folders matching one of these (comma-separated or repeated). */
  readonly folders?: readonly string[];
  /** `--exclude-folders GLOB`. */
  readonly excludeFolders?: readonly string[];
  /** `--imap-connections N`: connections open at once to one server (default 4). */
  readonly connectionsPerHost?: number;
  /** `--imap-timeout`: ms to wait for a connection, the greeting, or a reply (default 60 s). */
  readonly timeoutMs?: number;
  /** PHI_SCAN_IMAP_* come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** UIDs per FETCH batch (default 500). */
  readonly batchSize?: number;
  /** Reconnect attempts after a dropped connection before a folder is given up (default 5). */
  readonly retries?: number;
  /** First reconnect delay in ms, doubled each attempt (default 250). */
  readonly backoffMs?: number;
  /** Run the IMAP client in a worker thread (the CLI does): protocol parsing then overlaps scanning. */
  readonly thread?: boolean;
  /** Receives every command line sent (tests prove read-only-ness with it). Never set in production. */
  readonly wireLog?: (line: string) => void;
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
