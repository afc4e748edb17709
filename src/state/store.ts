/**
 * The state store: one embedded SQLite database (better-sqlite3, WAL) holding runs, sources,
 * mailboxes, messages, findings (masked + fingerprint, never raw), errors and checkpoints.
 *
 * It is both a Sink (the pipeline writes scan events into it) and the CheckpointStore.
 * Crash safety: events and checkpoint advances arrive in one ordered stream (pipeline/run.ts
 * puts a unit's cursor only after the messages before it reached the sinks), and they are
 * written into one open transaction that is committed only right after a checkpoint `put`
 * (at most every BATCH_MESSAGES messages or BATCH_MS) or on `flush`. A commit therefore always
 * holds a message's findings together with the cursors that skip it: after kill -9, a
 * `--since-last` run resumes exactly after the last committed cursor. A message written but
 * not yet covered by a committed cursor is rolled back with it, or, when `flush` committed it
 * early, scanned again and upserted (the same row): never counted twice.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Confidence, Finding } from '../model/finding.js';
import type { Checkpoint, Presence } from '../model/message.js';
import { CHECKPOINT_FILE, type CheckpointStore } from './checkpoints.js';
import type { ErrorRecord, MailboxRecord, MessageContext, MessageOutcome, ScanEvent, ScanSummary, Sink } from '../model/records.js';
import { ScanError } from '../common/errors.js';
import { markRemoved } from './gone.js';
import { MIGRATIONS } from './migrations.js';
import { ensurePrivateFile } from '../common/private-file.js';
import { isNameDigest, nameDigest } from '../findings/fingerprint.js';
import { identityOf } from '../people/facts.js';

/** What a person key may be (people/records.ts): a kind and a keyed fingerprint, or a roster line. Anything else is not stored. */
const PERSON_KEY = /^(?:[smirnd]:[0-9a-f]{16}|e:\d{1,10})$/;

export type StateDb = Database.Database;

export const STATE_DB_FILE = 'state.db';

/** Messages written per transaction at most (a commit waits for the next checkpoint). */
const BATCH_MESSAGES = 200;
/** Longest a transaction stays open before the next checkpoint commits it. */
const BATCH_MS = 1000;
/**
 * Rows written by one multi-row INSERT of findings or person keys: a roster holds thousands, and
 * one call into SQLite per ROWS_PER_INSERT rows costs less than one per row (SQLite allows
 * 32,766 parameters; 10 per findings row).
 */
const ROWS_PER_INSERT = 64;

/**
 * Writes `rows` (each `width` values, laid end to end in `values`) with `many` (ROWS_PER_INSERT
 * rows per statement) and the rest with `one`.
 */
function insertRows(many: Database.Statement, one: Database.Statement, values: readonly (string | number | null)[], width: number): void {
  const rows = values.length / width;
  const full = rows - (rows % ROWS_PER_INSERT);
  const chunk = ROWS_PER_INSERT * width;
  for (let i = 0; i < full * width; i += chunk) many.run(values.slice(i, i + chunk));
  for (let i = full * width; i < values.length; i += width) one.run(values.slice(i, i + width));
}

/** `INSERT INTO table (columns) VALUES (?…), … ` for `rows` rows. */
function insertSql(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
}

const FINDING_COLUMNS = ['message', 'run_id', 'location', 'rule', 'category', 'confidence', 'masked', 'fingerprint', 'identity', 'roster_row'] as const;
const PERSON_KEY_COLUMNS = ['message', 'run_id', 'record', 'key'] as const;

/**
 * `--state` / `PHI_SCAN_STATE` naming a `.db`/`.sqlite` file is the database itself; a folder
 * holds `state.db`. Default: `$XDG_STATE_HOME/phi-scan/state.db` (see findings/key.ts).
 */
export function stateDbPath(explicit: string | undefined, env: NodeJS.ProcessEnv, stateDir: string): string {
  const given = explicit ?? env.PHI_SCAN_STATE;
  if (given && /\.(?:db|sqlite3?)$/i.test(given)) return given;
  return path.join(stateDir, STATE_DB_FILE);
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'I/O error';
}

/** Opens (creating when asked) the database and brings its schema up to date. */
/** A scan's `categories` column: the distinct categories of its findings, sorted, comma-joined. */
export function categoriesKey(findings: readonly { readonly category: string }[]): string {
  return [...new Set(findings.map((f) => f.category))].sort().join(',');
}

export function openStateDb(file: string, options: { create: boolean; readonly?: boolean } = { create: true }): StateDb {
  let db: StateDb;
  if (!options.create && !existsSync(file)) {
    throw new ScanError('config', `${file}: no state database yet (phi-scan scan creates it; --state / PHI_SCAN_STATE name where)`);
  }
  try {
    // ':memory:' (a library sink rendering a format) is no file: nothing to create or tighten.
    if (options.create && file !== ':memory:') {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      privateDbFiles(file);
    }
    db = new Database(file, { fileMustExist: !options.create, readonly: options.readonly === true });
  } catch (err) {
    if (err instanceof ScanError) throw err;
    throw new ScanError('config', `${file}: cannot open the state database (${codeOf(err)})`);
  }
  try {
    // WAL: readers (a report) never block the scan, and a commit is one append (sqlite.org/wal.html).
    if (options.readonly !== true) db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode is durable against a process crash (kill -9); only an OS crash or power
    // loss may lose the last commits, which the checkpoints then simply scan again.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    // The default 2 MB page cache makes a report over a million findings re-read pages from the
    // OS for every row; 64 MB and memory-mapped reads keep it at a few µs a row.
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    if (options.readonly !== true) migrate(db);
    else checkVersion(db, file);
  } catch (err) {
    db.close();
    if (err instanceof ScanError) throw err;
    throw new ScanError('config', `${file}: not a usable phi-scan state database (${codeOf(err)})`);
  }
  return db;
}

/**
 * The database holds masked subjects, folder names and locations: it is created 0600 before
 * SQLite opens it (SQLite gives its -wal and -shm files the database file's mode), an older
 * 0644 database and its -wal/-shm are tightened, and a symbolic link is refused.
 */
function privateDbFiles(file: string): void {
  ensurePrivateFile(file);
  for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) ensurePrivateFile(extra);
}

function schemaVersion(db: StateDb): number {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function checkVersion(db: StateDb, file: string): void {
  const v = schemaVersion(db);
  if (v !== MIGRATIONS.length) throw new ScanError('config', `${file}: state database schema ${v}, this phi-scan needs ${MIGRATIONS.length}`);
}

function migrate(db: StateDb): void {
  // Up to date: no write lock, so a report opens while a scan holds its transaction.
  if (schemaVersion(db) === MIGRATIONS.length) return;
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    let version = schemaVersion(db);
    if (version > MIGRATIONS.length) {
      throw new ScanError('config', `state database schema ${version} is newer than this phi-scan (${MIGRATIONS.length}); upgrade phi-scan`);
    }
    if ((db.prepare('SELECT count(*) AS n FROM schema_version').get() as { n: number }).n === 0) db.exec('INSERT INTO schema_version VALUES (0)');
    for (; version < MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version] as string);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    }
  }).immediate();
}

export interface RunInfo {
  /** As written to `runs.sources`: masked by the caller (findings/names.ts maskSource). */
  readonly sources: readonly string[];
  readonly sinceLast: boolean;
  readonly minConfidence: Confidence;
  /**
   * The fingerprint key: checkpoints are stored under a keyed digest of the unit id (a path or
   * an IMAP folder may hold an identifier), never the id itself. Without it ids are kept as
   * given (library use without a key; tests of the store alone).
   */
  readonly key?: Buffer;
}

/** The store as the pipeline sees it: checkpoints, and a sink for the run it was opened for. */
export interface StateStore extends CheckpointStore, Sink {
  readonly db: StateDb;
  readonly runId: number;
  /**
   * What the sources said is still in the units they resumed (IMAP `present`), for
   * remediate/vanished.ts after the scan; Graph's `@removed` are marked gone as they come.
   */
  presences(): readonly { readonly where: { readonly source: string; readonly mailbox: string; readonly folder: string }; readonly present: Presence }[];
  /** Commits what is pending and closes the database. */
  dispose(): void;
}

export function openStateStore(file: string, run: RunInfo): StateStore {
  const db = openStateDb(file, { create: true });
  // A scan writes and seldom reads back: memory-mapped reads would keep up to 256 MB of a large
  // database's pages resident (counted in the scan's RSS); the 64 MB page cache serves its
  // lookups (speed helper, issue 18: peak RSS on a 2 GB archive).
  db.pragma('mmap_size = 0');
  // The scan appends (findings, person keys, messages in order) and looks up little: 16 MB of
  // page cache hold what it touches. With 64 MB, a PHI-dense 40 MB archive peaked at 406 MB RSS
  // instead of 330 MB, for no speed (README, Benchmarks).
  db.pragma('cache_size = -16384');
  const key = run.key;
  const unitKey = (unitId: string): string => (key ? nameDigest(key, unitId) : unitId);
  if (key) digestCheckpoints(db, key);
  const runId = Number(
    db
      .prepare('INSERT INTO runs (started_at, sources, since_last, min_confidence) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), JSON.stringify(run.sources), run.sinceLast ? 1 : 0, run.minConfidence).lastInsertRowid,
  );

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
      RETURNING id`),
    findMessage: db.prepare('SELECT id FROM messages WHERE mailbox_id = ? AND folder = ? AND message_id = ?'),
    scan: db.prepare('INSERT OR REPLACE INTO scans (message, run_id, findings, categories) VALUES (?, ?, ?, ?)'),
    clearFindings: db.prepare('DELETE FROM findings WHERE message = ? AND run_id = ?'),
    clearErrors: db.prepare('DELETE FROM errors WHERE message = ? AND run_id = ?'),
    notGone: db.prepare('DELETE FROM gone WHERE message = ?'),
    finding: db.prepare(insertSql('findings', FINDING_COLUMNS, 1)),
    findings: db.prepare(insertSql('findings', FINDING_COLUMNS, ROWS_PER_INSERT)),
    clearPeople: db.prepare('DELETE FROM person_keys WHERE message = ? AND run_id = ?'),
    peopleScan: db.prepare('INSERT OR REPLACE INTO people_scans (message, run_id, records) VALUES (?, ?, ?)'),
    clearPeopleScan: db.prepare('DELETE FROM people_scans WHERE message = ? AND run_id = ?'),
    personKey: db.prepare(insertSql('person_keys', PERSON_KEY_COLUMNS, 1)),
    personKeys: db.prepare(insertSql('person_keys', PERSON_KEY_COLUMNS, ROWS_PER_INSERT)),
    error: db.prepare(
      'INSERT INTO errors (run_id, mailbox_id, source, folder, message, message_id, location, code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    runMailbox: db.prepare(
      'INSERT OR REPLACE INTO run_mailboxes (run_id, mailbox_id, messages, messages_with_phi, errors, by_category) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    getCheckpoint: db.prepare('SELECT cursor FROM checkpoints WHERE unit_id = ?'),
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
  const commit = (): void => {
    if (db.inTransaction) db.exec('COMMIT');
  };

  // The message row just written, so its error records can point at it.
  let lastMessage: { key: string; id: number } | undefined;

  const writeMessage = (context: MessageContext, outcome: MessageOutcome): void => {
    const mailbox = mailboxId(context.source, context.mailbox);
    const categories = categoriesKey(outcome.findings);
    const id = (
      q.message.get({
        mailbox,
        folder: context.folder,
        messageId: outcome.messageId,
        date: outcome.date,
        subject: outcome.maskedSubject,
        locator: context.locator,
        run: runId,
        findings: outcome.findings.length,
        categories,
      }) as { id: number }
    ).id;
    // The same message met twice in one run (a duplicate Message-ID in a folder, or a rescan
    // after a crash inside this run's open batch): its latest scan replaces the earlier one.
    q.clearFindings.run(id, runId);
    q.clearErrors.run(id, runId);
    // Scanned, so it is there: a message marked gone earlier (moved out and back) is not gone now.
    q.notGone.run(id);
    q.scan.run(id, runId, outcome.findings.length, categories);
    const rows: (string | number | null)[] = [];
    for (const f of outcome.findings) {
      rows.push(id, runId, f.location, f.rule, f.category, f.confidence, f.masked, f.fingerprint, identityOf(f.rule, f.category), f.rosterRow ?? null);
    }
    insertRows(q.findings, q.finding, rows, FINDING_COLUMNS.length);
    q.clearPeople.run(id, runId);
    if (outcome.people) {
      q.peopleScan.run(id, runId, outcome.people.length);
      const keys: (string | number)[] = [];
      outcome.people.forEach((r, record) => {
        for (const k of r.keys) if (PERSON_KEY.test(k)) keys.push(id, runId, record, k);
      });
      insertRows(q.personKeys, q.personKey, keys, PERSON_KEY_COLUMNS.length);
    } else q.clearPeopleScan.run(id, runId);
    lastMessage = { key: `${mailbox}\0${context.folder}\0${outcome.messageId}`, id };
    txMessages++;
  };

  const writeError = (r: ErrorRecord): void => {
    const mailbox = r.mailbox !== undefined ? mailboxId(r.source, r.mailbox) : null;
    let message: number | null = null;
    if (r.messageId !== undefined && mailbox !== null) {
      const key = `${mailbox}\0${r.folder ?? ''}\0${r.messageId}`;
      if (lastMessage?.key === key) message = lastMessage.id;
      else message = (q.findMessage.get(mailbox, r.folder ?? '', r.messageId) as { id: number } | undefined)?.id ?? null;
    }
    q.error.run(runId, mailbox, r.source, r.folder ?? null, message, r.messageId ?? null, r.location ?? null, r.code, r.error);
  };

  const writeMailbox = (r: MailboxRecord): void => {
    q.runMailbox.run(runId, mailboxId(r.source, r.mailbox), r.messages, r.messagesWithPhi, r.errors, JSON.stringify(r.byCategory));
  };

  const presences: { where: { source: string; mailbox: string; folder: string }; present: Presence }[] = [];

  return {
    db,
    runId,
    present(where, present): void {
      if ('removed' in present) {
        // Graph delta reports a removal once: it is written now, committed with the cursor after it.
        begin();
        markRemoved(db, runId, where, present.removed);
        return;
      }
      presences.push({ where: { source: where.source, mailbox: where.mailbox, folder: where.folder }, present });
    },
    presences: () => presences,
    get(unitId: string): Checkpoint | undefined {
      const row = q.getCheckpoint.get(unitKey(unitId)) as { cursor: string } | undefined;
      return row ? { unitId, cursor: row.cursor } : undefined;
    },
    put(c: Checkpoint): void {
      begin();
      q.putCheckpoint.run(unitKey(c.unitId), c.cursor, runId, new Date().toISOString());
      // Commit only here, right after a cursor: a commit never holds messages without the
      // cursor that skips them on resume (see the header comment).
      if (txMessages >= BATCH_MESSAGES || Date.now() - txStarted >= BATCH_MS) commit();
    },
    async flush(): Promise<void> {
      commit();
    },
    write(event: ScanEvent): void {
      begin();
      if (event.type === 'message') writeMessage(event.context, event.outcome);
      else if (event.type === 'error') writeError(event.record);
      else writeMailbox(event.record);
    },
    async close(summary: ScanSummary): Promise<void> {
      begin();
      // An interrupted run keeps why: SIGINT/SIGTERM (`interrupted`) or its reader went away (`output-closed`).
      const status = summary.stoppedBy === 'output-closed' ? 'output-closed' : summary.status;
      q.finishRun.run(summary.finishedAt, status, summary.messages, summary.messagesWithPhi, summary.errors, runId);
      commit();
    },
    dispose(): void {
      commit();
      db.close();
    },
  };
}

/**
 * Checkpoints an earlier version stored under the raw unit id (a path, an IMAP folder) are
 * moved, once, under the keyed digest: resuming keeps working, the name leaves the database.
 */
function digestCheckpoints(db: StateDb, key: Buffer): void {
  const raw = (db.prepare("SELECT unit_id FROM checkpoints WHERE unit_id NOT LIKE 'h:%'").all() as { unit_id: string }[]).filter(
    (r) => !isNameDigest(r.unit_id),
  );
  if (raw.length === 0) return;
  const move = db.prepare('INSERT OR REPLACE INTO checkpoints (unit_id, cursor, run_id, updated_at) SELECT ?, cursor, run_id, updated_at FROM checkpoints WHERE unit_id = ?');
  const drop = db.prepare('DELETE FROM checkpoints WHERE unit_id = ?');
  // Deleted rows are overwritten with zeros, not left in free pages.
  db.pragma('secure_delete = ON');
  db.transaction(() => {
    for (const { unit_id: id } of raw) {
      move.run(nameDigest(key, id), id);
      drop.run(id);
    }
  }).immediate();
  // The raw ids must not linger in free pages or the WAL.
  db.pragma('wal_checkpoint(TRUNCATE)');
}

const LegacyCheckpointFile = z.object({
  version: z.literal(1),
  units: z.record(z.string(), z.object({ cursor: z.string(), updatedAt: z.string() })),
});

/**
 * Earlier versions kept checkpoints in `checkpoints.json` (state/checkpoints.ts). On the first
 * run with the database they are carried over, once, so `--since-last` does not start over.
 */
export function importLegacyCheckpoints(dbFile: string, stateDir: string): number {
  const file = path.join(stateDir, CHECKPOINT_FILE);
  if (!existsSync(file)) return 0;
  const db = openStateDb(dbFile, { create: true });
  try {
    return importInto(db, file);
  } finally {
    db.close();
  }
}

function importInto(db: StateDb, file: string): number {
  const { n } = db.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number };
  if (n > 0) return 0;
  let parsed: z.infer<typeof LegacyCheckpointFile>;
  try {
    parsed = LegacyCheckpointFile.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    throw new ScanError('config', `${file}: not a phi-scan checkpoint file; move it away to start over`);
  }
  const insert = db.prepare('INSERT OR IGNORE INTO checkpoints (unit_id, cursor, run_id, updated_at) VALUES (?, ?, NULL, ?)');
  db.transaction(() => {
    for (const [unitId, u] of Object.entries(parsed.units)) insert.run(unitId, u.cursor, u.updatedAt);
  })();
  return Object.keys(parsed.units).length;
}
