/**
 * Expansions held by one PST source: one readpst run per file, shared by every unit (range) of
 * that file the source reads, so a queue worker given several ranges of one big export expands
 * it once. Bounded: at most `slots` expansions on disk at once; one no unit uses is removed when
 * another unit waits for room, after `idleMs`, or when the source closes. A whole-file unit
 * removes its expansion as soon as it ends (it is the file's only unit).
 */
import { stat } from 'node:fs/promises';
import { listItems, type PstItem } from './items.js';
import { ReadpstFailed, expandPst, makeExpansionDir, removeExpansion } from './readpst.js';

export interface Expanded {
  readonly items: readonly (PstItem & { readonly size: number })[];
}

/** The expansion, or why readpst gave none (ReadpstFailed); anything else is thrown. */
export type ExpansionResult = { readonly ok: true; readonly value: Expanded } | { readonly ok: false; readonly error: ReadpstFailed };

interface Entry {
  readonly key: string;
  /** The expansion folder, once made. */
  readonly where: { dir?: string };
  readonly ready: Promise<ExpansionResult>;
  users: number;
  timer?: NodeJS.Timeout;
  removed: boolean;
}

/** How long an expansion no unit uses is kept for the next range of its file. */
export const IDLE_MS = 20_000;

export interface Turn {
  readonly ahead: Promise<void>;
  readonly done: () => void;
}

export class ExpansionCache {
  private line: Promise<void> = Promise.resolve();
  private readonly entries = new Map<string, Entry>();
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly binary: string,
    slots: number,
    private readonly idleMs = IDLE_MS,
  ) {
    this.free = slots;
  }

  /** Expansions on disk or being made (tests). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * A place in line, taken synchronously when a unit starts: room for expansions is given in
   * this order (the output's order), so a later unit never holds the room an earlier one waits
   * for while its own output waits for the earlier one. `done` gives the place up (idempotent).
   */
  turn(): Turn {
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const ahead = this.line;
    this.line = this.line.then(() => mine);
    return { ahead, done };
  }

  /**
   * The expansion of `file` as it is now (`key`: its path and identity), made if need be, once
   * the units ahead in line have theirs; the caller must `release` the handle it gets.
   */
  async acquire(turn: Turn, key: string, file: string, signal?: AbortSignal): Promise<{ result: ExpansionResult; release: (keep: boolean) => Promise<void> }> {
    await turn.ahead;
    let entry = this.entries.get(key);
    if (!entry) {
      try {
        await this.takeSlot();
      } finally {
        turn.done();
      }
      entry = this.entries.get(key); // made by another unit while this one waited
      if (entry) this.giveSlot();
      else {
        entry = this.create(key, file, signal);
        this.entries.set(key, entry);
      }
    }
    turn.done();
    const held = entry;
    held.users++;
    if (held.timer) clearTimeout(held.timer);
    held.timer = undefined;
    // Most recently used last: the first idle entry is the one to evict.
    this.entries.delete(key);
    this.entries.set(key, held);
    let result: ExpansionResult;
    try {
      result = await held.ready;
    } catch (err) {
      held.users--;
      await this.remove(held);
      throw err;
    }
    let released = false;
    return {
      result,
      release: async (keep: boolean) => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users > 0) return;
        if (!keep || this.waiting.length > 0) await this.remove(held);
        else {
          held.timer = setTimeout(() => void this.remove(held), this.idleMs);
          held.timer.unref();
        }
      },
    };
  }

  /** Removes every expansion (the source closes). */
  async clear(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.remove(e)));
  }

  private create(key: string, file: string, signal?: AbortSignal): Entry {
    const where: { dir?: string } = {};
    const ready = (async (): Promise<ExpansionResult> => {
      const dir = await makeExpansionDir();
      where.dir = dir;
      try {
        await expandPst(this.binary, file, dir, signal ? { signal } : {});
      } catch (err) {
        if (err instanceof ReadpstFailed) return { ok: false, error: err };
        throw err;
      }
      const listed = await listItems(dir);
      const items = [];
      for (const item of listed) items.push({ ...item, size: (await stat(item.file)).size });
      return { ok: true, value: { items } };
    })();
    // A failure other than readpst's (no readpst at all, a temp folder that cannot be made) is
    // not kept: the unit that met it removes the entry, and the next unit tries again.
    ready.catch(() => undefined);
    return { key, where, ready, users: 0, removed: false };
  }

  private async remove(entry: Entry): Promise<void> {
    if (entry.removed) return;
    entry.removed = true;
    if (entry.timer) clearTimeout(entry.timer);
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    await entry.ready.catch(() => undefined);
    if (entry.where.dir !== undefined) await removeExpansion(entry.where.dir);
    this.giveSlot();
  }

  private async takeSlot(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    // Room is made by an expansion no unit uses, least recently used first.
    const idle = [...this.entries.values()].find((e) => e.users === 0 && !e.removed);
    const wait = new Promise<void>((resolve) => this.waiting.push(resolve));
    if (idle) void this.remove(idle);
    await wait;
  }

  private giveSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
