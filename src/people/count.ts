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

class UnionFind {
  readonly parent: number[] = [];
  add(): number {
    this.parent.push(this.parent.length);
    return this.parent.length - 1;
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    while (this.parent[i] !== r) {
      const next = this.parent[i] as number;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

const KIND_NAMES: Record<string, keyof PeopleExplanation['sharedKeys']> = { s: 'ssn', m: 'medicareId', i: 'memberId', r: 'recordNumber', n: 'nameDob', e: 'rosterRow' };

export function countPeople(rows: Iterable<KeyRow>): PeopleCount {
  const uf = new UnionFind();
  const recordIndex = new Map<string, number>();
  const recMailbox: number[] = [];
  const recMessage: number[] = [];
  const recKeys: string[][] = [];
  const firstWithKey = new Map<string, number>();
  const keyRecords = new Map<string, number>();
  for (const r of rows) {
    const id = `${r.message}:${r.record}`;
    let i = recordIndex.get(id);
    if (i === undefined) {
      i = uf.add();
      recordIndex.set(id, i);
      recMailbox.push(r.mailbox);
      recMessage.push(r.message);
      recKeys.push([]);
    }
    (recKeys[i] as string[]).push(r.key);
    if (!LINKING.has(r.key[0] as string)) continue;
    keyRecords.set(r.key, (keyRecords.get(r.key) ?? 0) + 1);
    const first = firstWithKey.get(r.key);
    if (first === undefined) firstWithKey.set(r.key, i);
    else uf.union(first, i);
  }
  interface Cluster {
    rows: Set<string>;
    direct: boolean;
    nameDob: boolean;
    mailboxes: Set<number>;
    messages: Set<number>;
  }
  const clusters = new Map<number, Cluster>();
  for (let i = 0; i < recKeys.length; i++) {
    const root = uf.find(i);
    let c = clusters.get(root);
    if (!c) clusters.set(root, (c = { rows: new Set(), direct: false, nameDob: false, mailboxes: new Set(), messages: new Set() }));
    c.mailboxes.add(recMailbox[i] as number);
    c.messages.add(recMessage[i] as number);
    for (const k of recKeys[i] as string[]) {
      const kind = k[0];
      if (kind === 'e') c.rows.add(k);
      else if (kind === 's' || kind === 'm' || kind === 'i') c.direct = true;
      else if (kind === 'n') c.nameDob = true;
    }
  }
  const kindOf = (c: Cluster): keyof PeopleParts | undefined => (c.rows.size > 0 ? 'roster' : c.direct ? 'direct' : c.nameDob ? 'nameDob' : undefined);
  const weight = (c: Cluster): number => (c.rows.size > 0 ? c.rows.size : 1);
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
  for (const c of clusters.values()) {
    const kind = kindOf(c);
    for (const mb of c.mailboxes) part(mb); // every mailbox with a record has a row
    if (!kind) continue;
    counted++;
    if (c.messages.size > 1) acrossMessages++;
    if (c.mailboxes.size > 1) acrossMailboxes++;
    if (c.rows.size > 1) rosterRowsMerged++;
    total[kind] += weight(c);
    for (const mb of c.mailboxes) part(mb)[kind] += weight(c);
  }
  // Birth dates alone: records with no linking key, less dates seen with a counted person.
  const seenTotal = new Set<string>();
  const seenIn = new Map<number, Set<string>>();
  const onlyTotal = new Set<string>();
  const onlyIn = new Map<number, Set<string>>();
  const setIn = (m: Map<number, Set<string>>, mb: number): Set<string> => {
    let s = m.get(mb);
    if (!s) m.set(mb, (s = new Set()));
    return s;
  };
  for (let i = 0; i < recKeys.length; i++) {
    const keys = recKeys[i] as string[];
    const mb = recMailbox[i] as number;
    const linking = keys.some((k) => LINKING.has(k[0] as string));
    const c = clusters.get(uf.find(i)) as Cluster;
    for (const k of keys) {
      if (k[0] !== 'd') continue;
      if (!linking) {
        onlyTotal.add(k);
        setIn(onlyIn, mb).add(k);
      } else if (kindOf(c)) {
        seenTotal.add(k);
        setIn(seenIn, mb).add(k);
      }
    }
  }
  for (const k of onlyTotal) if (!seenTotal.has(k)) total.dobOnly++;
  for (const [mb, set] of onlyIn) {
    const seen = seenIn.get(mb);
    for (const k of set) if (!seen?.has(k)) part(mb).dobOnly++;
  }
  const sharedKeys = { ssn: 0, medicareId: 0, memberId: 0, recordNumber: 0, nameDob: 0, rosterRow: 0 };
  for (const [k, n] of keyRecords) if (n > 1) sharedKeys[KIND_NAMES[k[0] as string] as keyof typeof sharedKeys]++;
  return {
    byMailbox,
    total,
    explanation: { records: recKeys.length, clusters: clusters.size, counted, acrossMessages, acrossMailboxes, sharedKeys, rosterRowsMerged },
  };
}
