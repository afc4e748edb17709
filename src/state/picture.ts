/**
 * The state store's current picture (or the picture as of a past run): every message's latest
 * scan, its findings, per-mailbox totals, breach sizing and the remediation list. Read-only.
 *
 * Breach sizing (45 CFR 164.404–408: a breach affecting 500 or more individuals is reported to
 * HHS and the media without unreasonable delay): an individual is a distinct fingerprint of a
 * direct identifier — SSN, Medicare ID (MBI / legacy HICN / RRB) or a health-plan member ID.
 * Messages whose only identifying data is a date of birth add their distinct DOB fingerprints as
 * `dobOnlyIndividuals` (a DOB is shared by many people, so it is an estimate, kept apart); the
 * estimate flagged against the threshold is the sum of both, erring on the side of reporting.
 */
import type { Category, Confidence } from '../model/finding.js';
import { CATEGORIES } from '../model/finding.js';
import type { ErrorRecord, FindingRecord, MailboxRecord, MessageRecord } from '../sinks/types.js';
import { severityOf, type ProblemCode } from '../model/problem.js';
import type { StateDb } from './store.js';

/** HHS breach notification: 500 or more individuals (45 CFR 164.408(b)). */
export const HHS_THRESHOLD = 500;

/** Findings that identify one person by themselves; a member-ID rule is recognised by its id. */
const DIRECT_SQL = "(f.category IN ('ssn', 'medicare-id') OR (f.category = 'insurance' AND f.rule LIKE '%member%'))";

export interface RunRow {
  readonly id: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly status: string;
  readonly sources: string[];
  readonly sinceLast: boolean;
  readonly messages: number | null;
  readonly messagesWithPhi: number | null;
  readonly errors: number | null;
}

export function listRuns(db: StateDb): RunRow[] {
  const rows = db.prepare('SELECT * FROM runs ORDER BY id').all() as {
    id: number;
    started_at: string;
    finished_at: string | null;
    status: string;
    sources: string;
    since_last: number;
    messages: number | null;
    messages_with_phi: number | null;
    errors: number | null;
  }[];
  return rows.map((r) => ({
    id: r.id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    // A run still "running" that is not this process's is one that was killed; 0.1.0 wrote 'aborted' for 'interrupted'.
    status: r.status === 'aborted' ? 'interrupted' : r.status,
    sources: JSON.parse(r.sources) as string[],
    sinceLast: r.since_last === 1,
    messages: r.messages,
    messagesWithPhi: r.messages_with_phi,
    errors: r.errors,
  }));
}

/**
 * The run a picture is as of, when it did not end normally: `interrupted` (SIGINT/SIGTERM, or its
 * output was closed) or `unfinished` (still running, or killed). Its mailboxes hold only what it
 * read; a `--since-last` scan finishes them. Undefined for a run that ended (complete or incomplete).
 */
export interface UnfinishedRun {
  readonly type: 'run';
  readonly run: number;
  readonly status: 'interrupted' | 'unfinished';
  readonly stoppedBy?: 'signal' | 'output-closed';
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

export function unfinishedRun(db: StateDb, asOf?: number): UnfinishedRun | undefined {
  const id = asOf ?? latestRunId(db);
  if (id === undefined) return undefined;
  const r = db.prepare('SELECT id, status, started_at, finished_at FROM runs WHERE id = ?').get(id) as
    | { id: number; status: string; started_at: string; finished_at: string | null }
    | undefined;
  if (!r || r.status === 'complete' || r.status === 'incomplete') return undefined;
  const base = { type: 'run' as const, run: r.id, startedAt: r.started_at, finishedAt: r.finished_at };
  if (r.status === 'running') return { ...base, status: 'unfinished' };
  // 'aborted': how 0.1.0 marked a run stopped by a signal.
  return { ...base, status: 'interrupted', stoppedBy: r.status === 'output-closed' ? 'output-closed' : 'signal' };
}

export function latestRunId(db: StateDb): number | undefined {
  return (db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number | null }).id ?? undefined;
}

/**
 * Fills the temporary table `picture(message, run_id)`: each message's latest scan in a run
 * up to `asOf`. Temporary tables live outside the database file, so this works read-only.
 */
function buildPicture(db: StateDb, asOf: number): void {
  db.exec('DROP TABLE IF EXISTS temp.picture');
  db.exec('CREATE TEMP TABLE picture (message INTEGER PRIMARY KEY, run_id INTEGER NOT NULL)');
  db.prepare('INSERT INTO temp.picture SELECT message, max(run_id) FROM scans WHERE run_id <= ? GROUP BY message').run(asOf);
}

export interface MailboxSummary {
  readonly source: string;
  readonly mailbox: string;
  readonly messages: number;
  readonly messagesWithPhi: number;
  readonly byCategory: Partial<Record<Category, number>>;
  /** Items that failed (severity `failed`). */
  readonly errors: number;
  /** Items not read by design (severity `skipped`). */
  readonly skipped: number;
  /** Distinct direct identifiers (SSN, Medicare ID, member ID). */
  readonly individuals: number;
  /** Distinct dates of birth in messages without a direct identifier (an estimate). */
  readonly dobOnlyIndividuals: number;
  readonly estimatedIndividuals: number;
  /** At or over the HHS 500-individual threshold. */
  readonly overThreshold: boolean;
}

export type Action = 'secure-portal-and-delete' | 'delete' | 'review';

export interface RemediationRow {
  readonly source: string;
  readonly mailbox: string;
  readonly folder: string;
  readonly date: string | null;
  readonly messageId: string;
  readonly maskedSubject: string | null;
  readonly categories: Category[];
  readonly findings: number;
  readonly individuals: number;
  readonly action: Action;
  readonly locator: string;
}

/**
 * The recommended action for a message holding PHI (documented in README "Remediation list"):
 * - a direct identifier (SSN, Medicare ID, member ID) together with health or coverage context
 *   (a Medicare ID is coverage in itself; any date of birth/death, insurance, record number or
 *   health condition) → `secure-portal-and-delete`: the record is likely needed, but not in mail;
 * - a direct identifier with no health context (an SSN alone) → `delete`;
 * - only quasi-identifiers (DOB, dates, record numbers, conditions) → `review`.
 */
export function recommendedAction(categories: readonly Category[], hasDirect: boolean): Action {
  if (!hasDirect) return 'review';
  const context = categories.some((c) => c !== 'ssn');
  return context ? 'secure-portal-and-delete' : 'delete';
}

interface MailboxRow {
  id: number;
  source: string;
  name: string;
}
/** A message of the picture joined with one of its findings (all null when it has none). */
interface JoinedRow {
  id: number;
  folder: string;
  message_id: string;
  date: string | null;
  run_id: number;
  findings: number;
  categories: string;
  location: string | null;
  rule: string | null;
  category: Category | null;
  confidence: string | null;
  masked: string | null;
  fingerprint: string | null;
}

function splitCategories(s: string): Category[] {
  return s === '' ? [] : (s.split(',') as Category[]);
}

/** Everything a report needs, built from the store as of run `asOf` (default: the latest). */
export interface Picture {
  readonly asOf: number | undefined;
  readonly mailboxes: MailboxSummary[];
  readonly totals: {
    readonly messages: number;
    readonly messagesWithPhi: number;
    readonly individuals: number;
    readonly dobOnlyIndividuals: number;
    readonly estimatedIndividuals: number;
    readonly mailboxesOverThreshold: number;
  };
}

export type PictureRecord = FindingRecord | MessageRecord | MailboxRecord | ErrorRecord | UnfinishedRun;

/**
 * Streams the picture in scan's JSONL record types (CONTRACT.md "Incremental scans"): per
 * mailbox, its PHI messages each followed by its findings and errors, then its `mailbox`
 * record counting every distinct message scanned to date. Order: source, mailbox, folder, then
 * the order messages were first met in (source order), so a resumed scan reads the same.
 */
export function* pictureRecords(db: StateDb, asOf?: number): Generator<PictureRecord> {
  const run = asOf ?? latestRunId(db);
  if (run === undefined) return;
  buildPicture(db, run);
  const mailboxes = mailboxesAsOf(db, run);
  // One query per mailbox, messages joined with their findings (not a query per message).
  const rows = db.prepare(`
    SELECT m.id, m.folder, m.message_id, m.date, p.run_id, s.findings, s.categories,
      f.location, f.rule, f.category, f.confidence, f.masked, f.fingerprint
    FROM messages m JOIN temp.picture p ON p.message = m.id JOIN scans s ON s.message = m.id AND s.run_id = p.run_id
    LEFT JOIN findings f ON f.message = m.id AND f.run_id = p.run_id
    WHERE m.mailbox_id = ? ORDER BY m.folder, m.id, f.id`);
  const errors = db.prepare('SELECT folder, message_id, location, code, error FROM errors WHERE message = ? AND run_id = ? ORDER BY id');
  const errorCounts = messageErrorCounts(db);
  for (const mb of mailboxes) {
    let count = 0;
    let withPhi = 0;
    let errorCount = 0;
    let skippedCount = 0;
    const count1 = (code: string): void => {
      if (severityOf(code) === 'skipped') skippedCount++;
      else errorCount++;
    };
    const byCategory = new Map<Category, number>();
    let current: JoinedRow | undefined;
    const endMessage = function* (m: JoinedRow): Generator<PictureRecord> {
      const nErrors = errorCounts.get(`${m.id}:${m.run_id}`) ?? 0;
      if (nErrors > 0) {
        for (const e of errors.all(m.id, m.run_id) as { folder: string | null; message_id: string | null; location: string | null; code: ProblemCode; error: string }[]) {
          count1(e.code);
          yield errorRecord(mb, e);
        }
      }
    };
    for (const r of rows.iterate(mb.id) as IterableIterator<JoinedRow>) {
      if (current?.id !== r.id) {
        if (current) yield* endMessage(current);
        current = r;
        count++;
        if (r.findings > 0) {
          withPhi++;
          yield {
            type: 'message',
            source: mb.source,
            mailbox: mb.name,
            folder: r.folder,
            messageId: r.message_id,
            date: r.date,
            categories: splitCategories(r.categories),
            findings: r.findings,
          };
        }
      }
      if (r.category !== null) {
        byCategory.set(r.category, (byCategory.get(r.category) ?? 0) + 1);
        yield {
          type: 'finding',
          source: mb.source,
          mailbox: mb.name,
          folder: r.folder,
          messageId: r.message_id,
          location: r.location as string,
          rule: r.rule as string,
          category: r.category,
          confidence: r.confidence as Confidence,
          masked: r.masked as string,
          fingerprint: r.fingerprint as string,
        };
      }
    }
    if (current) yield* endMessage(current);
    // Errors about a folder or the whole mailbox (not one message), from the latest run that scanned it.
    for (const e of unitErrors(db, mb.id, run)) {
      count1(e.code);
      yield errorRecord(mb, e);
    }
    const cats: MailboxRecord['byCategory'] = {};
    for (const c of CATEGORIES) {
      const n = byCategory.get(c);
      if (n !== undefined) cats[c] = n;
    }
    yield { type: 'mailbox', source: mb.source, mailbox: mb.name, messages: count, messagesWithPhi: withPhi, byCategory: sortKeys(cats), errors: errorCount, skipped: skippedCount };
  }
  // Last, and only when the run did not end normally: the picture is partial until a --since-last scan finishes it.
  const cut = unfinishedRun(db, run);
  if (cut) yield cut;
}

function sortKeys(o: MailboxRecord['byCategory']): MailboxRecord['byCategory'] {
  const out: MailboxRecord['byCategory'] = {};
  for (const k of (Object.keys(o) as Category[]).sort()) out[k] = o[k] as number;
  return out;
}

function errorRecord(
  mb: MailboxRow,
  e: { folder: string | null; message_id: string | null; location: string | null; code: ProblemCode; error: string },
): ErrorRecord {
  return {
    type: 'error',
    source: mb.source,
    mailbox: mb.name,
    ...(e.folder !== null ? { folder: e.folder } : {}),
    ...(e.message_id !== null ? { messageId: e.message_id } : {}),
    ...(e.location !== null ? { location: e.location } : {}),
    error: e.error,
    code: e.code,
    severity: severityOf(e.code),
  };
}

function mailboxesAsOf(db: StateDb, run: number): MailboxRow[] {
  return db
    .prepare(
      `SELECT mb.id, s.spec AS source, mb.name FROM mailboxes mb JOIN sources s ON s.id = mb.source_id
       WHERE EXISTS (SELECT 1 FROM messages m WHERE m.mailbox_id = mb.id AND m.first_run <= ?)
          OR EXISTS (SELECT 1 FROM run_mailboxes r WHERE r.mailbox_id = mb.id AND r.run_id <= ?)
          OR EXISTS (SELECT 1 FROM errors e WHERE e.mailbox_id = mb.id AND e.run_id <= ?)
       ORDER BY s.spec, mb.name`,
    )
    .all(run, run, run) as MailboxRow[];
}

function messageErrorCounts(db: StateDb): Map<string, number> {
  const rows = db.prepare('SELECT message, run_id, count(*) AS n FROM errors WHERE message IS NOT NULL GROUP BY message, run_id').all() as {
    message: number;
    run_id: number;
    n: number;
  }[];
  return new Map(rows.map((r) => [`${r.message}:${r.run_id}`, r.n]));
}

function unitErrors(
  db: StateDb,
  mailbox: number,
  run: number,
): { folder: string | null; message_id: string | null; location: string | null; code: ProblemCode; error: string }[] {
  const last = db
    .prepare(
      `SELECT max(run_id) AS r FROM (SELECT run_id FROM run_mailboxes WHERE mailbox_id = ? AND run_id <= ?
       UNION SELECT run_id FROM errors WHERE mailbox_id = ? AND run_id <= ?)`,
    )
    .get(mailbox, run, mailbox, run) as { r: number | null };
  if (last.r === null) return [];
  return db
    .prepare('SELECT folder, message_id, location, code, error FROM errors WHERE mailbox_id = ? AND run_id = ? AND message IS NULL ORDER BY id')
    .all(mailbox, last.r) as { folder: string | null; message_id: string | null; location: string | null; code: ProblemCode; error: string }[];
}

/** Per-mailbox totals with breach sizing, as of run `asOf` (default: the latest). */
export function summarize(db: StateDb, asOf?: number): Picture {
  const run = asOf ?? latestRunId(db);
  const summaries: MailboxSummary[] = [];
  let messages = 0;
  let messagesWithPhi = 0;
  if (run === undefined) {
    return { asOf: undefined, mailboxes: [], totals: { messages: 0, messagesWithPhi: 0, individuals: 0, dobOnlyIndividuals: 0, estimatedIndividuals: 0, mailboxesOverThreshold: 0 } };
  }
  // The same counts as the `mailbox` records of pictureRecords, by aggregate queries (a report
  // over a million findings must not build a million objects to count them).
  buildPicture(db, run);
  const counts = new Map(
    (
      db
        .prepare(
          `SELECT m.mailbox_id AS id, count(*) AS n, coalesce(sum(s.findings > 0), 0) AS phi FROM temp.picture p
           JOIN messages m ON m.id = p.message JOIN scans s ON s.message = p.message AND s.run_id = p.run_id GROUP BY m.mailbox_id`,
        )
        .all() as { id: number; n: number; phi: number }[]
    ).map((r) => [r.id, r]),
  );
  const categoryCounts = db
    .prepare(
      `SELECT m.mailbox_id AS id, f.category, count(*) AS n FROM temp.picture p JOIN findings f ON f.message = p.message AND f.run_id = p.run_id
       JOIN messages m ON m.id = p.message GROUP BY m.mailbox_id, f.category ORDER BY f.category`,
    )
    .all() as { id: number; category: Category; n: number }[];
  // Per mailbox: failed and skipped (model/problem.ts classifies the codes).
  const messageErrors = new Map<number, { failed: number; skipped: number }>();
  const tally = (into: { failed: number; skipped: number }, code: string, n: number): void => {
    if (severityOf(code) === 'skipped') into.skipped += n;
    else into.failed += n;
  };
  for (const r of db
    .prepare(
      `SELECT m.mailbox_id AS id, e.code, count(*) AS n FROM temp.picture p JOIN errors e ON e.message = p.message AND e.run_id = p.run_id
       JOIN messages m ON m.id = p.message GROUP BY m.mailbox_id, e.code`,
    )
    .all() as { id: number; code: string; n: number }[]) {
    let t = messageErrors.get(r.id);
    if (!t) messageErrors.set(r.id, (t = { failed: 0, skipped: 0 }));
    tally(t, r.code, r.n);
  }
  for (const mb of mailboxesAsOf(db, run)) {
    const c = counts.get(mb.id);
    const byCategory: MailboxRecord['byCategory'] = {};
    for (const r of categoryCounts) if (r.id === mb.id) byCategory[r.category] = r.n;
    const errors = { ...(messageErrors.get(mb.id) ?? { failed: 0, skipped: 0 }) };
    for (const e of unitErrors(db, mb.id, run)) tally(errors, e.code, 1);
    messages += c?.n ?? 0;
    messagesWithPhi += c?.phi ?? 0;
    summaries.push({
      source: mb.source,
      mailbox: mb.name,
      messages: c?.n ?? 0,
      messagesWithPhi: c?.phi ?? 0,
      byCategory,
      errors: errors.failed,
      skipped: errors.skipped,
      individuals: 0,
      dobOnlyIndividuals: 0,
      estimatedIndividuals: 0,
      overThreshold: false,
    });
  }
  const direct = new Map(
    (
      db
        .prepare(
          `SELECT s.spec AS source, mb.name AS mailbox, count(DISTINCT f.fingerprint) AS n
           FROM temp.picture p JOIN findings f ON f.message = p.message AND f.run_id = p.run_id
           JOIN messages m ON m.id = p.message JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
           WHERE ${DIRECT_SQL} GROUP BY mb.id`,
        )
        .all() as { source: string; mailbox: string; n: number }[]
    ).map((r) => [`${r.source}\0${r.mailbox}`, r.n]),
  );
  const dobOnlySql = `FROM temp.picture p JOIN findings f ON f.message = p.message AND f.run_id = p.run_id
    JOIN messages m ON m.id = p.message JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
    WHERE f.category = 'date-of-birth' AND NOT EXISTS (
      SELECT 1 FROM findings f2 WHERE f2.message = p.message AND f2.run_id = p.run_id
      AND (f2.category IN ('ssn', 'medicare-id') OR (f2.category = 'insurance' AND f2.rule LIKE '%member%')))`;
  const dobOnly = new Map(
    (db.prepare(`SELECT s.spec AS source, mb.name AS mailbox, count(DISTINCT f.fingerprint) AS n ${dobOnlySql} GROUP BY mb.id`).all() as {
      source: string;
      mailbox: string;
      n: number;
    }[]).map((r) => [`${r.source}\0${r.mailbox}`, r.n]),
  );
  const mailboxes = summaries
    .map((s) => {
      const individuals = direct.get(`${s.source}\0${s.mailbox}`) ?? 0;
      const dob = dobOnly.get(`${s.source}\0${s.mailbox}`) ?? 0;
      return { ...s, individuals, dobOnlyIndividuals: dob, estimatedIndividuals: individuals + dob, overThreshold: individuals + dob >= HHS_THRESHOLD };
    })
    // Ranked by exposure: most individuals first, then most messages with PHI.
    .sort((a, b) => b.estimatedIndividuals - a.estimatedIndividuals || b.messagesWithPhi - a.messagesWithPhi || (a.mailbox < b.mailbox ? -1 : 1));
  const overallDirect = (
    db.prepare(`SELECT count(DISTINCT f.fingerprint) AS n FROM temp.picture p JOIN findings f ON f.message = p.message AND f.run_id = p.run_id WHERE ${DIRECT_SQL}`).get() as {
      n: number;
    }
  ).n;
  const overallDob = (db.prepare(`SELECT count(DISTINCT f.fingerprint) AS n ${dobOnlySql}`).get() as { n: number }).n;
  return {
    asOf: run,
    mailboxes,
    totals: {
      messages,
      messagesWithPhi,
      individuals: overallDirect,
      dobOnlyIndividuals: overallDob,
      estimatedIndividuals: overallDirect + overallDob,
      mailboxesOverThreshold: mailboxes.filter((m) => m.overThreshold).length,
    },
  };
}

/** One row per message holding PHI as of `asOf`, grouped by mailbox (its owner acts on it). */
export function* remediationRows(db: StateDb, asOf?: number): Generator<RemediationRow> {
  const run = asOf ?? latestRunId(db);
  if (run === undefined) return;
  buildPicture(db, run);
  const rows = db.prepare(`
    SELECT s.spec AS source, mb.name AS mailbox, m.folder, m.date, m.message_id, m.masked_subject, m.locator, sc.findings, sc.categories,
      (SELECT count(DISTINCT f.fingerprint) FROM findings f WHERE f.message = p.message AND f.run_id = p.run_id AND ${DIRECT_SQL}) AS direct,
      (SELECT count(DISTINCT f.fingerprint) FROM findings f WHERE f.message = p.message AND f.run_id = p.run_id AND f.category = 'date-of-birth') AS dob
    FROM temp.picture p JOIN scans sc ON sc.message = p.message AND sc.run_id = p.run_id
    JOIN messages m ON m.id = p.message JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
    WHERE sc.findings > 0 ORDER BY s.spec, mb.name, m.folder, m.id`);
  for (const r of rows.iterate() as IterableIterator<{
    source: string;
    mailbox: string;
    folder: string;
    date: string | null;
    message_id: string;
    masked_subject: string | null;
    locator: string;
    findings: number;
    categories: string;
    direct: number;
    dob: number;
  }>) {
    const categories = splitCategories(r.categories);
    yield {
      source: r.source,
      mailbox: r.mailbox,
      folder: r.folder,
      date: r.date,
      messageId: r.message_id,
      maskedSubject: r.masked_subject,
      categories,
      findings: r.findings,
      individuals: r.direct > 0 ? r.direct : r.dob,
      action: recommendedAction(categories, r.direct > 0),
      locator: r.locator,
    };
  }
}

export interface DiffRow {
  readonly source: string;
  readonly mailbox: string;
  /** Messages holding PHI as of run B that did not as of run A (new, or newly holding PHI). */
  readonly added: { folder: string; messageId: string; categories: Category[] }[];
  /** Messages holding PHI as of run A that no longer do as of run B (cleaned, or rescanned clean). */
  readonly resolved: { folder: string; messageId: string; categories: Category[] }[];
}

/**
 * `phi-scan diff RUN_A RUN_B`: per mailbox, the messages holding PHI in the picture as of B but
 * not as of A, and the other way round. A message deleted from a mailbox stays in the picture
 * with its last scan (the store only learns what scans tell it), so it is not "resolved" until
 * scanned clean; the remediation workflow deletes and the next full scan confirms.
 */
export function diffRuns(db: StateDb, a: number, b: number): DiffRow[] {
  const phiAsOf = (run: number): Map<number, string> => {
    const rows = db
      .prepare(
        `SELECT s.message, s.categories FROM (SELECT message, max(run_id) AS r FROM scans WHERE run_id <= ? GROUP BY message) p
         JOIN scans s ON s.message = p.message AND s.run_id = p.r WHERE s.findings > 0`,
      )
      .all(run) as { message: number; categories: string }[];
    return new Map(rows.map((r) => [r.message, r.categories]));
  };
  const before = phiAsOf(a);
  const after = phiAsOf(b);
  const info = db.prepare(
    'SELECT s.spec AS source, mb.name AS mailbox, m.folder, m.message_id FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id WHERE m.id = ?',
  );
  const out = new Map<string, { source: string; mailbox: string; added: DiffRow['added']; resolved: DiffRow['resolved'] }>();
  const add = (id: number, categories: string, kind: 'added' | 'resolved'): void => {
    const m = info.get(id) as { source: string; mailbox: string; folder: string; message_id: string };
    const key = `${m.source}\0${m.mailbox}`;
    let row = out.get(key);
    if (!row) out.set(key, (row = { source: m.source, mailbox: m.mailbox, added: [], resolved: [] }));
    row[kind].push({ folder: m.folder, messageId: m.message_id, categories: splitCategories(categories) });
  };
  for (const [id, cats] of after) if (!before.has(id)) add(id, cats, 'added');
  for (const [id, cats] of before) if (!after.has(id)) add(id, cats, 'resolved');
  return [...out.values()].sort((x, y) => (x.source + x.mailbox < y.source + y.mailbox ? -1 : 1));
}
