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
import { anyRemediation, remediationProgress } from '../remediate/progress.js';
import type { Category, Confidence } from '../model/finding.js';
import { CATEGORIES } from '../model/finding.js';
import type { ErrorRecord, FindingRecord, MailboxRecord, MessageRecord } from '../model/records.js';
import { severityOf, type ProblemCode } from '../model/problem.js';
import {
  ACTIONS,
  ACTION_LABELS,
  CATEGORY_LABELS,
  HHS_THRESHOLD,
  REPORT_CATEGORY_ORDER,
  readableDate,
  type Action,
  type FindingDetail,
  type MailboxSummary,
  type RemediationRow,
  type ReportModel,
  type ReportScope,
  type ScanFacts,
  type TrendPoint,
  type UnfinishedRun,
} from '../sinks/model.js';
import type { StateDb } from '../state/store.js';
import { suppressionFile } from '../state/suppress.js';
import { DIRECT_FINDING_SQL } from '../people/facts.js';
import { LINKING } from '../people/records.js';
import { countPeople, countSortedPeople, sumParts, type KeyRow, type PeopleCount, type PeopleParts } from '../people/count.js';

export { HHS_THRESHOLD, type Action, type MailboxSummary, type RemediationRow, type ReportScope, type UnfinishedRun };

/** `asOf` (a run id, or undefined for the latest) as a picture scope; a scope as it is. */
function toScope(s: number | ReportScope | undefined): ReportScope {
  if (typeof s === 'object') return s;
  return s === undefined ? { kind: 'picture' } : { kind: 'picture', asOf: s };
}

/** The run a scope's figures are as of (picture) or of (run); undefined for an empty store. */
export function scopeRun(db: StateDb, scope: ReportScope): number | undefined {
  return scope.kind === 'run' ? scope.run : (scope.asOf ?? latestRunId(db));
}

/** Findings that identify one person by themselves: the identity stored with each (people/facts.ts). */
const DIRECT_SQL = `(${DIRECT_FINDING_SQL})`;

export type RunRow = import('../sinks/model.js').RunSummary;

export function listRuns(db: StateDb): RunRow[] {
  const rows = db.prepare('SELECT * FROM runs ORDER BY id').all() as {
    id: number;
    started_at: string;
    finished_at: string | null;
    status: string;
    sources: string;
    since_last: number;
    min_confidence: string;
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
    minConfidence: r.min_confidence,
    messages: r.messages,
    messagesWithPhi: r.messages_with_phi,
    errors: r.errors,
  }));
}

/**
 * The run a picture is as of (or a run's own view), when it did not end normally: `interrupted`
 * (SIGINT/SIGTERM, or its output was closed) or `unfinished` (still running, or killed). Its
 * mailboxes hold only what it read; a `--since-last` scan finishes them. Undefined for a run
 * that ended (complete or incomplete).
 */
export function unfinishedRun(db: StateDb, asOf?: number): UnfinishedRun | undefined {
  const id = asOf ?? latestRunId(db);
  if (id === undefined) return undefined;
  const r = db.prepare('SELECT id, status, started_at, finished_at FROM runs WHERE id = ?').get(id) as
    | { id: number; status: string; started_at: string; finished_at: string | null }
    | undefined;
  if (!r || r.status === 'complete' || r.status === 'incomplete') return undefined;
  const base = { type: 'run' as const, run: r.id, startedAt: r.started_at, finishedAt: r.finished_at };
  // 'abandoned': a killed run, marked so by the next scan (remediate/progress.ts abandonDeadRuns).
  if (r.status === 'running' || r.status === 'abandoned') return { ...base, status: 'unfinished' };
  // 'aborted': how 0.1.0 marked a run stopped by a signal.
  return { ...base, status: 'interrupted', stoppedBy: r.status === 'output-closed' ? 'output-closed' : 'signal' };
}

export function latestRunId(db: StateDb): number | undefined {
  return (db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number | null }).id ?? undefined;
}

/**
 * Fills the temporary table `picture(message, run_id)`: for a picture, each message's latest
 * scan in a run up to `asOf`; for a run, the messages that run scanned. Temporary tables live
 * outside the database file, so this works read-only.
 */
function buildPicture(db: StateDb, scope: ReportScope, run: number): void {
  db.exec('DROP TABLE IF EXISTS temp.picture');
  db.exec('CREATE TEMP TABLE picture (message INTEGER PRIMARY KEY, run_id INTEGER NOT NULL)');
  if (scope.kind === 'run') db.prepare('INSERT INTO temp.picture SELECT message, run_id FROM scans WHERE run_id = ?').run(run);
  else db.prepare(`INSERT INTO temp.picture SELECT message, max(run_id) FROM scans WHERE run_id <= ? AND ${NOT_GONE} GROUP BY message`).run(run, run);
}

/**
 * A message a full scan up to run `?` (the second parameter) no longer found in its folder is
 * gone (remediate/progress.ts markGone): it leaves the picture's figures and shows as resolved.
 * Found again later, its `gone` row is removed. Binds one parameter: the picture's run.
 */
const NOT_GONE = 'message NOT IN (SELECT message FROM gone WHERE run_id <= ?)';

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
  roster_row: number | null;
}

function splitCategories(s: string): Category[] {
  return s === '' ? [] : (s.split(',') as Category[]);
}

/** Everything a report needs, built from the store as of run `asOf` (default: the latest). */
export interface Picture {
  readonly asOf: number | undefined;
  readonly mailboxes: MailboxSummary[];
  /** The report model's totals (sinks/model.ts) but the per-mailbox and findings counts it adds. */
  readonly totals: Omit<ReportModel['totals'], 'mailboxes' | 'mailboxesWithPhi' | 'findings'>;
}

export type PictureRecord = FindingRecord | MessageRecord | MailboxRecord | ErrorRecord | UnfinishedRun;

/**
 * Streams the picture in scan's JSONL record types (CONTRACT.md "Incremental scans"): per
 * mailbox, its PHI messages each followed by its findings and errors, then its `mailbox`
 * record counting every distinct message scanned to date. Order: source, mailbox, folder, then
 * the order messages were first met in (source order), so a resumed scan reads the same.
 */
export function* pictureRecords(db: StateDb, asOf?: number | ReportScope): Generator<PictureRecord> {
  const scope = toScope(asOf);
  const run = scopeRun(db, scope);
  if (run === undefined) return;
  buildPicture(db, scope, run);
  const mailboxes = mailboxesAsOf(db, scope, run);
  // One query per mailbox, messages joined with their findings (not a query per message).
  const rows = db.prepare(`
    SELECT m.id, m.folder, m.message_id, m.date, p.run_id, s.findings, s.categories,
      f.location, f.rule, f.category, f.confidence, f.masked, f.fingerprint, f.roster_row
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
          ...(r.roster_row !== null ? { rosterRow: r.roster_row } : {}),
        };
      }
    }
    if (current) yield* endMessage(current);
    // Errors about a folder or the whole mailbox (not one message), from the latest run that scanned it.
    for (const e of unitErrors(db, mb.id, scope, run)) {
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

/** An error row of a mailbox as a record (one shape of error record: toErrorRecord). */
function errorRecord(mb: MailboxRow, e: Omit<ErrorRow, 'id' | 'source' | 'mailbox'>): ErrorRecord {
  return toErrorRecord({ ...e, id: 0, source: mb.source, mailbox: mb.name });
}

function mailboxesAsOf(db: StateDb, scope: ReportScope, run: number): MailboxRow[] {
  if (scope.kind === 'run') {
    return db
      .prepare(
        `SELECT mb.id, s.spec AS source, mb.name FROM mailboxes mb JOIN sources s ON s.id = mb.source_id
         WHERE EXISTS (SELECT 1 FROM run_mailboxes r WHERE r.mailbox_id = mb.id AND r.run_id = ?)
            OR EXISTS (SELECT 1 FROM errors e WHERE e.mailbox_id = mb.id AND e.run_id = ?)
            OR EXISTS (SELECT 1 FROM temp.picture p JOIN messages m ON m.id = p.message WHERE m.mailbox_id = mb.id)
         ORDER BY s.spec, mb.name`,
      )
      .all(run, run) as MailboxRow[];
  }
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
  scope: ReportScope,
  run: number,
): { folder: string | null; message_id: string | null; location: string | null; code: ProblemCode; error: string }[] {
  const last = scope.kind === 'run' ? { r: run } : db
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

/** Per-mailbox totals with breach sizing, as of run `asOf` (default: the latest), or of a scope. */
export function summarize(db: StateDb, asOf?: number | ReportScope): Picture {
  const scope = toScope(asOf);
  const run = scopeRun(db, scope);
  const summaries: MailboxSummary[] = [];
  let messages = 0;
  let messagesWithPhi = 0;
  if (run === undefined) {
    const none = countPeople([]);
    return {
      asOf: undefined,
      mailboxes: [],
      totals: { messages: 0, messagesWithPhi: 0, individuals: 0, dobOnlyIndividuals: 0, estimatedIndividuals: 0, mailboxesOverThreshold: 0, people: none.total, overThreshold: false, explanation: none.explanation },
    };
  }
  // The same counts as the `mailbox` records of pictureRecords, by aggregate queries (a report
  // over a million findings must not build a million objects to count them).
  buildPicture(db, scope, run);
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
  const actions = actionCounts(db);
  for (const mb of mailboxesAsOf(db, scope, run)) {
    const c = counts.get(mb.id);
    const byCategory: MailboxRecord['byCategory'] = {};
    for (const r of categoryCounts) if (r.id === mb.id) byCategory[r.category] = r.n;
    const errors = { ...(messageErrors.get(mb.id) ?? { failed: 0, skipped: 0 }) };
    for (const e of unitErrors(db, mb.id, scope, run)) tally(errors, e.code, 1);
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
      people: NO_PEOPLE,
      actions: actions.get(mb.id) ?? { 'secure-portal-and-delete': 0, delete: 0, review: 0 },
    });
  }
  const people = picturePeople(db);
  const ids = new Map(mailboxesAsOf(db, scope, run).map((mb) => [`${mb.source}\0${mb.name}`, mb.id]));
  const mailboxes = summaries
    .map((s) => {
      const parts = people.byMailbox.get(ids.get(`${s.source}\0${s.mailbox}`) ?? -1) ?? NO_PEOPLE;
      const individuals = sumParts(parts);
      return { ...s, individuals, dobOnlyIndividuals: parts.dobOnly, estimatedIndividuals: individuals + parts.dobOnly, overThreshold: individuals + parts.dobOnly >= HHS_THRESHOLD, people: parts };
    })
    // Ranked by exposure: most individuals first, then most messages with PHI.
    .sort((a, b) => b.estimatedIndividuals - a.estimatedIndividuals || b.messagesWithPhi - a.messagesWithPhi || (a.mailbox < b.mailbox ? -1 : 1));
  const overall = sumParts(people.total);
  return {
    asOf: run,
    mailboxes,
    totals: {
      messages,
      messagesWithPhi,
      individuals: overall,
      dobOnlyIndividuals: people.total.dobOnly,
      estimatedIndividuals: overall + people.total.dobOnly,
      mailboxesOverThreshold: mailboxes.filter((m) => m.overThreshold).length,
      people: people.total,
      overThreshold: overall + people.total.dobOnly >= HHS_THRESHOLD,
      explanation: people.explanation,
    },
  };
}

const NO_PEOPLE: PeopleParts = { roster: 0, direct: 0, nameDob: 0, dobOnly: 0 };

/**
 * The query of the person keys of the picture's message scans (columns mailbox, message,
 * record, key; run after buildPicture). A scan stored without its people (a version before
 * breach sizing in people, or a library scan without a key) gives each direct identifier a
 * record of its own, and its birth dates when it has no direct identifier: the count that
 * version made. Keys of findings an ignore file leaves out are left out too.
 */
function personKeysSql(db: StateDb): string {
  const suppressed = suppressionFile(db) !== undefined
    ? `AND NOT EXISTS (SELECT 1 FROM temp.suppressed x JOIN main.findings sf ON sf.id = x.finding
         WHERE sf.message = k.message AND sf.run_id = k.run_id AND sf.fingerprint = substr(k.key, 3))`
    : '';
  const noPeople = 'NOT EXISTS (SELECT 1 FROM people_scans ps WHERE ps.message = p.message AND ps.run_id = p.run_id)';
  return `
    SELECT m.mailbox_id AS mailbox, k.message, k.record, k.key FROM temp.picture p
      JOIN person_keys k ON k.message = p.message AND k.run_id = p.run_id JOIN messages m ON m.id = p.message
      WHERE 1 ${suppressed}
    UNION ALL
    SELECT m.mailbox_id, f.message, -f.id, (CASE f.category WHEN 'ssn' THEN 's:' WHEN 'medicare-id' THEN 'm:' ELSE 'i:' END) || f.fingerprint
      FROM temp.picture p JOIN findings f ON f.message = p.message AND f.run_id = p.run_id JOIN messages m ON m.id = p.message
      WHERE ${DIRECT_FINDING_SQL} AND ${noPeople}
    UNION ALL
    SELECT m.mailbox_id, f.message, -f.id, 'd:' || f.fingerprint
      FROM temp.picture p JOIN findings f ON f.message = p.message AND f.run_id = p.run_id JOIN messages m ON m.id = p.message
      WHERE f.category = 'date-of-birth' AND ${noPeople}
        AND NOT EXISTS (SELECT 1 FROM findings f2 WHERE f2.message = p.message AND f2.run_id = p.run_id AND f2.identity = 'direct')`;
}

/**
 * The people of the picture (call after buildPicture), from its key rows read twice in the
 * orders people/count.ts `countSortedPeople` takes: SQLite sorts them (on disk when they are
 * many), so memory grows with the records, not with the keys. One read transaction: both reads
 * see the same rows.
 */
function picturePeople(db: StateDb): PeopleCount {
  const rows = personKeysSql(db);
  const linking = [...LINKING].map((k) => `'${k}'`).join(', ');
  const byRecord = db.prepare(`SELECT mailbox, message, record, key FROM (${rows}) ORDER BY message, record`);
  const byKey = db.prepare(`SELECT mailbox, message, record, key FROM (${rows}) WHERE substr(key, 1, 1) IN (${linking}) ORDER BY key`);
  return db.transaction(() => countSortedPeople(byRecord.iterate() as IterableIterator<KeyRow>, () => byKey.iterate() as IterableIterator<KeyRow>))();
}

/** One row per message holding PHI as of `asOf`, grouped by mailbox (its owner acts on it). */
export function* remediationRows(db: StateDb, asOf?: number | ReportScope): Generator<RemediationRow> {
  for (const e of remediationEntries(db, asOf)) yield e.row;
}

/** The remediation rows with the message's key and the run of its scan in the picture (for its findings). */
export function* remediationEntries(db: StateDb, asOf?: number | ReportScope): Generator<{ row: RemediationRow; message: number; run: number }> {
  const scope = toScope(asOf);
  const run = scopeRun(db, scope);
  if (run === undefined) return;
  buildPicture(db, scope, run);
  const rows = db.prepare(`
    SELECT p.message AS id, p.run_id, s.spec AS source, mb.name AS mailbox, m.folder, m.date, m.message_id, m.masked_subject, m.locator, sc.findings, sc.categories,
      (SELECT count(DISTINCT f.fingerprint) FROM findings f WHERE f.message = p.message AND f.run_id = p.run_id AND ${DIRECT_SQL}) AS direct,
      (SELECT CASE WHEN EXISTS (SELECT 1 FROM people_scans ps WHERE ps.message = p.message AND ps.run_id = p.run_id)
        THEN (SELECT count(DISTINCT k.record) FROM person_keys k WHERE k.message = p.message AND k.run_id = p.run_id AND substr(k.key, 1, 1) IN ('s', 'm', 'i', 'n', 'e'))
        END) AS people,
      (SELECT count(DISTINCT f.fingerprint) FROM findings f WHERE f.message = p.message AND f.run_id = p.run_id AND f.category = 'date-of-birth') AS dob,
      (CASE WHEN EXISTS (SELECT 1 FROM remediations r WHERE r.message = p.message AND r.action IN ('move', 'delete')) THEN 'quarantined'
        WHEN EXISTS (SELECT 1 FROM remediations r WHERE r.message = p.message AND r.action = 'tag') THEN 'tagged' ELSE 'remaining' END) AS remediation
    FROM temp.picture p JOIN scans sc ON sc.message = p.message AND sc.run_id = p.run_id
    JOIN messages m ON m.id = p.message JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
    WHERE sc.findings > 0 ORDER BY s.spec, mb.name, m.folder, m.id`);
  for (const r of rows.iterate() as IterableIterator<{
    id: number;
    run_id: number;
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
    people: number | null;
    dob: number;
    remediation: RemediationRow['remediation'];
  }>) {
    const categories = splitCategories(r.categories);
    const row: RemediationRow = {
      source: r.source,
      mailbox: r.mailbox,
      folder: r.folder,
      date: r.date,
      messageId: r.message_id,
      maskedSubject: r.masked_subject,
      categories,
      findings: r.findings,
      // The people of the message (its records), else (stored without them) its distinct direct identifiers.
      individuals: r.people !== null && r.people > 0 ? r.people : r.direct > 0 ? r.direct : r.dob,
      action: recommendedAction(categories, r.direct > 0),
      locator: r.locator,
      // As remediationProgress (remediate/progress.ts) counts it: moved or deleted first, then tagged.
      remediation: r.remediation,
    };
    yield { row, message: r.id, run: r.run_id };
  }
}

export interface DiffRow {
  readonly source: string;
  readonly mailbox: string;
  /** Messages holding PHI as of run B that did not as of run A (new, or newly holding PHI). */
  readonly added: { folder: string; messageId: string; categories: Category[] }[];
  /**
   * Messages holding PHI as of run A that no longer do as of run B: `gone` when a full scan up to
   * B no longer found them in their folder (deleted or moved away), else scanned again clean.
   */
  readonly resolved: { folder: string; messageId: string; categories: Category[]; gone: boolean }[];
}

/**
 * `phi-scan diff RUN_A RUN_B`: per mailbox, the messages holding PHI in the picture as of B but
 * not as of A, and the other way round. A message deleted or moved out of a folder is resolved
 * once a full scan of that folder no longer finds it (table `gone`); until then it stays in the
 * picture with its last scan (the store only learns what scans tell it).
 */
export function diffRuns(db: StateDb, a: number, b: number): DiffRow[] {
  const phiAsOf = (run: number): Map<number, string> => {
    const rows = db
      .prepare(
        `SELECT s.message, s.categories FROM (SELECT message, max(run_id) AS r FROM scans WHERE run_id <= ? AND ${NOT_GONE} GROUP BY message) p
         JOIN scans s ON s.message = p.message AND s.run_id = p.r WHERE s.findings > 0`,
      )
      .all(run, run) as { message: number; categories: string }[];
    return new Map(rows.map((r) => [r.message, r.categories]));
  };
  const before = phiAsOf(a);
  const after = phiAsOf(b);
  const info = db.prepare(
    'SELECT s.spec AS source, mb.name AS mailbox, m.folder, m.message_id FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id WHERE m.id = ?',
  );
  const out = new Map<string, { source: string; mailbox: string; added: DiffRow['added']; resolved: DiffRow['resolved'] }>();
  const goneBy = db.prepare('SELECT 1 FROM gone WHERE message = ? AND run_id <= ?');
  const add = (id: number, categories: string, kind: 'added' | 'resolved'): void => {
    const m = info.get(id) as { source: string; mailbox: string; folder: string; message_id: string };
    const key = `${m.source}\0${m.mailbox}`;
    let row = out.get(key);
    if (!row) out.set(key, (row = { source: m.source, mailbox: m.mailbox, added: [], resolved: [] }));
    const entry = { folder: m.folder, messageId: m.message_id, categories: splitCategories(categories) };
    if (kind === 'added') row.added.push(entry);
    else row.resolved.push({ ...entry, gone: goneBy.get(id, b) !== undefined });
  };
  for (const [id, cats] of after) if (!before.has(id)) add(id, cats, 'added');
  for (const [id, cats] of before) if (!after.has(id)) add(id, cats, 'resolved');
  return [...out.values()].sort((x, y) => (x.source + x.mailbox < y.source + y.mailbox ? -1 : 1));
}

/** Messages holding PHI per mailbox and recommended action, from the current temp.picture. */
function actionCounts(db: StateDb): Map<number, Record<Action, number>> {
  // Grouped by category set and "has a direct identifier": a few rows, each given its action by
  // recommendedAction (the rule lives there only).
  const rows = db
    .prepare(
      `SELECT m.mailbox_id AS id, sc.categories, EXISTS (SELECT 1 FROM findings f WHERE f.message = p.message AND f.run_id = p.run_id AND ${DIRECT_SQL}) AS direct, count(*) AS n
       FROM temp.picture p JOIN scans sc ON sc.message = p.message AND sc.run_id = p.run_id JOIN messages m ON m.id = p.message
       WHERE sc.findings > 0 GROUP BY 1, 2, 3`,
    )
    .all() as { id: number; categories: string; direct: number; n: number }[];
  const out = new Map<number, Record<Action, number>>();
  for (const r of rows) {
    let counts = out.get(r.id);
    if (!counts) out.set(r.id, (counts = { 'secure-portal-and-delete': 0, delete: 0, review: 0 }));
    counts[recommendedAction(splitCategories(r.categories), r.direct === 1)] += r.n;
  }
  return out;
}

type ErrorRow = { id: number; source: string; mailbox: string | null; folder: string | null; message_id: string | null; location: string | null; code: ProblemCode; error: string };

/**
 * Every error record in scope, ordered by id: those of the messages in the picture, those about
 * a folder or mailbox (from the latest run that scanned it), and those about a whole source
 * (from the latest run of that source). Call after buildPicture.
 */
function scopeErrors(db: StateDb, scope: ReportScope, run: number): ErrorRow[] {
  const cols = 'e.id, e.source, mb.name AS mailbox, e.folder, e.message_id, e.location, e.code, e.error';
  const messageErrors = db
    .prepare(`SELECT ${cols} FROM temp.picture p JOIN errors e ON e.message = p.message AND e.run_id = p.run_id LEFT JOIN mailboxes mb ON mb.id = e.mailbox_id`)
    .all() as ErrorRow[];
  const unit: ErrorRow[] = [];
  for (const mb of mailboxesAsOf(db, scope, run)) {
    for (const e of db
      .prepare(`SELECT ${cols} FROM errors e JOIN mailboxes mb ON mb.id = e.mailbox_id WHERE e.mailbox_id = ? AND e.message IS NULL AND e.run_id = ?`)
      .all(mb.id, unitErrorRun(db, mb.id, scope, run) ?? -1) as ErrorRow[]) {
      unit.push(e);
    }
  }
  const sourceErrors = (
    scope.kind === 'run'
      ? db.prepare(`SELECT ${cols} FROM errors e LEFT JOIN mailboxes mb ON mb.id = e.mailbox_id WHERE e.mailbox_id IS NULL AND e.run_id = ?`).all(run)
      : db
          .prepare(
            `SELECT ${cols} FROM errors e LEFT JOIN mailboxes mb ON mb.id = e.mailbox_id WHERE e.mailbox_id IS NULL AND e.run_id = (
               SELECT max(r.id) FROM runs r WHERE r.id <= ? AND EXISTS (SELECT 1 FROM json_each(r.sources) j WHERE j.value = e.source))`,
          )
          .all(run)
  ) as ErrorRow[];
  return [...messageErrors, ...unit, ...sourceErrors].sort((a, b) => a.id - b.id);
}

function unitErrorRun(db: StateDb, mailbox: number, scope: ReportScope, run: number): number | undefined {
  if (scope.kind === 'run') return run;
  const last = db
    .prepare(
      `SELECT max(run_id) AS r FROM (SELECT run_id FROM run_mailboxes WHERE mailbox_id = ? AND run_id <= ?
       UNION SELECT run_id FROM errors WHERE mailbox_id = ? AND run_id <= ?)`,
    )
    .get(mailbox, run, mailbox, run) as { r: number | null };
  return last.r ?? undefined;
}

function toErrorRecord(e: ErrorRow): ErrorRecord {
  return {
    type: 'error',
    source: e.source,
    ...(e.mailbox !== null ? { mailbox: e.mailbox } : {}),
    ...(e.folder !== null ? { folder: e.folder } : {}),
    ...(e.message_id !== null ? { messageId: e.message_id } : {}),
    ...(e.location !== null ? { location: e.location } : {}),
    error: e.error,
    code: e.code,
    severity: severityOf(e.code),
  };
}

/** Error records in scope (see scopeErrors), for the json report. */
export function errorRecords(db: StateDb, scope: ReportScope): ErrorRecord[] {
  const run = scopeRun(db, scope);
  if (run === undefined) return [];
  buildPicture(db, scope, run);
  return scopeErrors(db, scope, run).map(toErrorRecord);
}

/** Errors listed by name in the table and page; the json report has them all. */
export const FIRST_ERRORS = 10;
/** Runs shown in the trend chart. */
export const TREND_RUNS = 20;

/** Messages known and messages holding PHI after each of the last runs up to `upTo`. */
function trend(db: StateDb, runs: readonly RunRow[]): TrendPoint[] {
  const q = db.prepare(`SELECT count(*) AS messages, coalesce(sum(s.findings > 0), 0) AS withPhi
    FROM (SELECT message, max(run_id) AS r FROM scans WHERE run_id <= ? AND ${NOT_GONE} GROUP BY message) p
    JOIN scans s ON s.message = p.message AND s.run_id = p.r`);
  return runs.slice(-TREND_RUNS).map((r) => {
    const c = q.get(r.id, r.id) as { messages: number; withPhi: number };
    return { run: r.id, date: r.startedAt, messages: c.messages, messagesWithPhi: c.withPhi };
  });
}

/**
 * Findings of the scope an ignore file left out (state/suppress.ts), with the file; undefined
 * when none was applied to this connection. Call after buildPicture.
 */
function suppressedInPicture(db: StateDb): { file: string; findings: number } | undefined {
  const file = suppressionFile(db);
  if (file === undefined) return undefined;
  const n = db
    .prepare('SELECT count(*) AS n FROM temp.suppressed x JOIN main.findings f ON f.id = x.finding JOIN temp.picture p ON p.message = f.message AND p.run_id = f.run_id')
    .get() as { n: number };
  return { file, findings: n.n };
}

/** Findings of a scope that the applied ignore file left out (for the note on stderr); undefined without one. */
export function suppressedInScope(db: StateDb, scopeOrAsOf?: number | ReportScope): { file: string; findings: number } | undefined {
  const scope = toScope(scopeOrAsOf);
  const run = scopeRun(db, scope);
  if (suppressionFile(db) === undefined) return undefined;
  if (run === undefined) return { file: suppressionFile(db) as string, findings: 0 };
  buildPicture(db, scope, run);
  return suppressedInPicture(db);
}

/** The one model every report format renders (sinks/model.ts), for a run or the state picture. */
export function reportModel(db: StateDb, scopeOrAsOf?: number | ReportScope, facts: ScanFacts = {}, now: Date = new Date()): ReportModel {
  const scope = toScope(scopeOrAsOf);
  const picture = summarize(db, scope);
  const run = picture.asOf;
  const strict = facts.strict === true;
  const runs = listRuns(db).filter((r) => run === undefined || r.id <= run);
  const thisRun = runs.find((r) => r.id === run);
  const partly = facts.partlyRead;
  const mailboxes = partly && partly.size > 0
    ? picture.mailboxes.map((m) => (partly.has(`${m.source}\0${m.mailbox}`) ? { ...m, interrupted: true as const } : m))
    : picture.mailboxes;
  // temp.picture is the scope's (summarize built it).
  const byCategory = new Map<Category, { findings: number; messages: number }>();
  for (const m of mailboxes) {
    for (const [c, n] of Object.entries(m.byCategory) as [Category, number][]) {
      const e = byCategory.get(c) ?? { findings: 0, messages: 0 };
      e.findings += n;
      byCategory.set(c, e);
    }
  }
  let minConfidence: string[] = [];
  // Applied when reading (report), or told by the scan that dropped them before storing.
  const suppressed = (run === undefined ? undefined : suppressedInPicture(db)) ?? facts.suppressed;
  let errors: ErrorRow[] = [];
  let interrupted: RunRow[] = [];
  if (run !== undefined) {
    const sets = db.prepare('SELECT sc.categories, count(*) AS n FROM temp.picture p JOIN scans sc ON sc.message = p.message AND sc.run_id = p.run_id WHERE sc.findings > 0 GROUP BY 1').all() as {
      categories: string;
      n: number;
    }[];
    for (const s of sets) for (const c of splitCategories(s.categories)) (byCategory.get(c) as { messages: number }).messages += s.n;
    const contributing = new Set((db.prepare('SELECT DISTINCT run_id AS r FROM temp.picture').all() as { r: number }[]).map((r) => r.r));
    errors = scopeErrors(db, scope, run);
    minConfidence = [...new Set(runs.filter((r) => contributing.has(r.id)).map((r) => r.minConfidence))].sort();
    if (minConfidence.length === 0 && thisRun) minConfidence = [thisRun.minConfidence];
    const finished = (r: RunRow): boolean => r.status === 'complete' || r.status === 'incomplete';
    if (scope.kind === 'run') interrupted = thisRun && !finished(thisRun) ? [thisRun] : [];
    else {
      const lastFinished = Math.max(0, ...runs.filter(finished).map((r) => r.id));
      interrupted = runs.filter((r) => !finished(r) && (r.id > lastFinished || contributing.has(r.id)));
    }
  }
  const byCode = new Map<string, number>();
  for (const e of errors) byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
  // One classification of codes (model/problem.ts): failed first, then by count.
  const codes = [...byCode]
    .map(([code, count]) => ({ code, severity: severityOf(code), count }))
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'failed' ? -1 : 1) || b.count - a.count || (a.code < b.code ? -1 : 1));
  const failed = codes.filter((c) => c.severity === 'failed').reduce((n, c) => n + c.count, 0);
  const skipped = errors.length - failed;
  // The first errors listed by name: failed ones first (what to fix), each group in record order.
  const firstErrors = [...errors.filter((e) => severityOf(e.code) === 'failed'), ...errors.filter((e) => severityOf(e.code) === 'skipped')].slice(0, FIRST_ERRORS);
  const actions = ACTIONS.map((action) => ({
    action,
    label: ACTION_LABELS[action],
    messages: mailboxes.reduce((n, m) => n + m.actions[action], 0),
    owners: mailboxes.filter((m) => m.actions[action] > 0).length,
  }));
  const when = thisRun ? ` (${readableDate(thisRun.startedAt)})` : '';
  const title =
    run === undefined
      ? 'Empty state store: no scan recorded yet'
      : scope.kind === 'run'
        ? `Run #${run}${when}: the messages this run scanned`
        : `State picture as of run #${run}${when}: each message's latest scan`;
  return {
    scope,
    interrupted: run === undefined ? undefined : unfinishedRun(db, run),
    run,
    title,
    generatedAt: now.toISOString(),
    totals: {
      mailboxes: mailboxes.length,
      mailboxesWithPhi: mailboxes.filter((m) => m.messagesWithPhi > 0).length,
      messages: picture.totals.messages,
      messagesWithPhi: picture.totals.messagesWithPhi,
      findings: [...byCategory.values()].reduce((n, c) => n + c.findings, 0),
      individuals: picture.totals.individuals,
      dobOnlyIndividuals: picture.totals.dobOnlyIndividuals,
      estimatedIndividuals: picture.totals.estimatedIndividuals,
      mailboxesOverThreshold: picture.totals.mailboxesOverThreshold,
      people: picture.totals.people,
      overThreshold: picture.totals.overThreshold,
      explanation: picture.totals.explanation,
    },
    categories: REPORT_CATEGORY_ORDER.filter((c) => byCategory.has(c)).map((c) => ({ category: c, label: CATEGORY_LABELS[c], ...(byCategory.get(c) as { findings: number; messages: number }) })),
    actions,
    mailboxes,
    completeness: {
      complete: failed === 0 && (!strict || skipped === 0) && interrupted.length === 0 && minConfidence.length <= 1,
      errors: failed,
      skipped,
      strict,
      byCode: codes,
      firstErrors: firstErrors.map(toErrorRecord),
      interruptedRuns: interrupted.map((r) => ({ id: r.id, startedAt: r.startedAt, status: r.status })),
      minConfidence,
    },
    runs,
    trend: trend(db, runs),
    // Progress of the current picture only: remediations carry no run, so a past picture cannot have them.
    ...(scope.kind === 'picture' && run !== undefined && run === latestRunId(db) && anyRemediation(db) ? { remediation: remediationProgress(db, run) } : {}),
    ...(suppressed ? { suppressed } : {}),
  };
}

/**
 * The findings of one message's scan (masked values and fingerprints only), by the keys
 * remediationEntries gives; with their explanation (part, score, why) where the scan kept it
 * (a run whose own report was json, state/store.ts `details`).
 */
export function messageFindings(db: StateDb): (message: number, run: number) => FindingDetail[] {
  const q = db.prepare('SELECT location, rule, category, confidence, masked, fingerprint, detail FROM findings WHERE message = ? AND run_id = ? ORDER BY id');
  return (message, run) =>
    (q.all(message, run) as (FindingDetail & { detail: string | null })[]).map(({ detail, ...f }) => (detail === null ? f : { ...f, ...(JSON.parse(detail) as Partial<FindingDetail>) }));
}
