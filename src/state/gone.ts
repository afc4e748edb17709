/**
 * Messages a source says left a folder (Graph delta `@removed`): marked gone in the state store
 * as they arrive, inside the store's open transaction, so they are committed together with the
 * cursor that moves past them (a delta round reports a removal once: a kill -9 before that
 * commit rolls both back and the next round reports it again). Table `gone` (migration 3).
 */
import type Database from 'better-sqlite3';

/** Marks gone, as of `run`, the messages of a folder stored under these locators. Returns how many. */
export function markRemoved(
  db: Database.Database,
  run: number,
  where: { readonly source: string; readonly mailbox: string; readonly folder: string },
  locators: readonly string[],
): number {
  if (locators.length === 0) return 0;
  const wanted = new Set(locators);
  // One pass over the folder's rows (the (mailbox, folder, message_id) index), not one per locator.
  const rows = db
    .prepare(
      `SELECT m.id, m.locator FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
       WHERE s.spec = ? AND mb.name = ? AND m.folder = ?`,
    )
    .all(where.source, where.mailbox, where.folder) as { id: number; locator: string }[];
  const insert = db.prepare('INSERT OR IGNORE INTO gone (message, run_id) VALUES (?, ?)');
  let n = 0;
  for (const row of rows) if (wanted.has(row.locator)) n += insert.run(row.id, run).changes;
  return n;
}
