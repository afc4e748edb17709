/**
 * Where each unit (a folder of a mailbox) stopped, so `--since-last` scans only what is new.
 * A cursor's meaning belongs to its source (mbox byte offset, Maildir unique name, IMAP
 * "uidvalidity:uid", Graph deltaLink). Plain data: a queue worker can carry it back.
 * The SQLite state store (store.ts) implements it.
 */
import type { Checkpoint, Presence } from '../model/message.js';

export interface CheckpointStore {
  get(unitId: string): Checkpoint | undefined;
  /** Remembers a cursor (in memory until `flush`). */
  put(checkpoint: Checkpoint): void;
  /** Writes what was put; safe to call often. */
  flush(): Promise<void>;
  /**
   * A source's word on which messages of earlier runs are still in a unit (names as reported,
   * already masked): the store marks the unit's other messages gone (remediate/progress.ts).
   */
  present?(where: { readonly source: string; readonly mailbox: string; readonly folder: string }, present: Presence): void;
}

/** The JSON file earlier versions kept checkpoints in; store.ts imports it once. */
export const CHECKPOINT_FILE = 'checkpoints.json';
