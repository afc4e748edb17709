/**
 * Where each unit (a folder of a mailbox) stopped, so `--since-last` scans only what is new.
 * A cursor's meaning belongs to its source (mbox byte offset, Maildir unique name, IMAP
 * "uidvalidity:uid", Graph deltaLink). Plain data: a queue worker can carry it back.
 *
 * This store is a JSON file in the state folder, written atomically (temp file + rename);
 * the SQLite state store will implement the same interface.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Checkpoint } from '../model/message.js';
import { ScanError } from '../shared/errors.js';

export interface CheckpointStore {
  get(unitId: string): Checkpoint | undefined;
  /** Remembers a cursor (in memory until `flush`). */
  put(checkpoint: Checkpoint): void;
  /** Writes what was put; safe to call often. */
  flush(): Promise<void>;
}

export const CHECKPOINT_FILE = 'checkpoints.json';

const CheckpointFileSchema = z.strictObject({
  version: z.literal(1),
  units: z.record(z.string(), z.strictObject({ cursor: z.string(), updatedAt: z.string() })),
});

/** A store that keeps nothing: a plain scan without a state folder to write. */
export function memoryCheckpointStore(): CheckpointStore {
  const units = new Map<string, Checkpoint>();
  return {
    get: (unitId) => units.get(unitId),
    put: (c) => void units.set(c.unitId, c),
    flush: async () => {},
  };
}

export async function openCheckpointStore(stateDir: string): Promise<CheckpointStore> {
  const file = path.join(stateDir, CHECKPOINT_FILE);
  let data: z.infer<typeof CheckpointFileSchema> = { version: 1, units: {} };
  try {
    const parsed = CheckpointFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new ScanError('config', `${file}: not a phi-scan checkpoint file (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    data = parsed.data;
  } catch (err) {
    if (err instanceof ScanError) throw err;
    const code = (err as { code?: string }).code;
    if (code !== 'ENOENT') throw new ScanError('config', `${file}: cannot read checkpoints (${code ?? 'not JSON'})`);
  }
  let dirty = false;
  const mine = new Set<string>();
  let writing: Promise<void> = Promise.resolve();
  return {
    get(unitId) {
      const u = data.units[unitId];
      return u ? { unitId, cursor: u.cursor } : undefined;
    },
    put(c) {
      data.units[c.unitId] = { cursor: c.cursor, updatedAt: new Date().toISOString() };
      mine.add(c.unitId);
      dirty = true;
    },
    flush() {
      // Serialized: two flushes never write the temp file at once.
      writing = writing.then(async () => {
        if (!dirty) return;
        dirty = false;
        await mkdir(stateDir, { recursive: true, mode: 0o700 });
        // Another scan sharing the state folder may have written its own units meanwhile: keep them.
        const onDisk = await readFile(file, 'utf8')
          .then((t) => CheckpointFileSchema.safeParse(JSON.parse(t)))
          .catch(() => undefined);
        if (onDisk?.success) {
          for (const [id, u] of Object.entries(onDisk.data.units)) if (!mine.has(id)) data.units[id] = u;
        }
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(data, null, 1)}\n`, { mode: 0o600 });
        await rename(tmp, file);
      });
      return writing;
    },
  };
}
