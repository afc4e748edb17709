/**
 * The picture follows the mailbox: what a full scan no longer finds is marked gone, and what
 * `remediate --apply` did is recorded, so `remediate --status` can say per mailbox how many
 * messages holding PHI remain, how many were quarantined (acted on, not yet confirmed by a scan)
 * and how many are resolved (gone from where they were, or scanned again without PHI).
 * Tables `gone` and `remediations` (migration 2); nothing here holds a raw value.
 */
import type { RemediationStatus } from '../sinks/model.js';
import type { StateDb } from '../state/store.js';

/**
 * After a full (not --since-last) scan that ended: every message of a folder the run read (it
 * scanned at least one message there and reported no error there) that the run did not find is
 * gone. A message found again (moved back, undone) is no longer gone. Returns how many were
 * marked. A folder that is now empty is not seen (no message of it was scanned): its messages
 * stay in the picture until a message is found there again.
 */
export function markGone(db: StateDb, run: number): number {
  const r = db.prepare('SELECT since_last, status FROM runs WHERE id = ?').get(run) as { since_last: number; status: string } | undefined;
  if (!r || r.since_last === 1 || (r.status !== 'complete' && r.status !== 'incomplete')) return 0;
  return db.transaction(() => {
    db.prepare('DELETE FROM gone WHERE message IN (SELECT message FROM scans WHERE run_id = ?)').run(run);
    const marked = db
      .prepare(
        `INSERT INTO gone (message, run_id)
         SELECT m.id, @run FROM messages m
         JOIN (SELECT DISTINCT m2.mailbox_id, m2.folder FROM main.scans s JOIN messages m2 ON m2.id = s.message WHERE s.run_id = @run) c
           ON c.mailbox_id = m.mailbox_id AND c.folder = m.folder
         WHERE NOT EXISTS (SELECT 1 FROM main.scans s WHERE s.message = m.id AND s.run_id = @run)
           AND NOT EXISTS (SELECT 1 FROM errors e WHERE e.run_id = @run AND e.mailbox_id = m.mailbox_id AND (e.folder IS NULL OR e.folder = m.folder))
           AND m.id NOT IN (SELECT message FROM gone)`,
      )
      .run({ run });
    return marked.changes;
  })();
}

/** Records what `remediate --apply` did to a message of the store (by source, mailbox, folder, Message-ID). */
export function recordRemediations(
  db: StateDb,
  done: readonly { source: string; mailbox: string; folder: string; messageId: string; action: string; to?: string }[],
  log: string,
): number {
  const find = db.prepare(
    `SELECT m.id FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
     WHERE s.spec = ? AND mb.name = ? AND m.folder = ? AND m.message_id = ?`,
  );
  const exists = db.prepare('SELECT 1 FROM remediations WHERE message = ? AND action = ?');
  const insert = db.prepare('INSERT INTO remediations (message, action, destination, done_at, log) VALUES (?, ?, ?, ?, ?)');
  let n = 0;
  db.transaction(() => {
    for (const d of done) {
      const row = find.get(d.source, d.mailbox, d.folder, d.messageId) as { id: number } | undefined;
      if (!row || exists.get(row.id, d.action)) continue;
      insert.run(row.id, d.action, d.to ?? null, new Date().toISOString(), log);
      n++;
    }
  })();
  return n;
}

/** One mailbox's figures (the `remediation-status` record); defined with the report model. */
export type MailboxProgress = RemediationStatus;

/**
 * Per mailbox: remaining / quarantined / tagged / resolved, from the latest scans (up to run
 * `asOf` when given), gone and remediations. The one query of `remediate --status` and `report`.
 */
export function remediationProgress(db: StateDb, asOf?: number): MailboxProgress[] {
  const upTo = asOf ?? Number.MAX_SAFE_INTEGER;
  const rows = db
    .prepare(
      `WITH latest AS (SELECT message, max(run_id) AS run FROM main.scans WHERE run_id <= @upTo GROUP BY message),
        state AS (
          SELECT m.id, m.mailbox_id, sc.findings > 0 AS phi_now,
            EXISTS (SELECT 1 FROM main.scans s2 WHERE s2.message = m.id AND s2.run_id <= @upTo AND s2.findings > 0) AS phi_ever,
            EXISTS (SELECT 1 FROM gone g WHERE g.message = m.id AND g.run_id <= @upTo) AS is_gone,
            EXISTS (SELECT 1 FROM remediations r WHERE r.message = m.id AND r.action IN ('move', 'delete')) AS removed,
            EXISTS (SELECT 1 FROM remediations r WHERE r.message = m.id AND r.action = 'tag') AS tagged
          FROM messages m JOIN latest l ON l.message = m.id JOIN main.scans sc ON sc.message = m.id AND sc.run_id = l.run)
       SELECT s.spec AS source, mb.name AS mailbox,
         sum(phi_now AND NOT is_gone AND NOT removed AND NOT tagged) AS remaining,
         sum(phi_now AND NOT is_gone AND removed) AS quarantined,
         sum(phi_now AND NOT is_gone AND tagged AND NOT removed) AS tagged,
         sum(phi_ever AND (is_gone OR NOT phi_now)) AS resolved
       FROM state st JOIN mailboxes mb ON mb.id = st.mailbox_id JOIN sources s ON s.id = mb.source_id
       GROUP BY s.spec, mb.name HAVING sum(phi_ever) > 0 ORDER BY s.spec, mb.name`,
    )
    .all({ upTo }) as { source: string; mailbox: string; remaining: number; quarantined: number; tagged: number; resolved: number }[];
  return rows.map((r) => ({ type: 'remediation-status', ...r }));
}

/** Anything to show as progress: a message acted on by remediate, or found gone by a full scan. */
export function anyRemediation(db: StateDb): boolean {
  return (db.prepare('SELECT EXISTS (SELECT 1 FROM remediations) OR EXISTS (SELECT 1 FROM gone) AS x').get() as { x: number }).x === 1;
}

/**
 * A run still `running` when a new scan holds the state's lock was killed (kill -9, a crash, a
 * reboot): no live scan can hold it. It is marked `abandoned` so it does not show as running
 * forever. Returns how many.
 */
export function abandonDeadRuns(db: StateDb, currentRun: number): number {
  return db.prepare("UPDATE runs SET status = 'abandoned' WHERE status = 'running' AND id <> ?").run(currentRun).changes;
}
