/**
 * Counting people (src/people/count.ts): the count over sorted rows in typed arrays gives what
 * the plain definition gives — clusters of records joined by shared linking keys, each counted
 * once overall and once in every mailbox it touches — and its memory grows with the records,
 * not with the keys (a report over millions of findings: README, Breach sizing).
 */
import { describe, expect, it } from 'vitest';
import { countPeople, countSortedPeople, type KeyRow, type PeopleCount } from '../../src/people/count.js';
import { LINKING } from '../../src/people/records.js';

/** The definition, with a map from every key to its records: the count as it was first written. */
function reference(rows: readonly KeyRow[]): PeopleCount {
  const records = new Map<string, { mailbox: number; message: number; keys: string[] }>();
  for (const r of rows) {
    const id = `${r.message}:${r.record}`;
    const rec = records.get(id) ?? { mailbox: r.mailbox, message: r.message, keys: [] };
    rec.keys.push(r.key);
    records.set(id, rec);
  }
  const list = [...records.values()];
  // Clusters: records sharing a linking key, transitively (flood fill).
  const byKey = new Map<string, number[]>();
  list.forEach((rec, i) => rec.keys.filter((k) => LINKING.has(k[0] as string)).forEach((k) => byKey.set(k, [...(byKey.get(k) ?? []), i])));
  const cluster = new Array<number>(list.length).fill(-1);
  const clusters: number[][] = [];
  list.forEach((_, start) => {
    if ((cluster[start] as number) >= 0) return;
    const members: number[] = [];
    const todo = [start];
    cluster[start] = clusters.length;
    while (todo.length > 0) {
      const i = todo.pop() as number;
      members.push(i);
      for (const k of (list[i] as { keys: string[] }).keys) {
        for (const j of byKey.get(k) ?? []) {
          if (cluster[j] !== -1) continue;
          cluster[j] = clusters.length;
          todo.push(j);
        }
      }
    }
    clusters.push(members);
  });
  const zero = () => ({ roster: 0, direct: 0, nameDob: 0, dobOnly: 0 });
  const total = zero();
  const byMailbox = new Map<number, ReturnType<typeof zero>>();
  const part = (mb: number) => byMailbox.get(mb) ?? (byMailbox.set(mb, zero()).get(mb) as ReturnType<typeof zero>);
  const kindOf = (members: number[]): 'roster' | 'direct' | 'nameDob' | undefined => {
    const keys = members.flatMap((i) => (list[i] as { keys: string[] }).keys);
    if (keys.some((k) => k[0] === 'e')) return 'roster';
    if (keys.some((k) => 'smi'.includes(k[0] as string))) return 'direct';
    return keys.some((k) => k[0] === 'n') ? 'nameDob' : undefined;
  };
  let counted = 0;
  let acrossMessages = 0;
  let acrossMailboxes = 0;
  let rosterRowsMerged = 0;
  for (const members of clusters) {
    const mailboxes = new Set(members.map((i) => (list[i] as { mailbox: number }).mailbox));
    for (const mb of mailboxes) part(mb);
    const kind = kindOf(members);
    if (!kind) continue;
    const lines = new Set(members.flatMap((i) => (list[i] as { keys: string[] }).keys.filter((k) => k[0] === 'e'))).size;
    const weight = Math.max(1, lines);
    counted++;
    if (new Set(members.map((i) => (list[i] as { message: number }).message)).size > 1) acrossMessages++;
    if (mailboxes.size > 1) acrossMailboxes++;
    if (lines > 1) rosterRowsMerged++;
    total[kind] += weight;
    for (const mb of mailboxes) part(mb)[kind] += weight;
  }
  // Birth dates of records without a linking key, less those in a counted person's records.
  const linked = (i: number) => (list[i] as { keys: string[] }).keys.some((k) => LINKING.has(k[0] as string));
  const dobs = (i: number) => (list[i] as { keys: string[] }).keys.filter((k) => k[0] === 'd');
  const alone = list.map((_, i) => i).filter((i) => !linked(i));
  const seen = list.map((_, i) => i).filter((i) => linked(i) && kindOf(clusters[cluster[i] as number] as number[]) !== undefined);
  const distinct = (ids: number[], mb?: number) => new Set(ids.filter((i) => mb === undefined || (list[i] as { mailbox: number }).mailbox === mb).flatMap(dobs));
  const seenAll = distinct(seen);
  total.dobOnly = [...distinct(alone)].filter((k) => !seenAll.has(k)).length;
  for (const mb of new Set(alone.map((i) => (list[i] as { mailbox: number }).mailbox))) {
    const here = distinct(seen, mb);
    const only = [...distinct(alone, mb)].filter((k) => !here.has(k)).length;
    if (only > 0) part(mb).dobOnly += only;
  }
  const sharedKeys = { ssn: 0, medicareId: 0, memberId: 0, recordNumber: 0, nameDob: 0, rosterRow: 0 };
  const names = { s: 'ssn', m: 'medicareId', i: 'memberId', r: 'recordNumber', n: 'nameDob', e: 'rosterRow' } as const;
  const rowsOf = new Map<string, number>();
  for (const r of rows) if (LINKING.has(r.key[0] as string)) rowsOf.set(r.key, (rowsOf.get(r.key) ?? 0) + 1);
  for (const [k, n] of rowsOf) if (n > 1) sharedKeys[names[k[0] as keyof typeof names]]++;
  return { byMailbox, total, explanation: { records: list.length, clusters: clusters.length, counted, acrossMessages, acrossMailboxes, sharedKeys, rosterRowsMerged } };
}

const plain = (c: PeopleCount) => ({ total: c.total, explanation: c.explanation, byMailbox: [...c.byMailbox].sort((a, b) => a[0] - b[0]) });

/** A small deterministic generator (a test that fails can be re-run as it was). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

describe('counting people', () => {
  it('gives the count of the definition for random rows in any order (2,000 cases: shared keys across messages and mailboxes, roster lines, birth dates alone)', () => {
    const kinds = ['s', 'm', 'i', 'r', 'n', 'e', 'd'];
    for (let t = 0; t < 2000; t++) {
      const r = random(t + 1);
      const rows: KeyRow[] = [];
      const values = 1 + Math.floor(r() * 12); // few values: keys collide and clusters form
      for (let message = 1; message <= 1 + Math.floor(r() * 8); message++) {
        const mailbox = 1 + Math.floor(r() * 3);
        for (let n = 0; n < 1 + Math.floor(r() * 4); n++) {
          // A record of its own for each finding of a scan stored without people (-finding id).
          const record = r() < 0.2 ? -(message * 10 + n + 1) : n;
          for (let k = 0; k < 1 + Math.floor(r() * 4); k++) rows.push({ mailbox, message, record, key: `${kinds[Math.floor(r() * kinds.length)]}:${Math.floor(r() * values)}` });
        }
      }
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [rows[i], rows[j]] = [rows[j] as KeyRow, rows[i] as KeyRow];
      }
      expect(plain(countPeople(rows)), `case ${t}`).toEqual(plain(reference(rows)));
    }
  });

  it.each([
    ['nothing', [], { roster: 0, direct: 0, nameDob: 0, dobOnly: 0 }],
    ['one SSN in two messages of two mailboxes: one person', [[1, 1, 0, 's:a'], [2, 2, 0, 's:a']], { roster: 0, direct: 1, nameDob: 0, dobOnly: 0 }],
    ['an SSN and a name+DOB joined through a third record holding both', [[1, 1, 0, 's:a'], [1, 2, 0, 'n:b'], [1, 3, 0, 's:a'], [1, 3, 0, 'n:b']], { roster: 0, direct: 1, nameDob: 0, dobOnly: 0 }],
    ['record numbers alone: no person', [[1, 1, 0, 'r:a'], [1, 2, 0, 'r:a']], { roster: 0, direct: 0, nameDob: 0, dobOnly: 0 }],
    ['two roster lines joined by an SSN: two people', [[1, 1, 0, 'e:1'], [1, 1, 0, 's:a'], [1, 2, 0, 'e:2'], [1, 2, 0, 's:a']], { roster: 2, direct: 0, nameDob: 0, dobOnly: 0 }],
    ['a birth date alone, and the same date with a person: no estimate', [[1, 1, 0, 'd:x'], [1, 2, 0, 'd:x'], [1, 2, 0, 's:a']], { roster: 0, direct: 1, nameDob: 0, dobOnly: 0 }],
    ['two birth dates alone: an estimate of two', [[1, 1, 0, 'd:x'], [1, 2, 0, 'd:y']], { roster: 0, direct: 0, nameDob: 0, dobOnly: 2 }],
    // A scan stored without its people: a record per finding, numbered by its row id (negated).
    ['records numbered past 32 bits', [[1, 1, -(2 ** 33), 's:a'], [1, 2, -(2 ** 33 + 1), 's:a'], [1, 2, -(2 ** 33 + 2), 's:b']], { roster: 0, direct: 2, nameDob: 0, dobOnly: 0 }],
  ] as [string, [number, number, number, string][], object][])('%s', (_name, rows, total) => {
    const keyRows = rows.map(([mailbox, message, record, key]) => ({ mailbox, message, record, key }));
    expect(countPeople(keyRows).total).toEqual(total);
    expect(plain(countPeople(keyRows))).toEqual(plain(reference(keyRows)));
  });

  it('holds the records in typed arrays, not the keys: a million records of unique SSNs streamed in', () => {
    const records = 1_000_000;
    const hex = (i: number) => i.toString(16).padStart(16, '0');
    // Rows as SQLite gives them: by message and record, then the linking keys by key.
    function* byRecord(): Generator<KeyRow> {
      for (let i = 0; i < records; i++) {
        yield { mailbox: 1 + (i % 7), message: i + 1, record: 0, key: `s:${hex(i)}` };
        yield { mailbox: 1 + (i % 7), message: i + 1, record: 0, key: `d:${hex(i % 36_500)}` };
      }
    }
    function* linking(): Generator<KeyRow> {
      for (let i = 0; i < records; i++) yield { mailbox: 1 + (i % 7), message: i + 1, record: 0, key: `s:${hex(i)}` };
    }
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let seen = 0;
    const sample = function* <T>(rows: Iterable<T>): Generator<T> {
      for (const row of rows) {
        if (++seen % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
        yield row;
      }
    };
    const count = countSortedPeople(sample(byRecord()), () => sample(linking()));
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    expect(count.total).toEqual({ roster: 0, direct: records, nameDob: 0, dobOnly: 0 });
    expect(count.explanation.clusters).toBe(records);
    // A map from each of the million keys to its record alone took ~100 MB of heap (typed
    // arrays are outside the heap: ~30 bytes a record); the birth dates are 36,500 keys at most.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses key rows of a record the rows by record did not hold (the two reads disagree)', () => {
    expect(() => countSortedPeople([{ mailbox: 1, message: 1, record: 0, key: 's:a' }], () => [{ mailbox: 1, message: 2, record: 0, key: 's:a' }])).toThrow(/did not hold/);
  });
});
