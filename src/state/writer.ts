/**
 * What the state store writes during a scan, as a stream of plain operations (`StoreOp`) that
 * one `storeWriter` applies in order over one connection: on the scan's thread, or in the store's
 * own thread (writer-thread.ts), so SQLite's work leaves the thread that runs the rules (README,
 * Worker threads, *The state store's own thread*). `messageRows` and its kin turn scan events into
 * the rows written.
 *
 * Crash safety (store.ts header): operations arrive in the order the pipeline made them, and a
 * transaction is committed only right after a cursor (`put`), on `commit` (flush) or at `close`:
 * a commit never holds messages without the cursors that skip them on resume. A failed operation
 * rolls its transaction back: what it held is scanned again (its cursors were not committed).
 */
import type Database from 'better-sqlite3';
import type { Finding } from '../model/finding.js';
import type { ErrorRecord, MailboxRecord, MessageContext, MessageOutcome } from '../model/records.js';
import { identityOf } from '../people/facts.js';
import { markRemoved } from './gone.js';
import { safeReason } from '../common/safe-reason.js';

/** Messages written per transaction at most (a commit waits for the next checkpoint). */
const BATCH_MESSAGES = 200;
/** Longest a transaction stays open before the next checkpoint commits it. */
const BATCH_MS = 1000;
/**
 * Rows written by one multi-row INSERT of findings or person keys: a roster holds thousands, and
 * one call into SQLite per ROWS_PER_INSERT rows costs less than one per row (SQLite allows
 * 32,766 parameters; 9 a findings row beside the shared message and run).
 */
const ROWS_PER_INSERT = 64;

/** A finding's columns after its message and run: what `MessageRows.findings` holds per finding, in order. */
const FINDING_VALUES = ['location', 'rule', 'category', 'confidence', 'masked', 'fingerprint', 'identity', 'roster_row', 'detail'] as const;
const PERSON_KEY_VALUES = ['record', 'key'] as const;

export type Cell = string | number | null;

/** A scanned message as the store writes it: masked values and fingerprints only, flat. */
export interface MessageRows {
  readonly source: string;
  readonly mailbox: string;
  readonly folder: string;
  readonly messageId: string;
  readonly date: string | null;
  readonly subject: string | null;
  readonly locator: string;
  readonly categories: string;
  /** FINDING_VALUES.length cells a finding, end to end. */
  readonly findings: readonly Cell[];
  /** People records (people/records.ts): how many, and [record index, key] pairs end to end. */
  readonly people?: { readonly records: number; readonly keys: readonly (string | number)[] };
}

export interface ErrorRow {
  readonly source: string;
  readonly mailbox?: string;
  readonly folder?: string;
  readonly messageId?: string;
  readonly location?: string;
  readonly code: string;
  readonly error: string;
}

export interface MailboxRow {
  readonly source: string;
  readonly mailbox: string;
  readonly messages: number;
  readonly messagesWithPhi: number;
  readonly errors: number;
  /** JSON of the findings per category. */
  readonly byCategory: string;
}

export interface RunEnd {
  readonly finishedAt: string;
  readonly status: string;
  readonly messages: number;
  readonly messagesWithPhi: number;
  readonly errors: number;
}

export type StoreOp =
  | { readonly op: 'message'; readonly m: MessageRows }
  | { readonly op: 'error'; readonly r: ErrorRow }
  | { readonly op: 'mailbox'; readonly r: MailboxRow }
  /** A unit's cursor (its key: a keyed digest of the unit id); commits when the batch is full or old. */
  | { readonly op: 'put'; readonly unit: string; readonly cursor: string }
  /** Graph delta's removals, written now and committed with the cursor after them. */
  | { readonly op: 'removed'; readonly where: { readonly source: string; readonly mailbox: string; readonly folder: string }; readonly locators: readonly string[] }
  | { readonly op: 'commit' }
  | { readonly op: 'close'; readonly run: RunEnd };

/** What a person key may be (people/records.ts): a kind and a keyed fingerprint, or a roster line. Anything else is not stored. */
const PERSON_KEY = /^(?:[smirnd]:[0-9a-f]{16}|e:\d{1,10})$/;

/** What the `detail` column holds of a finding: its explanation, as the json report gives it (score to two places). */
function findingDetail(f: Finding): string {
  return JSON.stringify({ part: f.part, score: Math.round(f.score * 100) / 100, why: f.why }); // JSON leaves an undefined part out
}

/** A scan's `categories` column: the distinct categories of its findings, sorted, comma-joined. */
export function categoriesKey(findings: readonly { readonly category: string }[]): string {
  return [...new Set(findings.map((f) => f.category))].sort().join(',');
}

/** A scanned message as the store writes it: masked values, fingerprints and keys, flat (FINDING_VALUES' order). */
export function messageRows(context: MessageContext, outcome: MessageOutcome, details: boolean): MessageRows {
  const findings: Cell[] = [];
  for (const f of outcome.findings) {
    findings.push(f.location, f.rule, f.category, f.confidence, f.masked, f.fingerprint, identityOf(f.rule, f.category), f.rosterRow ?? null, details ? findingDetail(f) : null);
  }
  let people: MessageRows['people'];
  if (outcome.people) {
    const keys: (string | number)[] = [];
    outcome.people.forEach((r, record) => {
      for (const k of r.keys) if (PERSON_KEY.test(k)) keys.push(record, k);
    });
    people = { records: outcome.people.length, keys };
  }
  return {
    source: context.source,
    mailbox: context.mailbox,
    folder: context.folder,
    messageId: outcome.messageId,
    date: outcome.date,
    subject: outcome.maskedSubject,
    locator: context.locator,
    categories: categoriesKey(outcome.findings),
    findings,
    ...(people ? { people } : {}),
  };
}

export function errorRow(r: ErrorRecord): ErrorRow {
  return { source: r.source, mailbox: r.mailbox, folder: r.folder, messageId: r.messageId, location: r.location, code: r.code, error: r.error };
}

export function mailboxRow(r: MailboxRecord): MailboxRow {
  return { source: r.source, mailbox: r.mailbox, messages: r.messages, messagesWithPhi: r.messagesWithPhi, errors: r.errors, byCategory: JSON.stringify(r.byCategory) };
}

/**
 * Writes `cells` (rows of `width` values laid end to end) with `many` (ROWS_PER_INSERT rows a
 * statement) and the rest with `one`; every row gets the same message and run (`@message`, `@run`).
 */
function insertRows(many: Database.Statement, one: Database.Statement, message: number, run: number, cells: readonly Cell[], width: number): void {
  const rows = cells.length / width;
  const full = rows - (rows % ROWS_PER_INSERT);
  const chunk = ROWS_PER_INSERT * width;
  const shared = { message, run };
  for (let i = 0; i < full * width; i += chunk) many.run(cells.slice(i, i + chunk), shared);
  for (let i = full * width; i < cells.length; i += width) one.run(cells.slice(i, i + width), shared);
}

/**
 * `INSERT INTO table (message, run_id, columns) SELECT @message, @run, … FROM (VALUES (?…), …)`
 * for `rows` rows: the message and run are bound once, not in every row (rows keep their order).
 */
function insertSql(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  const values = columns.map((_, i) => `column${i + 1}`).join(', ');
  return `INSERT INTO ${table} (message, run_id, ${columns.join(', ')}) SELECT @message, @run, ${values} FROM (VALUES ${Array.from({ length: rows }, () => row).join(', ')})`;
}

export interface StoreWriter {
  /** Applies one operation; on a throw (`state database: <reason>`), the open transaction has been rolled back and every later call throws the same. */
  apply(op: StoreOp): void;
  /** Whether an operation failed (every later one then throws). */
  readonly failed: boolean;
}

export function storeWriter(db: Database.Database, runId: number): StoreWriter {
  const q = {
    source: db.prepare('INSERT INTO sources (spec) VALUES (?) ON CONFLICT (spec) DO UPDATE SET spec = excluded.spec RETURNING id'),
    mailbox: db.prepare(
      'INSERT INTO mailboxes (source_id, name) VALUES (?, ?) ON CONFLICT (source_id, name) DO UPDATE SET name = excluded.name RETURNING id',
    ),
    message: db.prepare(`
      INSERT INTO messages (mailbox_id, folder, message_id, date, masked_subject, locator, first_run, last_run, findings, categories)
      VALUES (@mailbox, @folder, @messageId, @date, @subject, @locator, @run, @run, @findings, @categories)
      ON CONFLICT (mailbox_id, folder, message_id) DO UPDATE SET
        date = excluded.date, masked_subject = excluded.masked_subject, locator = excluded.locator,
        last_run = excluded.last_run, findings = excluded.findings, categories = excluded.categories
      WHERE messages.last_run IS NOT excluded.last_run
      RETURNING id, first_run`),
    // The same message a second time in this run (the upsert above returns no row then).
    messageAgain: db.prepare(`
      UPDATE messages SET date = @date, masked_subject = @subject, locator = @locator, findings = @findings, categories = @categories
      WHERE mailbox_id = @mailbox AND folder = @folder AND message_id = @messageId
      RETURNING id`),
    findMessage: db.prepare('SELECT id FROM messages WHERE mailbox_id = ? AND folder = ? AND message_id = ?'),
    scan: db.prepare('INSERT OR REPLACE INTO scans (message, run_id, findings, categories) VALUES (?, ?, ?, ?)'),
    clearFindings: db.prepare('DELETE FROM findings WHERE message = ? AND run_id = ?'),
    clearErrors: db.prepare('DELETE FROM errors WHERE message = ? AND run_id = ?'),
    notGone: db.prepare('DELETE FROM gone WHERE message = ?'),
    finding: db.prepare(insertSql('findings', FINDING_VALUES, 1)),
    findings: db.prepare(insertSql('findings', FINDING_VALUES, ROWS_PER_INSERT)),
    clearPeople: db.prepare('DELETE FROM person_keys WHERE message = ? AND run_id = ?'),
    peopleScan: db.prepare('INSERT OR REPLACE INTO people_scans (message, run_id, records) VALUES (?, ?, ?)'),
    clearPeopleScan: db.prepare('DELETE FROM people_scans WHERE message = ? AND run_id = ?'),
    personKey: db.prepare(insertSql('person_keys', PERSON_KEY_VALUES, 1)),
    personKeys: db.prepare(insertSql('person_keys', PERSON_KEY_VALUES, ROWS_PER_INSERT)),
    error: db.prepare(
      'INSERT INTO errors (run_id, mailbox_id, source, folder, message, message_id, location, code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    runMailbox: db.prepare(
      'INSERT OR REPLACE INTO run_mailboxes (run_id, mailbox_id, messages, messages_with_phi, errors, by_category) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    putCheckpoint: db.prepare(
      'INSERT INTO checkpoints (unit_id, cursor, run_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (unit_id) DO UPDATE SET cursor = excluded.cursor, run_id = excluded.run_id, updated_at = excluded.updated_at',
    ),
    finishRun: db.prepare('UPDATE runs SET finished_at = ?, status = ?, messages = ?, messages_with_phi = ?, errors = ? WHERE id = ?'),
  };

  const mailboxIds = new Map<string, number>();
  const mailboxId = (source: string, mailbox: string): number => {
    const key = `${source}\0${mailbox}`;
    let id = mailboxIds.get(key);
    if (id === undefined) {
      const sourceId = (q.source.get(source) as { id: number }).id;
      id = (q.mailbox.get(sourceId, mailbox) as { id: number }).id;
      mailboxIds.set(key, id);
    }
    return id;
  };

  let txStarted = 0;
  let txMessages = 0;
  const begin = (): void => {
    if (db.inTransaction) return;
    db.exec('BEGIN IMMEDIATE');
    txStarted = Date.now();
    txMessages = 0;
  };
  // The latest cursor of each unit since the last commit: a unit moves its cursor after every
  // message, and only the last one before a commit need be written (in the same transaction).
  const pendingCursors = new Map<string, string>();
  const commit = (): void => {
    if (!db.inTransaction) return;
    const now = new Date().toISOString();
    for (const [unit, cursor] of pendingCursors) q.putCheckpoint.run(unit, cursor, runId, now);
    pendingCursors.clear();
    db.exec('COMMIT');
  };

  // The message row just written, so its error records can point at it.
  let lastMessage: { key: string; id: number } | undefined;

  const writeMessage = (m: MessageRows): void => {
    const mailbox = mailboxId(m.source, m.mailbox);
    const findings = m.findings.length / FINDING_VALUES.length;
    const row = { mailbox, folder: m.folder, messageId: m.messageId, date: m.date, subject: m.subject, locator: m.locator, run: runId, findings, categories: m.categories };
    const first = q.message.get(row) as { id: number; first_run: number } | undefined;
    let id: number;
    if (first) {
      // The first time in this run (most messages): nothing of this run to replace.
      id = first.id;
      // Scanned, so it is there: a message marked gone earlier (moved out and back) is not gone now.
      if (first.first_run !== runId) q.notGone.run(id);
    } else {
      // The same message met twice in one run (a duplicate Message-ID in a folder, or a rescan
      // after a crash inside this run's open batch): its latest scan replaces the earlier one.
      const { run: _run, ...again } = row;
      id = (q.messageAgain.get(again) as { id: number }).id;
      q.clearFindings.run(id, runId);
      q.clearErrors.run(id, runId);
      q.clearPeople.run(id, runId);
      q.clearPeopleScan.run(id, runId);
    }
    q.scan.run(id, runId, findings, m.categories);
    insertRows(q.findings, q.finding, id, runId, m.findings, FINDING_VALUES.length);
    if (m.people) {
      q.peopleScan.run(id, runId, m.people.records);
      insertRows(q.personKeys, q.personKey, id, runId, m.people.keys, PERSON_KEY_VALUES.length);
    }
    lastMessage = { key: `${mailbox}\0${m.folder}\0${m.messageId}`, id };
    txMessages++;
  };

  const writeError = (r: ErrorRow): void => {
    const mailbox = r.mailbox !== undefined ? mailboxId(r.source, r.mailbox) : null;
    let message: number | null = null;
    if (r.messageId !== undefined && mailbox !== null) {
      const key = `${mailbox}\0${r.folder ?? ''}\0${r.messageId}`;
      if (lastMessage?.key === key) message = lastMessage.id;
      else message = (q.findMessage.get(mailbox, r.folder ?? '', r.messageId) as { id: number } | undefined)?.id ?? null;
    }
    q.error.run(runId, mailbox, r.source, r.folder ?? null, message, r.messageId ?? null, r.location ?? null, r.code, r.error);
  };

  const apply = (op: StoreOp): void => {
    switch (op.op) {
      case 'message':
        begin();
        return writeMessage(op.m);
      case 'error':
        begin();
        return writeError(op.r);
      case 'mailbox':
        begin();
        q.runMailbox.run(runId, mailboxId(op.r.source, op.r.mailbox), op.r.messages, op.r.messagesWithPhi, op.r.errors, op.r.byCategory);
        return;
      case 'put':
        begin();
        pendingCursors.set(op.unit, op.cursor);
        // Commit only here, right after a cursor: a commit never holds messages without the
        // cursor that skips them on resume (see the header comment).
        if (txMessages >= BATCH_MESSAGES || Date.now() - txStarted >= BATCH_MS) commit();
        return;
      case 'removed':
        begin();
        markRemoved(db, runId, op.where, op.locators);
        return;
      case 'commit':
        return commit();
      case 'close':
        begin();
        q.finishRun.run(op.run.finishedAt, op.run.status, op.run.messages, op.run.messagesWithPhi, op.run.errors, runId);
        return commit();
    }
  };

  // After a failure nothing more is written (the scan stops at it): the rolled-back transaction
  // also took rows this writer remembers (mailbox ids).
  let failure: unknown;
  return {
    apply(op: StoreOp): void {
      if (failure !== undefined) throw failure;
      try {
        apply(op);
      } catch (err) {
        // SQLite's words (a full disk, an I/O error, a constraint): about the database, never a value.
        failure = new Error(`state database: ${safeReason(err)}`, { cause: err });
        pendingCursors.clear();
        if (db.inTransaction) db.exec('ROLLBACK');
        throw failure;
      }
    },
    get failed() {
      return failure !== undefined;
    },
  };
}
