/**
 * The picture follows the mailbox between full scans: an IMAP `--since-last` scan resuming a
 * folder under the same UIDVALIDITY tells which UIDs it read before are still there (a read-only
 * UID SEARCH, sources/imap.ts); the messages of that folder the state holds under that UIDVALIDITY
 * with a UID at or below the checkpoint and not among them were expunged or moved out: gone,
 * as a full scan would find (progress.ts markGone). A folder whose UIDVALIDITY changed reports
 * nothing (its UIDs mean nothing now): the next full scan of it decides.
 */
import type { Presence } from '../model/message.js';
import type { StateDb } from '../state/store.js';
import { parseImapLocator } from './plan.js';

/** A unit's presence report, with its names as the store holds them (masked). */
export interface PresenceReport {
  readonly where: { readonly source: string; readonly mailbox: string; readonly folder: string };
  readonly present: Presence;
}

/** `1:3,5` → a membership test (binary search over the ranges; the set may name a million UIDs). */
export function uidSetMembers(set: string): (uid: number) => boolean {
  const ranges: [number, number][] = [];
  for (const part of set.split(',')) {
    if (part === '') continue;
    const [a, b] = part.split(':').map(Number) as [number, number | undefined];
    const lo = Math.min(a, b ?? a);
    const hi = Math.max(a, b ?? a);
    if (Number.isFinite(lo) && Number.isFinite(hi)) ranges.push([lo, hi]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  return (uid) => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, last] = ranges[mid] as [number, number];
      if (uid < first) hi = mid - 1;
      else if (uid > last) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/** Marks gone, as of `run`, the messages the reports say are no longer in their folders. Returns how many. */
export function markVanished(db: StateDb, run: number, reports: readonly PresenceReport[]): number {
  if (reports.length === 0) return 0;
  const rows = db.prepare(
    `SELECT m.id, m.locator FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
     WHERE s.spec = ? AND mb.name = ? AND m.folder = ? AND m.id NOT IN (SELECT message FROM gone)`,
  );
  const insert = db.prepare('INSERT OR IGNORE INTO gone (message, run_id) VALUES (?, ?)');
  return db.transaction(() => {
    let n = 0;
    for (const { where, present } of reports) {
      // Graph's @removed locators were marked as they came (state/gone.ts, in the cursor's transaction).
      if ('removed' in present) continue;
      const there = uidSetMembers(present.uids);
      for (const row of rows.all(where.source, where.mailbox, where.folder) as { id: number; locator: string }[]) {
        const at = parseImapLocator(row.locator);
        if (!at || at.uidValidity !== present.uidValidity || at.uid > present.upTo || there(at.uid)) continue;
        n += insert.run(row.id, run).changes;
      }
    }
    return n;
  })();
}
