import type { Checkpoint, RawMessage, SourceKind, SourceUnit } from '../model/message.js';

export interface SourceOptions {
  /** Messages larger than this are not read into memory; they become `error` records. */
  readonly maxMessageBytes: number;
  /** `--mailbox`: the mailbox name to report for an archive source. */
  readonly mailbox?: string;
  readonly signal?: AbortSignal;
}

/**
 * A source splits into units (a folder of a mailbox) and each unit into messages.
 * `units()` throws a ScanError (exit 2) when the source cannot be opened at all;
 * `messages()` yields each message once, in a stable order, resumable from a checkpoint.
 */
export interface Source {
  readonly kind: SourceKind;
  /** The SOURCE argument as given. */
  readonly spec: string;
  units(): Promise<SourceUnit[]>;
  messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<RawMessage>;
}

/** How many bytes of an oversize message are kept: enough for its headers. */
export const OVERSIZE_HEAD_BYTES = 64 * 1024;
