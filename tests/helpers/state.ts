/** Reads the state database of a state folder from a test (while a scan may be writing it: WAL). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { nameDigest } from '../../src/findings/fingerprint.js';
import { TEST_KEY } from './cli.js';

/** Every checkpoint cursor in the state folder's database, joined by newlines ('' when none yet). */
export function checkpointCursors(stateDir: string): string {
  const file = path.join(stateDir, 'state.db');
  if (!existsSync(file)) return '';
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT cursor FROM checkpoints').all() as { cursor: string }[]).map((r) => r.cursor).join('\n');
    } finally {
      db.close();
    }
  } catch {
    return ''; // not created yet (schema being written)
  }
}

/**
 * The checkpoint cursor of one unit in the state folder's database, or undefined. Checkpoints are
 * stored under the keyed digest of the unit id (the CLI's key: TEST_KEY unless another is given).
 */
export function checkpointCursor(stateDir: string, unitId: string, key = TEST_KEY): string | undefined {
  const file = path.join(stateDir, 'state.db');
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT cursor FROM checkpoints WHERE unit_id = ?').get(nameDigest(Buffer.from(key, 'utf8'), unitId)) as { cursor: string } | undefined)?.cursor;
  } finally {
    db.close();
  }
}
