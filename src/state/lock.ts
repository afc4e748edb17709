/**
 * One scan at a time per state database. Two scans writing one store would interleave their
 * runs and checkpoints, and the second died on `SQLITE_BUSY` with a stack trace.
 *
 * The lock is an exclusive SQLite lock on a small side file (`STATE.db.lock`), held in an open
 * transaction for the whole scan: the operating system releases it when the process ends, however
 * it ends (kill -9 included), so a lock is never left stale. The holder's description (pid, host,
 * start time, run id; no paths, no content) sits next to it in `STATE.db.lock.json`, so the
 * second scan can say who holds it. Reports (read-only, WAL) do not take the lock.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ScanError } from '../common/errors.js';

const Holder = z.object({ pid: z.number().int(), host: z.string(), startedAt: z.string(), runId: z.number().int().optional() });
type Holder = z.infer<typeof Holder>;

export interface ScanLock {
  /** Names the run in the holder's description, once the store has created it. */
  setRun(runId: number): void;
  release(): void;
}

const POLL_MS = 200;

function describe(h: Holder | undefined): string {
  if (!h) return 'another scan (it has not described itself yet)';
  return `another scan (${h.runId !== undefined ? `run #${h.runId}, ` : ''}pid ${h.pid} on ${h.host}, started ${h.startedAt})`;
}

function readHolder(file: string): Holder | undefined {
  try {
    const parsed = Holder.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function tryLock(lockFile: string): Database.Database | undefined {
  let db: Database.Database;
  try {
    mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
    db = new Database(lockFile, { timeout: 0 });
  } catch (err) {
    throw new ScanError('config', `${lockFile}: cannot open the scan lock (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  try {
    // The database stays empty: the lock is the point, not the content.
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw new ScanError('config', `${lockFile}: cannot take the scan lock (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}

/**
 * Takes the state database's scan lock. Held by another scan: a one-line ScanError naming it
 * (exit 2), or, with `waitMs`, waits up to that long for it (`onWait` is told once).
 */
export async function acquireScanLock(dbFile: string, options: { waitMs?: number; onWait?: (holder: string) => void } = {}): Promise<ScanLock> {
  const lockFile = `${dbFile}.lock`;
  const infoFile = `${lockFile}.json`;
  const deadline = Date.now() + (options.waitMs ?? 0);
  let told = false;
  let db = tryLock(lockFile);
  while (!db) {
    const holder = describe(readHolder(infoFile));
    if (Date.now() >= deadline) {
      throw new ScanError(
        'usage',
        `${dbFile} is in use by ${holder}; wait for it to end, give --wait-lock SECONDS to wait, or use another --state`,
      );
    }
    if (!told) options.onWait?.(holder);
    told = true;
    await new Promise((r) => setTimeout(r, POLL_MS));
    db = tryLock(lockFile);
  }
  const held = db;
  const holder: Holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  const describeSelf = (): void => {
    const tmp = `${infoFile}.${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
    renameSync(tmp, infoFile);
  };
  describeSelf();
  return {
    setRun(runId: number): void {
      holder.runId = runId;
      describeSelf();
    },
    release(): void {
      // The description goes first: a scan that takes the lock next writes its own.
      rmSync(infoFile, { force: true });
      held.close();
    },
  };
}
