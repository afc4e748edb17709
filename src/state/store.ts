/**
 * The state store: one embedded SQLite database (better-sqlite3, WAL) holding runs, sources,
 * mailboxes, messages, findings (masked + fingerprint, never raw), errors and checkpoints.
 *
 * It is both a Sink (the pipeline writes scan events into it) and the CheckpointStore.
 * Crash safety: events and checkpoint advances arrive in one ordered stream (pipeline/run.ts
 * puts a unit's cursor only after the messages before it reached the sinks), and they are
 * written into one open transaction that is committed only right after a checkpoint `put`
 * (at most every BATCH_MESSAGES messages or BATCH_MS, writer.ts) or on `flush`. A commit therefore
 * always holds a message's findings together with the cursors that skip them on resume: after
 * kill -9, a `--since-last` run resumes exactly after the last committed cursor. A message written
 * but not yet covered by a committed cursor is rolled back with it, or, when `flush` committed it
 * early, scanned again and upserted (the same row): never counted twice.
 *
 * The writes are a stream of plain operations (writer.ts) applied on the scan's thread, or with
 * `openStateStoreInThread` in the store's own thread (writer-thread.ts), in the same order.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Confidence } from '../model/finding.js';
import type { Checkpoint, Presence } from '../model/message.js';
import { CHECKPOINT_FILE, type CheckpointStore } from './checkpoints.js';
import type { ScanEvent, ScanSummary, Sink } from '../model/records.js';
import { safeReason } from '../common/safe-reason.js';
import { errorRow, mailboxRow, messageRows, storeWriter, type StoreOp } from './writer.js';
import { ScanError } from '../common/errors.js';
import { MIGRATIONS } from './migrations.js';
import { ensurePrivateFile } from '../common/private-file.js';
import { isNameDigest, nameDigest } from '../findings/fingerprint.js';
import { compiledWorker } from '../common/compiled-worker.js';

export type StateDb = Database.Database;

export const STATE_DB_FILE = 'state.db';

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
   * Keep each finding's explanation (score, part, why) in the `detail` column: the run's own json
   * report gives them (report/picture.ts messageFindings). Off, the column stays NULL.
   */
  readonly details?: boolean;
  /**
   * The fingerprint key: checkpoints are stored under a keyed digest of the unit id (a path or
   * an IMAP folder may hold an identifier), never the id itself. Without it ids are kept as
   * given (library use without a key; tests of the store alone).
   */
  readonly key?: Buffer;
}

/** The store as the pipeline sees it: checkpoints, and a sink for the run it was opened for. */
export interface StateStore extends CheckpointStore, Sink {
  /** This thread's connection: reads during the scan, and the reports and marks after it. */
  readonly db: StateDb;
  readonly runId: number;
  /**
   * What the sources said is still in the units they resumed (IMAP `present`), for
   * remediate/vanished.ts after the scan; Graph's `@removed` are marked gone as they come.
   */
  presences(): readonly { readonly where: { readonly source: string; readonly mailbox: string; readonly folder: string }; readonly present: Presence }[];
  /** Commits what is pending and closes the database (and the store's thread: then a promise). */
  dispose(): void | Promise<void>;
}

/** A scan's connection: it appends and looks up little. */
export function scanPragmas(db: StateDb): void {
  // A scan writes and seldom reads back: memory-mapped reads would keep up to 256 MB of a large
  // database's pages resident (counted in the scan's RSS); the page cache serves its lookups
  // (issue 18: peak RSS on a 2 GB archive).
  db.pragma('mmap_size = 0');
  // The scan appends (findings, person keys, messages in order) and looks up little: 16 MB of
  // page cache hold what it touches. With 64 MB, a PHI-dense 40 MB archive peaked at 406 MB RSS
  // instead of 330 MB, for no speed (README, Benchmarks).
  db.pragma('cache_size = -16384');
}

/** Where the write operations go: a writer on this thread, or the store's thread. */
interface Writes {
  /** Queues or applies one operation; for a message, a promise when the store's thread is too far behind. Throws once writing failed. */
  send(op: StoreOp): void | Promise<void>;
  /** Everything sent so far is applied (and, after a `commit` or `close`, committed). */
  settled(): Promise<void>;
  /** Commits what is pending and lets go of the writer's connection. */
  end(): void | Promise<void>;
}

/** Opens the database for a new run: the run's row, checkpoints under digests. */
function openRun(file: string, run: RunInfo): { db: StateDb; runId: number } {
  const db = openStateDb(file, { create: true });
  scanPragmas(db);
  if (run.key) digestCheckpoints(db, run.key);
  const runId = Number(
    db
      .prepare('INSERT INTO runs (started_at, sources, since_last, min_confidence) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), JSON.stringify(run.sources), run.sinceLast ? 1 : 0, run.minConfidence).lastInsertRowid,
  );
  return { db, runId };
}

/** The store writing on this thread. */
export function openStateStore(file: string, run: RunInfo): StateStore {
  const { db, runId } = openRun(file, run);
  const writer = storeWriter(db, runId);
  return storeFront(db, runId, run, {
    send: (op) => writer.apply(op),
    settled: async () => undefined,
    // After a failure (already thrown to the scan) there is nothing to commit.
    end: () => (writer.failed ? undefined : writer.apply({ op: 'commit' })),
  });
}

function storeFront(db: StateDb, runId: number, run: RunInfo, writes: Writes): StateStore {
  const key = run.key;
  const details = run.details === true;
  // A unit's key is its id's keyed digest: computed once per unit, not at every checkpoint.
  const unitKeys = new Map<string, string>();
  const unitKey = (unitId: string): string => {
    let k = unitKeys.get(unitId);
    if (k === undefined) {
      k = key ? nameDigest(key, unitId) : unitId;
      unitKeys.set(unitId, k);
    }
    return k;
  };
  const getCheckpoint = db.prepare('SELECT cursor FROM checkpoints WHERE unit_id = ?');
  // Every cursor put in this run, by unit key: newer than the database's until it is committed.
  const cursors = new Map<string, string>();
  const presences: { where: { source: string; mailbox: string; folder: string }; present: Presence }[] = [];
  let disposed = false;

  return {
    db,
    runId,
    present(where, present): void {
      const at = { source: where.source, mailbox: where.mailbox, folder: where.folder };
      // Graph delta reports a removal once: it is written now, committed with the cursor after it.
      if ('removed' in present) void writes.send({ op: 'removed', where: at, locators: present.removed });
      else presences.push({ where: at, present });
    },
    presences: () => presences,
    get(unitId: string): Checkpoint | undefined {
      const k = unitKey(unitId);
      const put = cursors.get(k);
      if (put !== undefined) return { unitId, cursor: put };
      const row = getCheckpoint.get(k) as { cursor: string } | undefined;
      return row ? { unitId, cursor: row.cursor } : undefined;
    },
    put(c: Checkpoint): void {
      const k = unitKey(c.unitId);
      cursors.set(k, c.cursor);
      void writes.send({ op: 'put', unit: k, cursor: c.cursor });
    },
    async flush(): Promise<void> {
      await writes.send({ op: 'commit' });
      await writes.settled();
    },
    write(event: ScanEvent): void | Promise<void> {
      if (event.type === 'message') return writes.send({ op: 'message', m: messageRows(event.context, event.outcome, details) });
      if (event.type === 'error') return writes.send({ op: 'error', r: errorRow(event.record) });
      return writes.send({ op: 'mailbox', r: mailboxRow(event.record) });
    },
    async close(summary: ScanSummary): Promise<void> {
      // An interrupted run keeps why: SIGINT/SIGTERM (`interrupted`) or its reader went away (`output-closed`).
      const status = summary.stoppedBy === 'output-closed' ? 'output-closed' : summary.status;
      await writes.send({
        op: 'close',
        run: { finishedAt: summary.finishedAt, status, messages: summary.messages, messagesWithPhi: summary.messagesWithPhi, errors: summary.errors },
      });
      await writes.settled();
    },
    dispose(): void | Promise<void> {
      if (disposed) return;
      disposed = true;
      const ended = writes.end();
      if (!ended) {
        db.close();
        return;
      }
      return ended.finally(() => db.close());
    },
  };
}

/** What the store's thread is started with. */
export interface WriterThreadInit {
  readonly file: string;
  readonly runId: number;
}
/** Operations in the order they were made, numbered; `end`: commit, close, exit. */
export type ToWriterThread = { readonly seq: number; readonly ops: readonly StoreOp[] } | { readonly end: true };
/** `failed`: the reason, safe to print (`state database: …`, writer.ts). */
export type FromWriterThread = { readonly type: 'ready' } | { readonly type: 'ack'; readonly seq: number } | { readonly type: 'failed'; readonly reason: string };

/**
 * Operations sent to the store's thread in one `postMessage` at most, and cells (values of
 * findings and person keys) at most: a message and its cursor are two operations.
 */
const SEND_OPS = 64;
const SEND_CELLS = 16_384;
/** Operations wait on this thread at most this long for more to join them (a slow source). */
const SEND_MS = 20;
/**
 * Cells sent and not yet written at most: past it `write` waits, so a thread behind (a slow
 * disk) holds the scan back instead of its memory growing (~50 bytes a cell).
 */
const MAX_UNWRITTEN_CELLS = 131_072;

/** The store thread's young generation (MB). */
const WRITER_YOUNG_MB = 8;

function cellsOf(op: StoreOp): number {
  return op.op === 'message' ? 16 + op.m.findings.length + (op.m.people?.keys.length ?? 0) : 4;
}

/** The compiled thread beside this file (dist/state/writer-thread.js); none under tsx. */
function writerThreadUrl(): URL | undefined {
  return compiledWorker(import.meta.url, './writer-thread.js');
}

/**
 * The store writing from its own thread: SQLite's inserts and commits (a fifth of the main
 * thread on PHI-dense mail) leave the thread that runs the rules. Reads (checkpoints, and the
 * reports after the scan) use this thread's connection. Falls back to `openStateStore` when
 * there is no compiled thread (tsx) or the database is `:memory:` (one connection only).
 */
export async function openStateStoreInThread(file: string, run: RunInfo): Promise<StateStore> {
  const url = writerThreadUrl();
  if (!url || file === ':memory:') return openStateStore(file, run);
  const { db, runId } = openRun(file, run);
  let worker: Worker;
  try {
    worker = await startWriterThread(url, { file, runId });
  } catch (err) {
    db.close();
    throw err;
  }
  return storeFront(db, runId, run, threadWrites(worker));
}

function startWriterThread(url: URL, init: WriterThreadInit): Promise<Worker> {
  // A small young generation, as the parsing thread's (pipeline/scanner.ts): its garbage is the
  // rows it was sent, short-lived.
  const worker = new Worker(url, { workerData: init, stdout: true, resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB } });
  worker.stdout.resume();
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWriterThread): void => (m.type === 'ready' ? settle() : settle(m.type === 'failed' ? m.reason : 'no answer'));
    const onError = (err: Error): void => settle(safeReason(err));
    const onExit = (code: number): void => settle(`exit code ${code}`);
    // Started (or not): from here on threadWrites listens.
    const settle = (why?: string): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (why === undefined) return resolve(worker);
      void worker.terminate();
      reject(new ScanError('config', `${init.file}: the state database's writer could not start (${why})`));
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

function threadWrites(worker: Worker): Writes {
  let outbox: StoreOp[] = [];
  let outboxCells = 0;
  let timer: NodeJS.Timeout | undefined;
  let seq = 0;
  let written = 0;
  /** Cells of each batch sent and not yet acknowledged, oldest first. */
  const unwritten: { seq: number; cells: number }[] = [];
  let unwrittenCells = 0;
  let failure: Error | undefined;
  let thrown = false;
  let ending = false;
  const waiters: { until: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];

  const wake = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i] as (typeof waiters)[number];
      if (failure) w.reject(failure);
      else if (w.until()) w.resolve();
      else continue;
      waiters.splice(i, 1);
    }
  };
  const wait = (until: () => boolean): Promise<void> =>
    failure ? Promise.reject(failure) : until() ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ until, resolve, reject }));
  const fail = (reason: string): void => {
    failure ??= new Error(reason);
    wake();
  };
  const throwFailure = (): never => {
    thrown = true;
    throw failure;
  };

  worker.on('message', (m: FromWriterThread) => {
    if (m.type === 'ack') {
      written = m.seq;
      while (unwritten.length > 0 && (unwritten[0] as { seq: number }).seq <= m.seq) unwrittenCells -= (unwritten.shift() as { cells: number }).cells;
      wake();
    } else if (m.type === 'failed') fail(m.reason);
  });
  let failedWith: string | undefined;
  worker.on('error', (err) => (failedWith ??= safeReason(err)));
  const exited = new Promise<void>((resolve) =>
    worker.on('exit', (code) => {
      if (!ending) fail(`state database: its thread stopped (${failedWith ?? `exit code ${code}`})`);
      resolve();
    }),
  );

  const post = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (outbox.length === 0) return;
    seq++;
    worker.postMessage({ seq, ops: outbox } satisfies ToWriterThread);
    unwritten.push({ seq, cells: outboxCells });
    unwrittenCells += outboxCells;
    outbox = [];
    outboxCells = 0;
  };

  return {
    send(op: StoreOp): void | Promise<void> {
      if (failure) throwFailure();
      outbox.push(op);
      outboxCells += cellsOf(op);
      if (outbox.length >= SEND_OPS || outboxCells >= SEND_CELLS) post();
      else timer ??= setTimeout(post, SEND_MS);
      if (op.op === 'message' && unwrittenCells > MAX_UNWRITTEN_CELLS) return wait(() => unwrittenCells <= MAX_UNWRITTEN_CELLS);
    },
    async settled(): Promise<void> {
      post();
      const last = seq;
      await wait(() => written >= last).catch(() => throwFailure());
    },
    async end(): Promise<void> {
      post();
      ending = true;
      worker.postMessage({ end: true } satisfies ToWriterThread);
      await exited;
      if (failure && !thrown) throwFailure();
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
