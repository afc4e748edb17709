/** Nouns shared by every stage. This folder imports nothing outside it. */
import type { Problem } from './problem.js';

export type SourceKind = 'mbox' | 'maildir' | 'eml' | 'pst' | 'imap' | 'graph';

/**
 * One self-contained unit of work: a folder of one mailbox (an mbox file, a Maildir folder,
 * an IMAP folder). Plain data, so it can be serialized into a queue job later.
 */
export interface SourceUnit {
  /** Stable across runs: used as the checkpoint key. */
  readonly id: string;
  /** The SOURCE argument as the user wrote it, e.g. `mbox:archive/2019.mbox`. */
  readonly source: string;
  readonly mailbox: string;
  readonly folder: string;
  /** Where the unit lives, in the source's own terms (file path, Maildir folder, IMAP path). */
  readonly ref: string;
  /**
   * The archive (file or folder, absolute path) `mailbox` was named after, when the name was
   * derived rather than given (`--mailbox`): two archives whose names collide are told apart
   * by it (sources/names.ts). Never written out.
   */
  readonly origin?: string;
  /**
   * Part of a large archive file read as its own unit (sources/mbox.ts): nominal byte offsets;
   * the unit holds the messages whose separator line starts in [start, end) once moved to the
   * next separator. `end` absent: to the end of the file.
   */
  readonly range?: { readonly start: number; readonly end?: number };
}

/** Where to resume a unit; its meaning belongs to the source (byte offset, file name, UID). */
export interface Checkpoint {
  readonly unitId: string;
  readonly cursor: string;
}

/** A message as read from a source, before parsing. */
export interface RawMessage {
  /**
   * The unit it was read from. A source whose unit spans folders (PST: a whole file) may name
   * the message's own folder here; everything else must be the unit's.
   */
  readonly unit: SourceUnit;
  /** Enough to find the message again (mbox byte offset, file path, UID). */
  readonly locator: string;
  /** Size in bytes of the whole message as stored. */
  readonly size: number;
  /**
   * The message bytes; when `oversize` is set, only the first bytes (headers) were kept,
   * so memory stays bounded whatever the source holds.
   */
  readonly bytes: Buffer;
  readonly oversize?: { readonly limit: number; readonly sha256: string };
  /**
   * Set when the source listed the message but could not read it (after retries); `bytes` then
   * holds at most its headers, and the message becomes an `error` record, not a scan.
   */
  readonly unreadable?: Problem;
  /** Cursor that resumes the unit right after this message. */
  readonly cursor: string;
}

/**
 * A source's word that a unit's cursor moved without a message to carry it (e.g. Graph's
 * deltaLink after the last page, or an IMAP folder whose new UIDs were all expunged).
 */
export interface CursorAdvance {
  readonly kind: 'cursor';
  /** '' when the item only carries a `problem` and the cursor stays where it is. */
  readonly cursor: string;
  /**
   * Part of the unit could not be read (a truncated PST, a file readpst cannot open) while the
   * unit goes on: it becomes an `error` record, in order with the unit's messages.
   */
  readonly problem?: Problem;
  /**
   * The entry `problem` is about, as a path below the unit (`cur/NAME`). File names may hold
   * identifiers: the pipeline masks it before it names it in the error text.
   */
  readonly item?: string;
  /**
   * The source's word on which messages of earlier runs are still in the unit (IMAP, resuming
   * with --since-last under an unchanged UIDVALIDITY), or which left it (Graph delta `@removed`):
   * the state store marks those gone.
   */
  readonly present?: Presence;
}

/** What a source can tell about messages of earlier runs leaving a unit. */
export type Presence = UidPresence | RemovedMessages;

/**
 * IMAP: the UIDs (an RFC 3501 sequence-set, `1:3,5`) still in the folder among those at or
 * below `upTo` under `uidValidity`. A message of the unit stored with that UIDVALIDITY and a UID
 * at or below `upTo` that is not in `uids` was expunged or moved out. Plain data (numbers only).
 */
export interface UidPresence {
  readonly uidValidity: string;
  readonly upTo: number;
  readonly uids: string;
}

/**
 * Graph: the locators (as the source gives them to messages, `graph:USER/ID`) of messages a
 * delta round reports `@removed` from the folder (deleted, or moved out). A message of the unit
 * stored under one of them is gone.
 */
export interface RemovedMessages {
  readonly removed: readonly string[];
}

/** What a unit yields: messages, and cursor advances between or after them. */
export type UnitItem = RawMessage | CursorAdvance;

export function isCursorAdvance(item: UnitItem): item is CursorAdvance {
  return (item as Partial<CursorAdvance>).kind === 'cursor';
}
