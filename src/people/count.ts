/**
 * Counting people: records (one person's keys in one message, records.ts) are joined into
 * clusters wherever they share a linking key (union-find, across messages, mailboxes and
 * sources). A cluster is one person:
 * - `roster`: it holds roster lines (`scan --edm`): one person per distinct line;
 * - `direct`: else it holds an SSN, Medicare ID or member ID;
 * - `nameDob`: else it holds a name with a date of birth;
 * - a cluster of medical record numbers alone is not counted (a record number identifies a
 *   patient only inside one organisation's systems; it links, it does not make a person).
 * `dobOnly` (an estimate, kept apart): distinct dates of birth of records with nothing else,
 * leaving out dates already seen in a counted person's record of the same scope.
 * Works on keys only: the answer explains itself by kinds and counts, never by a value.
 */
import { LINKING } from './records.js';

/** One key of one record, where it was found. */
export interface KeyRow {
  readonly mailbox: number;
  readonly message: number;
  readonly record: number;
  readonly key: string;
}

export interface PeopleParts {
  /** People matched to the patient roster, by roster line (`scan --edm`). */
  readonly roster: number;
  /** People (not on a roster) linked by an SSN, Medicare ID or member ID. */
  readonly direct: number;
  /** People known only by a name with a date of birth. */
  readonly nameDob: number;
  /** Distinct birth dates with nothing else to identify the person: an estimate. */
  readonly dobOnly: number;
}

/** How a tenant-wide count was made: clusters and what linked them, never a value. */
export interface PeopleExplanation {
  /** Records (one person's identifiers in one message) and the clusters they form. */
  readonly records: number;
  readonly clusters: number;
  /** Clusters counted as people (a record-number-only cluster is not). */
  readonly counted: number;
  /** Clusters joining records of two or more messages, and of two or more mailboxes. */
  readonly acrossMessages: number;
  readonly acrossMailboxes: number;
  /** Keys seen in two or more records, by kind: what joined records into people. */
  readonly sharedKeys: { readonly ssn: number; readonly medicareId: number; readonly memberId: number; readonly recordNumber: number; readonly nameDob: number; readonly rosterRow: number };
  /** Clusters holding two or more roster lines (each line counted as a person). */
  readonly rosterRowsMerged: number;
}

export interface PeopleCount {
  readonly byMailbox: Map<number, PeopleParts>;
  readonly total: PeopleParts;
  readonly explanation: PeopleExplanation;
}

export const sumParts = (p: PeopleParts): number => p.roster + p.direct + p.nameDob;

/** A list of numbers in a typed array that grows by doubling: 4 or 8 bytes an entry, not an object or a boxed number. */
class Numbers<A extends Int32Array | Float64Array> {
  private a: A;
  length = 0;
  constructor(private readonly make: (length: number) => A) {
    this.a = make(1024);
  }
  push(v: number): void {
    if (this.length === this.a.length) {
      const grown = this.make(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    this.a[this.length++] = v;
  }
  /** The entries, without a copy (valid until the next push). */
  view(): A {
    return this.a.subarray(0, this.length) as A;
  }
}
const ints = (): Numbers<Int32Array> => new Numbers((n) => new Int32Array(n));

/** Union-find over record numbers 0…n−1, in one typed array: the smaller root wins. */
function find(parent: Int32Array, i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r] as number;
  while (parent[i] !== r) {
    const next = parent[i] as number;
    parent[i] = r;
    i = next;
  }
  return r;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
}

const KIND_NAMES: Record<string, keyof PeopleExplanation['sharedKeys']> = { s: 'ssn', m: 'medicareId', i: 'memberId', r: 'recordNumber', n: 'nameDob', e: 'rosterRow' };

/** What a record holds, as bits (a cluster holds the OR of its records'). */
const DIRECT = 1;
const NAME_DOB = 2;
const LINKS = 4;
/** A cluster's records lie in two or more messages / mailboxes. */
const MANY_MESSAGES = 8;
const MANY_MAILBOXES = 16;

/**
 * countSortedPeople for rows in any order, sorted here in memory: small inputs (a test, a
 * library caller with a few messages). A state store's picture is sorted by SQLite instead
 * (report/picture.ts).
 */
export function countPeople(rows: Iterable<KeyRow>): PeopleCount {
  const all = [...rows];
  const byRecord = [...all].sort((a, b) => a.message - b.message || a.record - b.record);
  const byKey = [...all].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return countSortedPeople(byRecord, () => byKey);
}

/**
 * Counts the people in the key rows, read twice: `byRecord`, every row, ordered by message and
 * then record (a record's rows together); then `linkingByKey()`, rows with equal keys together
 * (only linking keys are read: a caller may leave the others out). Memory grows with the records (~24 bytes each, in typed arrays) and the
 * distinct birth dates, never with the keys: millions of findings are sorted on disk by SQLite,
 * where a map from every key to its records took 2.4 GB for 6.9 million rows (README, Breach
 * sizing).
 */
export function countSortedPeople(byRecord: Iterable<KeyRow>, linkingByKey: () => Iterable<KeyRow>): PeopleCount {
  // Records in (message, record) order: record i is recMessage[i], recNumber[i].
  const recMessage = ints();
  // A scan stored without its people numbers each finding's record by its row id (negated):
  // 8 bytes, as a state database's row ids outgrow 32 bits.
  const recNumber = new Numbers((n) => new Float64Array(n));
  const recMailbox = ints();
  const recFlags = ints();
  // Birth-date keys, numbered: their distinct values are a few tens of thousands of dates at most.
  const dobIds = new Map<string, number>();
  const dobId = (k: string): number => {
    let id = dobIds.get(k);
    if (id === undefined) dobIds.set(k, (id = dobIds.size));
    return id;
  };
  // A record with a linking key: its birth dates count as seen if its cluster is a person (known later).
  const linkedDobRecord = ints();
  const linkedDob = ints();
  // A record with nothing else: its birth dates are the estimate's (less those seen with a person).
  const onlyTotal = new Set<number>();
  const onlyIn = new Map<number, Set<number>>();
  const setIn = (m: Map<number, Set<number>>, mb: number): Set<number> => {
    let s = m.get(mb);
    if (!s) m.set(mb, (s = new Set()));
    return s;
  };

  let keys: string[] = [];
  let mailbox = 0;
  const endRecord = (): void => {
    if (keys.length === 0) return;
    let flags = 0;
    for (const k of keys) {
      const kind = k[0] as string;
      if (LINKING.has(kind)) flags |= LINKS;
      if (kind === 's' || kind === 'm' || kind === 'i') flags |= DIRECT;
      else if (kind === 'n') flags |= NAME_DOB;
    }
    const i = recFlags.length;
    recFlags.push(flags);
    recMailbox.push(mailbox);
    for (const k of keys) {
      if (k[0] !== 'd') continue;
      if (flags & LINKS) {
        linkedDobRecord.push(i);
        linkedDob.push(dobId(k));
      } else {
        const id = dobId(k);
        onlyTotal.add(id);
        setIn(onlyIn, mailbox).add(id);
      }
    }
    keys = [];
  };
  let message: number | undefined;
  let record = 0;
  for (const r of byRecord) {
    if (r.message !== message || r.record !== record) {
      endRecord();
      message = r.message;
      record = r.record;
      recMessage.push(message);
      recNumber.push(record);
      mailbox = r.mailbox;
    }
    keys.push(r.key);
  }
  endRecord();

  const n = recFlags.length;
  const messages = recMessage.view();
  const numbers = recNumber.view();
  /** Record index of (message, record), by binary search of the sorted records. */
  const indexOf = (message: number, record: number): number => {
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = messages[mid] as number;
      const d = m !== message ? m - message : (numbers[mid] as number) - record;
      if (d === 0) return mid;
      if (d < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new Error('people count: a key row of a record the rows by record did not hold');
  };

  // Records sharing a linking key are one person's: join them. Keys seen in two or more rows
  // are counted by kind; each roster line is remembered by its first record.
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const sharedKeys = { ssn: 0, medicareId: 0, memberId: 0, recordNumber: 0, nameDob: 0, rosterRow: 0 };
  const rosterLines = ints();
  let key: string | undefined;
  let first = 0;
  let rowsOfKey = 0;
  const endKey = (): void => {
    if (key === undefined) return;
    if (rowsOfKey > 1) sharedKeys[KIND_NAMES[key[0] as string] as keyof typeof sharedKeys]++;
    if (key[0] === 'e') rosterLines.push(first);
  };
  for (const r of linkingByKey()) {
    if (!LINKING.has(r.key[0] as string)) continue; // only linking keys join records
    const i = indexOf(r.message, r.record);
    if (r.key !== key) {
      endKey();
      key = r.key;
      first = i;
      rowsOfKey = 1;
    } else {
      rowsOfKey++;
      union(parent, first, i);
    }
  }
  endKey();

  // Each cluster's facts, at its root: what its records hold and where they lie. Union keeps the
  // smaller index, so a root is its cluster's first record: its own slots hold the cluster's
  // facts (its flags OR the others', compared with its message and mailbox), and records after
  // it no longer need their own flags.
  const root = parent; // compressed to roots below
  const mailboxes = recMailbox.view();
  const flags = recFlags.view();
  let clusters = 0;
  for (let i = 0; i < n; i++) {
    const c = find(parent, i);
    root[i] = c;
    if (c === i) {
      clusters++;
      continue;
    }
    let f = (flags[c] as number) | (flags[i] as number);
    if (messages[c] !== messages[i]) f |= MANY_MESSAGES;
    if (mailboxes[c] !== mailboxes[i]) f |= MANY_MAILBOXES;
    flags[c] = f;
  }
  // Roster lines by cluster (only with `scan --edm`).
  const rosterRows = new Map<number, number>();
  for (const i of rosterLines.view()) {
    const c = root[i] as number;
    rosterRows.set(c, (rosterRows.get(c) ?? 0) + 1);
  }
  // The mailboxes of the clusters in several (few): each cluster is counted once in each.
  const spread = new Map<number, Set<number>>();
  for (let i = 0; i < n; i++) {
    const c = root[i] as number;
    if ((flags[c] as number) & MANY_MAILBOXES) setIn(spread, c).add(mailboxes[i] as number);
  }

  type Kind = 'roster' | 'direct' | 'nameDob';
  const kindOf = (c: number): Kind | undefined => {
    const f = flags[c] as number;
    return rosterRows.has(c) ? 'roster' : f & DIRECT ? 'direct' : f & NAME_DOB ? 'nameDob' : undefined;
  };
  const zero = (): { roster: number; direct: number; nameDob: number; dobOnly: number } => ({ roster: 0, direct: 0, nameDob: 0, dobOnly: 0 });
  const total = zero();
  const byMailbox = new Map<number, ReturnType<typeof zero>>();
  const part = (mb: number): ReturnType<typeof zero> => {
    let p = byMailbox.get(mb);
    if (!p) byMailbox.set(mb, (p = zero()));
    return p;
  };
  let counted = 0;
  let acrossMessages = 0;
  let acrossMailboxes = 0;
  let rosterRowsMerged = 0;
  for (let c = 0; c < n; c++) {
    if (root[c] !== c) continue;
    const f = flags[c] as number;
    const where = f & MANY_MAILBOXES ? (spread.get(c) as Set<number>) : [mailboxes[c] as number];
    for (const mb of where) part(mb); // every mailbox with a record has a row
    const kind = kindOf(c);
    if (!kind) continue;
    counted++;
    if (f & MANY_MESSAGES) acrossMessages++;
    if (f & MANY_MAILBOXES) acrossMailboxes++;
    const lines = rosterRows.get(c) ?? 0;
    if (lines > 1) rosterRowsMerged++;
    const weight = lines > 0 ? lines : 1;
    total[kind] += weight;
    for (const mb of where) part(mb)[kind] += weight;
  }

  // Birth dates alone: records with no linking key, less dates seen with a counted person.
  const seenTotal = new Set<number>();
  const seenIn = new Map<number, Set<number>>();
  const dobRecords = linkedDobRecord.view();
  const dobs = linkedDob.view();
  for (let j = 0; j < dobRecords.length; j++) {
    const i = dobRecords[j] as number;
    if (!kindOf(root[i] as number)) continue;
    seenTotal.add(dobs[j] as number);
    setIn(seenIn, mailboxes[i] as number).add(dobs[j] as number);
  }
  for (const k of onlyTotal) if (!seenTotal.has(k)) total.dobOnly++;
  for (const [mb, set] of onlyIn) {
    const seen = seenIn.get(mb);
    for (const k of set) if (!seen?.has(k)) part(mb).dobOnly++;
  }
  return {
    byMailbox,
    total,
    explanation: { records: n, clusters, counted, acrossMessages, acrossMailboxes, sharedKeys, rosterRowsMerged },
  };
}
