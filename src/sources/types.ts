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
}

/** How many bytes of an oversize message are kept: enough for its headers. */
export const OVERSIZE_HEAD_BYTES = 64 * 1024;
