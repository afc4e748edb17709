/**
 * Records: within one scanned message, which identifiers belong to one person.
 *
 * A record is what mail writes about one person: a table row, a labelled block
 * (`Patient: … / DOB: … / MBI: …`), a line of a list, or a whole message about one patient.
 * Identifiers in one record are one person's (they link); two records of one message are two
 * people unless they share an identifier. Built per segment from the engine's hits (offsets in
 * the normalized text) and the text itself, then merged when the message is about one person.
 *
 * A record leaves this module as keys only (`kind:fingerprint`, keyed HMACs): no value, no name.
 * Kinds: `s` an SSN (also the SSN inside a HICN or a 9-digit RRB number), `m` a Medicare ID,
 * `i` a member ID, `r` a medical record number, `n` a name with a date of birth, `d` a date of
 * birth alone (never links), `e` a roster row of an exact data match (edm/).
 */
import type { Category } from '../model/finding.js';
import { fingerprint, type FingerprintKey } from '../findings/fingerprint.js';
import { findTables } from '../engine/tables.js';
import { dateDetector } from '../detectors/date.js';
import { identityOf, isPatientName } from './facts.js';

export type KeyKind = 's' | 'm' | 'i' | 'r' | 'n' | 'd' | 'e';
/** Kinds that tie records together (a date of birth alone is shared by many people). */
export const LINKING: ReadonlySet<string> = new Set(['s', 'm', 'i', 'r', 'n', 'e']);

/** What records need of an engine hit (a finding). */
export interface IdentityHit {
  readonly rule: string;
  readonly category: Category;
  readonly fingerprint: string;
  /** Offsets in `text`. */
  readonly start: number;
  readonly end: number;
}

/** A name of a person (a `person-` context hit): compared by its canonical form, so without a fingerprint. */
export type NameHit = Omit<IdentityHit, 'fingerprint'>;

/** One person's identifiers in one message: keys only. */
export type { PersonRecord } from '../model/records.js';
import type { PersonRecord } from '../model/records.js';

type Slot = 'ssn' | 'mbi' | 'member' | 'mrn' | 'dob' | 'name';

interface Item {
  readonly slot: Slot;
  /** The value compared in its slot (a fingerprint). */
  readonly value: string;
  readonly keys: readonly string[];
  readonly start: number;
  /** A name's canonical form or a birth date's ISO form: in this process only, for the name + DOB key. */
  readonly plain?: string;
}

/** A person's name as compared: lower case, `Last, First` as `first last`, no middle initials or titles. */
export function canonicalName(name: string): string {
  let n = (/^[\x20-\x7e]*$/.test(name) ? name : name.normalize('NFKC')).toLowerCase().replace(/[’`]/g, "'").replace(/\s+/g, ' ').trim();
  const comma = /^([^,]+),\s*(.+)$/.exec(n);
  if (comma) n = `${comma[2]} ${comma[1]}`;
  const words = n
    .split(/[ .]+/)
    .filter((w) => w.length > 1 && !/^(?:mr|mrs|ms|dr|jr|sr|ii|iii|iv)$/.test(w));
  return words.join(' ');
}

/** The name + date-of-birth key: a keyed fingerprint of the canonical name and the ISO date (edm/edm.ts rowKeys builds the same). */
export function nameDobKey(key: FingerprintKey, canonical: string, isoDob: string): string {
  return fingerprint(key, 'name+dob', `${canonical}\0${isoDob}`);
}

/** The fingerprint an SSN finding of these nine digits has (the SSN inside a HICN or RRB number). */
export function ssnKey(key: FingerprintKey, digits: string): string {
  return fingerprint(key, 'ssn', digits);
}

function nameItemOf(hit: NameHit, text: string): Item | undefined {
  if (!isPatientName(hit.rule)) return undefined;
  const canonical = canonicalName(text.slice(hit.start, hit.end));
  if (canonical === '') return undefined;
  return { slot: 'name', value: canonical, keys: [], start: hit.start, plain: canonical };
}

function itemOf(hit: IdentityHit, text: string, key: FingerprintKey, today: Date): Item | undefined {
  const identity = identityOf(hit.rule, hit.category);
  if (identity === 'quasi' && hit.category === 'date-of-birth') {
    const iso = dateDetector.normalize(text.slice(hit.start, hit.end), { today });
    return { slot: 'dob', value: hit.fingerprint, keys: [`d:${hit.fingerprint}`], start: hit.start, ...(iso !== 'invalid' ? { plain: iso } : {}) };
  }
  if (identity === 'link') return { slot: 'mrn', value: hit.fingerprint, keys: [`r:${hit.fingerprint}`], start: hit.start };
  if (identity !== 'direct') return undefined;
  if (hit.category === 'ssn') return { slot: 'ssn', value: hit.fingerprint, keys: [`s:${hit.fingerprint}`], start: hit.start };
  if (hit.category === 'medicare-id') {
    // A HICN is the wage earner's SSN plus a suffix; a 9-digit RRB number carries the SSN too.
    const digits = text.slice(hit.start, hit.end).replace(/\D/g, '');
    if ((hit.rule === 'hicn' || hit.rule === 'rrb') && digits.length === 9) {
      const ssn = ssnKey(key, digits);
      return { slot: 'ssn', value: ssn, keys: [`s:${ssn}`, `m:${hit.fingerprint}`], start: hit.start };
    }
    return { slot: 'mbi', value: hit.fingerprint, keys: [`m:${hit.fingerprint}`], start: hit.start };
  }
  return { slot: 'member', value: hit.fingerprint, keys: [`i:${hit.fingerprint}`], start: hit.start };
}

/** Lines that hold only quote markers and spaces separate blocks as blank lines do. */
const BLANK = /^[\s>]*$/;

interface Line {
  readonly start: number;
  readonly end: number;
  readonly blank: boolean;
}

function linesOf(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    out.push({ start, end, blank: BLANK.test(text.slice(start, end)) });
    if (nl === -1) break;
    start = nl + 1;
  }
  return out;
}

/**
 * The records of one segment. Table rows are one record each. Elsewhere, lines are read in
 * blocks (blank lines end a block) and items join the current record until one would repeat a
 * slot with another value (a second SSN, a second name): then a new record starts at the start
 * of that item's line, taking along what that line already gave.
 */
export function segmentRecords(text: string, hits: readonly IdentityHit[], names: readonly NameHit[], key: FingerprintKey, today: Date): Item[][] {
  const items = [...hits.map((h) => itemOf(h, text, key, today)), ...names.map((n) => nameItemOf(n, text))]
    .filter((i): i is Item => i !== undefined)
    .sort((a, b) => a.start - b.start);
  if (items.length === 0) return [];
  const records: Item[][] = [];
  // Table rows first: a row is a record, whatever the rows around it hold.
  const rest: Item[] = [];
  const tables = items.length > 1 && /[,\t|]/.test(text) ? findTables(text) : [];
  const rowOf = new Map<number, Item[]>();
  for (const item of items) {
    const table = tables.find((t) => item.start >= t.rowsStart && item.start <= t.end);
    if (!table) {
      rest.push(item);
      continue;
    }
    const lineStart = text.lastIndexOf('\n', item.start - 1) + 1;
    let row = rowOf.get(lineStart);
    if (!row) {
      rowOf.set(lineStart, (row = []));
      records.push(row);
    }
    row.push(item);
  }
  if (rest.length === 0) return records.flatMap(splitRepeats);
  const lines = linesOf(text);
  let li = 0;
  let current: Item[] = [];
  const close = (): void => {
    if (current.length > 0) records.push(current);
    current = [];
  };
  for (const item of rest) {
    let sawBlank = false;
    while (li < lines.length - 1 && (lines[li] as Line).end < item.start) {
      li++;
      if ((lines[li] as Line).blank) sawBlank = true;
    }
    if (sawBlank) close();
    const clash = current.some((c) => c.slot === item.slot && c.value !== item.value);
    if (clash) {
      // The new person starts at the start of this line: what this line gave so far is theirs.
      const lineStart = (lines[li] as Line).start;
      const keep = current.filter((c) => c.start < lineStart);
      const move = current.filter((c) => c.start >= lineStart);
      if (keep.length > 0 && !move.some((c) => c.slot === item.slot && c.value !== item.value)) {
        current = keep;
        close();
        current = move;
      } else close();
    }
    current.push(item);
  }
  close();
  return records.flatMap(splitRepeats);
}

/** A table row (or a record) that still repeats a slot with two values holds two people: split at the repeat. */
function splitRepeats(record: Item[]): Item[][] {
  const out: Item[][] = [];
  let cur: Item[] = [];
  for (const item of record) {
    if (cur.some((c) => c.slot === item.slot && c.value !== item.value)) {
      out.push(cur);
      cur = [];
    }
    cur.push(item);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Does this set of items hold at most one value per slot (one person, as far as it shows)? */
function onePerson(items: readonly Item[]): boolean {
  const seen = new Map<Slot, string>();
  for (const i of items) {
    const v = seen.get(i.slot);
    if (v !== undefined && v !== i.value) return false;
    seen.set(i.slot, i.value);
  }
  return true;
}

/** The keys of one record: its items' keys, and a name + DOB key when it holds both. */
function keysOf(items: readonly Item[], key: FingerprintKey): string[] {
  const keys = new Set<string>();
  for (const i of items) for (const k of i.keys) keys.add(k);
  const name = items.find((i) => i.slot === 'name');
  const dob = items.find((i) => i.slot === 'dob');
  if (name?.plain !== undefined && dob?.plain !== undefined) keys.add(`n:${nameDobKey(key, name.plain, dob.plain)}`);
  return [...keys].sort();
}

/**
 * The records of a message from its segments' records. A message whose identifiers, all
 * segments together, show one person (one value per slot: a referral with the name in the
 * body and the SSN in the attachment) is one record; otherwise each segment's records stand.
 * Records without a key (a name alone) are dropped.
 */
export function messageRecords(segments: readonly Item[][][], key: FingerprintKey): PersonRecord[] {
  const all = segments.flat();
  if (all.length === 0) return [];
  const groups = all.length > 1 && onePerson(all.flat()) ? [all.flat()] : all;
  return groups.map((items) => ({ keys: keysOf(items, key) })).filter((r) => r.keys.length > 0);
}

export type SegmentItems = Item[][];
