/**
 * An ignore file (findings/suppress.ts) applied to the state store when reading it (`report`,
 * `diff`): findings recorded before an entry was added are left out as if the scan had dropped
 * them, so an entry takes effect at once instead of at the next scan.
 *
 * How: temporary views named `findings` and `scans` shadow the tables of the same name for this
 * connection only (SQLite resolves an unqualified name in `temp` first). `findings` leaves out the
 * suppressed rows; `scans` gives each scan that lost findings its remaining count and categories.
 * Every query of the picture (totals, categories, individuals, actions, remediation rows, trend,
 * records, diff) then reads the same reduced data: no count can disagree with another. Nothing is
 * written to the database file (temporary objects live outside it; a read-only connection works),
 * and a later write through this connection to `scans`/`findings` fails rather than bypassing it.
 * Which finding an entry matches is decided by Suppressions.keep only (one mechanism with scan).
 */
import { z } from 'zod';
import type { Suppressions } from '../findings/suppress.js';
import type { StateDb } from './store.js';
import { categoriesKey } from './writer.js';

const Candidate = z.object({ message: z.number().int(), run_id: z.number().int(), message_id: z.string() });
const FindingRow = z.object({ id: z.number().int(), category: z.string(), fingerprint: z.string() });

/** The ignore file applied to each connection, for the "N findings suppressed by FILE" note. */
const applied = new WeakMap<StateDb, string>();

export function applySuppressions(db: StateDb, suppress: Suppressions): void {
  db.exec('DROP VIEW IF EXISTS temp.findings; DROP VIEW IF EXISTS temp.scans');
  db.exec('DROP TABLE IF EXISTS temp.suppressed; DROP TABLE IF EXISTS temp.suppressed_scans');
  db.exec('CREATE TEMP TABLE suppressed (finding INTEGER PRIMARY KEY)');
  db.exec('CREATE TEMP TABLE suppressed_scans (message INTEGER NOT NULL, run_id INTEGER NOT NULL, findings INTEGER NOT NULL, categories TEXT NOT NULL, PRIMARY KEY (message, run_id)) WITHOUT ROWID');
  const fingerprints = [...new Set(suppress.entries.filter((e) => e.fingerprint !== '*').map((e) => e.fingerprint))];
  const messageIds = [...new Set(suppress.entries.filter((e) => e.message !== '*').map((e) => e.message))];
  // Scans that may lose a finding: one holding a listed fingerprint, or of a listed message.
  // keep() decides, on all the scan's findings (its remaining categories need them all).
  const candidates = db
    .prepare(
      `SELECT DISTINCT f.message, f.run_id, m.message_id FROM main.findings f JOIN main.messages m ON m.id = f.message
       WHERE f.fingerprint IN (SELECT value FROM json_each(?)) OR m.message_id IN (SELECT value FROM json_each(?))
       ORDER BY f.message, f.run_id`,
    )
    .all(JSON.stringify(fingerprints), JSON.stringify(messageIds))
    .map((r) => Candidate.parse(r));
  const ofScan = db.prepare('SELECT id, category, fingerprint FROM main.findings WHERE message = ? AND run_id = ? ORDER BY id');
  const addFinding = db.prepare('INSERT INTO temp.suppressed (finding) VALUES (?)');
  const addScan = db.prepare('INSERT INTO temp.suppressed_scans (message, run_id, findings, categories) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const c of candidates) {
      const all = ofScan.all(c.message, c.run_id).map((r) => FindingRow.parse(r));
      const kept = suppress.keep(c.message_id, all);
      if (kept.length === all.length) continue;
      const keptIds = new Set(kept.map((f) => f.id));
      for (const f of all) if (!keptIds.has(f.id)) addFinding.run(f.id);
      addScan.run(c.message, c.run_id, kept.length, categoriesKey(kept));
    }
  })();
  db.exec('CREATE TEMP VIEW findings AS SELECT * FROM main.findings WHERE id NOT IN (SELECT finding FROM temp.suppressed)');
  db.exec(
    `CREATE TEMP VIEW scans AS SELECT s.message, s.run_id, coalesce(a.findings, s.findings) AS findings, coalesce(a.categories, s.categories) AS categories
     FROM main.scans s LEFT JOIN temp.suppressed_scans a ON a.message = s.message AND a.run_id = s.run_id`,
  );
  applied.set(db, suppress.file);
}

/** The ignore file applied to this connection, if any (then temp.suppressed lists its findings). */
export function suppressionFile(db: StateDb): string | undefined {
  return applied.get(db);
}
