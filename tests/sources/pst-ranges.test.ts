/**
 * A large PST as several units (sources/pst.ts, pst/ranges.ts, pst/cache.ts): the ranges of one
 * file hold every item of a one-piece read exactly once and in order, share one expansion per
 * source, resume from their own checkpoints, and leave no expansion behind.
 * readpst is replaced by a stand-in (pst-fake.ts) that expands into a synthetic many-folder tree.
 */
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isCursorAdvance, type SourceUnit, type UnitItem } from '../../src/model/message.js';
import { pstSource } from '../../src/sources/pst.js';
import { itemsInRange, pstRanges } from '../../src/sources/pst/ranges.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { countRuns, writeFakeReadpst, writeTree } from './pst-fake.js';

const SAMPLE1 = path.join(ROOT, 'fixtures', 'pst', 'pstsdk-sample1.pst');

describe('pst ranges: items laid out over the file', () => {
  it('ranges cut every N bytes; a file that fits, or N = 0, is one range', () => {
    expect(pstRanges(100, 0)).toEqual([{ start: 0 }]);
    expect(pstRanges(100, 100)).toEqual([{ start: 0 }]);
    expect(pstRanges(250, 100)).toEqual([{ start: 0, end: 100 }, { start: 100, end: 200 }, { start: 200 }]);
  });

  it('the ranges of a file partition its items, contiguous and in order, for any sizes', () => {
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let round = 0; round < 300; round++) {
      const n = rnd(40);
      const sizes = Array.from({ length: n }, () => (rnd(4) === 0 ? 0 : rnd(100_000)));
      const fileSize = 1 + rnd(5_000_000);
      const ranges = pstRanges(fileSize, 1 + rnd(fileSize));
      const held: number[] = [];
      for (const r of ranges) {
        const { from, to } = itemsInRange(sizes, fileSize, r);
        expect(from).toBeLessThanOrEqual(to);
        for (let i = from; i < to; i++) held.push(i);
      }
      expect(held).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('weighs items by size: one huge item does not share a range with the rest', () => {
    const sizes = [10, 10, 1_000_000, 10, 10];
    expect(itemsInRange(sizes, 1000, { start: 0, end: 500 })).toEqual({ from: 0, to: 3 });
    expect(itemsInRange(sizes, 1000, { start: 500 })).toEqual({ from: 3, to: 5 });
  });
});

describe('pst ranges: the source', () => {
  let bin: string;
  let runs: string;
  let file: string;
  let tmp: string;
  const KEYS = ['PHI_SCAN_READPST', 'PHI_SCAN_PST_RANGE_BYTES', 'TMPDIR'] as const;
  const saved = KEYS.map((k) => process.env[k]);
  beforeAll(() => {
    const dir = tempDir('phi-pst-ranges-');
    const tree = path.join(dir, 'tree');
    writeTree(tree, 120);
    runs = path.join(dir, 'runs');
    bin = writeFakeReadpst(dir, tree, runs);
    file = path.join(dir, 'big.pst');
    copyFileSync(SAMPLE1, file);
  });
  afterEach(() => {
    // Key by key: os.tmpdir() reads the real environment, which a replaced process.env no longer is.
    KEYS.forEach((k, i) => {
      const v = saved[i];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
  });
  const open = (rangeBytes: string) => {
    tmp = tempDir('phi-pst-ranges-tmp-');
    process.env.PHI_SCAN_READPST = bin;
    process.env.PHI_SCAN_PST_RANGE_BYTES = rangeBytes;
    process.env.TMPDIR = tmp;
    return pstSource(`pst:${file}`, file, { maxMessageBytes: 1 << 20 });
  };
  const expansionsLeft = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('phi-scan-pst-'));
  const collect = async (items: AsyncIterable<UnitItem>): Promise<UnitItem[]> => {
    const out: UnitItem[] = [];
    for await (const item of items) out.push(item);
    return out;
  };
  const messages = (items: UnitItem[]) =>
    items.flatMap((i) => (isCursorAdvance(i) ? [] : [{ folder: i.unit.folder, locator: i.locator, cursor: i.cursor, size: i.size, bytes: i.bytes.toString('base64') }]));

  it('every item of a one-piece read, once and in order, from ranges read one after another or all at once; one expansion', async () => {
    const whole = open('0');
    const [unit] = await whole.units(() => {});
    if (!unit) throw new Error('no unit');
    expect(unit.range).toBeUndefined();
    const before = countRuns(runs);
    const reference = messages(await collect(whole.messages(unit)));
    await whole.close?.();
    expect(reference.length).toBeGreaterThan(120);
    expect(new Set(reference.map((m) => m.folder)).size).toBe(5);

    const ranged = open('20000');
    const units = await ranged.units(() => {});
    expect(units.length).toBe(Math.ceil(271360 / 20000));
    expect(units[0]).toMatchObject({ id: unit.id, range: { start: 0, end: 20000 } });
    expect(units[1]?.id).toBe(`${unit.id}#20000`);
    const runsBefore = countRuns(runs);
    const inTurn: UnitItem[][] = [];
    for (const u of units) inTurn.push(await collect(ranged.messages(u)));
    expect(messages(inTurn.flat())).toEqual(reference);
    // Items are spread over the ranges, not all in one.
    expect(inTurn.filter((items) => messages(items).length > 0).length).toBeGreaterThan(8);
    // Each range ends with its own `done` cursor.
    for (const items of inTurn) expect(items.at(-1)).toMatchObject({ kind: 'cursor', cursor: expect.stringMatching(/:done$/) });
    const together = await Promise.all(units.map((u) => collect(ranged.messages(u))));
    expect(messages(together.flat())).toEqual(reference);
    // One expansion for every range of the file, read in turn or at once (kept while idle).
    expect(countRuns(runs) - runsBefore).toBe(1);
    expect(runsBefore - before).toBe(1);
    expect(expansionsLeft()).toHaveLength(1);
    await ranged.close?.();
    expect(expansionsLeft()).toEqual([]);
  });

  it('a range resumes after its last message done; a checkpoint of a changed file restarts it', async () => {
    const source = open('20000');
    const units = await source.units(() => {});
    const unit = units[3] as SourceUnit;
    const all = messages(await collect(source.messages(unit)));
    expect(all.length).toBeGreaterThan(3);
    const cut = all[1]?.cursor as string;
    const rest = messages(await collect(source.messages(unit, { unitId: unit.id, cursor: cut })));
    expect(rest).toEqual(all.slice(2));
    const other = messages(await collect(source.messages(unit, { unitId: unit.id, cursor: cut.replace(/^pst1:[^:]+/, 'pst1:another-file') })));
    expect(other).toEqual(all);
    expect(await collect(source.messages(unit, { unitId: unit.id, cursor: cut.replace(/\d+$/, 'done') }))).toEqual([]);
    await source.close?.();
    expect(expansionsLeft()).toEqual([]);
  });

  it('a whole-file unit removes its expansion when it ends', async () => {
    const source = open('0');
    const [unit] = await source.units(() => {});
    if (!unit) throw new Error('no unit');
    await collect(source.messages(unit));
    expect(expansionsLeft()).toEqual([]);
    await source.close?.();
  });

  it('the ranges of three files read at once: never more than two expansions on disk, every item read', async () => {
    const dir = tempDir('phi-pst-ranges-three-');
    for (const name of ['a', 'b', 'c']) copyFileSync(file, path.join(dir, `${name}.pst`));
    open('50000');
    const source = pstSource(`pst:${dir}`, dir, { maxMessageBytes: 1 << 20 });
    const units = await source.units(() => {});
    expect(units.length).toBe(3 * Math.ceil(271360 / 50000));
    let peak = 0;
    const sampled = async (items: AsyncIterable<UnitItem>): Promise<UnitItem[]> => {
      const out: UnitItem[] = [];
      for await (const item of items) {
        peak = Math.max(peak, expansionsLeft().length);
        out.push(item);
      }
      return out;
    };
    const read = await Promise.all(units.map((u) => sampled(source.messages(u))));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
    const per = new Map<string, number>();
    for (const m of messages(read.flat())) per.set(m.locator.split('#')[0] as string, (per.get(m.locator.split('#')[0] as string) ?? 0) + 1);
    expect(per.size).toBe(3);
    expect(new Set(per.values()).size).toBe(1);
    expect(per.get(path.join(dir, 'a.pst'))).toBeGreaterThan(120);
    await source.close?.();
    expect(expansionsLeft()).toEqual([]);
  });
});
