/**
 * Exact data match (EDM): the organisation's patient roster as keyed fingerprints, so a scan can
 * tell "this value is patient row 1,234 of the roster" without the roster's values anywhere.
 *
 * `phi-scan edm build ROSTER.csv --columns …` normalizes every value as the detectors do and
 * fingerprints it with the installation key exactly as a finding is fingerprinted (an SSN, MBI or
 * member ID in mail then matches by its fingerprint alone); a first and last name with a date of
 * birth become one name + DOB key (people/records.ts nameDobKey). The file holds 64-bit keyed
 * fingerprints and roster line numbers, nothing else: without the key they cannot be reversed.
 *
 * File layout (little-endian): `PHIEDM1\n`, a u32 header length, the JSON header (padded to 4
 * bytes), then per kind (`s`, `m`, `i`, `n`) its entries as u32 triples (fingerprint high, low,
 * roster line), sorted: a lookup is a binary search over a typed array, and loading is one read.
 */
import { createHmac } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { fingerprint, type FingerprintKey } from '../findings/fingerprint.js';
import { ssnDetector } from '../detectors/ssn.js';
import { mbiDetector } from '../detectors/mbi.js';
import { memberIdDetector } from '../detectors/member-id.js';
import { dateDetector } from '../detectors/date.js';
import { splitRow } from '../engine/tables.js';
import { canonicalName, nameDobKey } from '../people/records.js';
import { ScanError } from '../shared/errors.js';

const MAGIC = 'PHIEDM1\n';
export const EDM_COLUMNS = ['ssn', 'mbi', 'member_id', 'last_name', 'first_name', 'dob', '-'] as const;
export type EdmColumn = (typeof EDM_COLUMNS)[number];
/** Kinds of roster keys, as record keys name them (people/records.ts). */
export const EDM_KINDS = ['s', 'm', 'i', 'n'] as const;
export type EdmKind = (typeof EDM_KINDS)[number];

const HeaderSchema = z.strictObject({
  version: z.literal(1),
  /** Which key made it (a keyed digest, not the key): another key's fingerprints never match. */
  keyId: z.string(),
  columns: z.array(z.enum(EDM_COLUMNS)),
  rows: z.number().int().nonnegative(),
  badRows: z.number().int().nonnegative(),
  counts: z.strictObject({ s: z.number().int(), m: z.number().int(), i: z.number().int(), n: z.number().int() }),
});
export type EdmHeader = z.infer<typeof HeaderSchema>;

export function edmKeyId(key: FingerprintKey): string {
  return createHmac('sha256', key).update('phi-scan edm key id').digest('hex').slice(0, 16);
}

/** Parses `--columns ssn,mbi,…`: known names, each at most once (`-` skips a column). */
export function parseColumns(spec: string): EdmColumn[] {
  const cols = spec.split(',').map((c) => c.trim().toLowerCase());
  const seen = new Set<string>();
  for (const c of cols) {
    if (!(EDM_COLUMNS as readonly string[]).includes(c)) throw new ScanError('config', `--columns: unknown column "${c}" (known: ${EDM_COLUMNS.join(', ')})`);
    if (c !== '-' && seen.has(c)) throw new ScanError('config', `--columns: "${c}" given twice`);
    seen.add(c);
  }
  const has = (c: string): boolean => seen.has(c);
  if (!has('ssn') && !has('mbi') && !has('member_id') && !(has('last_name') && has('first_name') && has('dob'))) {
    throw new ScanError('config', '--columns: needs ssn, mbi, member_id, or last_name + first_name + dob');
  }
  return cols as EdmColumn[];
}

/** A roster line that was not (fully) usable: its line number and which columns, never a value. */
export interface BadRow {
  readonly line: number;
  readonly reason: string;
}

export interface EdmBuildResult {
  readonly rows: number;
  readonly badRows: readonly BadRow[];
  readonly counts: Record<EdmKind, number>;
  readonly bytes: number;
}

/** The roster line's keys: kind → fingerprint, and what was wrong with it. */
export function rowKeys(cells: readonly string[], columns: readonly EdmColumn[], key: FingerprintKey, today: Date): { keys: [EdmKind, string][]; bad: string[] } {
  const keys: [EdmKind, string][] = [];
  const bad: string[] = [];
  const cell = (c: EdmColumn): string | undefined => {
    const i = columns.indexOf(c);
    const v = i === -1 ? undefined : cells[i]?.trim();
    return v === '' ? undefined : v;
  };
  const ssn = cell('ssn');
  if (ssn !== undefined) {
    const n = ssnDetector.normalize(ssn);
    if (/^\d{9}$/.test(n) && ssnDetector.check(n, { today }).kind !== 'invalid') keys.push(['s', fingerprint(key, 'ssn', n)]);
    else bad.push('ssn');
  }
  const mbi = cell('mbi');
  if (mbi !== undefined) {
    const n = mbiDetector.normalize(mbi);
    if (mbiDetector.check(n, { today }).kind !== 'invalid') keys.push(['m', fingerprint(key, 'medicare-id', n)]);
    else bad.push('mbi');
  }
  const member = cell('member_id');
  if (member !== undefined) {
    const n = memberIdDetector.normalize(member);
    if (memberIdDetector.check(n, { today }).kind !== 'invalid') keys.push(['i', fingerprint(key, 'insurance', n)]);
    else bad.push('member_id');
  }
  const last = cell('last_name');
  const first = cell('first_name');
  const dob = cell('dob');
  if (last !== undefined && first !== undefined && dob !== undefined) {
    const iso = dateDetector.normalize(dob, { today });
    const name = canonicalName(`${first} ${last}`);
    if (iso === 'invalid' || dateDetector.check(iso, { today }).kind === 'invalid') bad.push('dob');
    else if (name === '') bad.push('name');
    else keys.push(['n', nameDobKey(key, name, iso)]);
  }
  return { keys, bad };
}

function headerLike(cells: readonly string[], columns: readonly EdmColumn[]): boolean {
  return columns.every((c, i) => c === '-' || (cells[i] ?? '').trim().toLowerCase().replace(/[\s-]+/g, '_') === c);
}

/**
 * Reads the roster (CSV, comma or tab separated, an optional header line naming the columns) and
 * writes the EDM file. Bad lines are counted and named by number.
 */
export async function buildEdm(input: string, columns: readonly EdmColumn[], key: FingerprintKey, out: string, today = new Date()): Promise<EdmBuildResult> {
  const lists: Record<EdmKind, number[]> = { s: [], m: [], i: [], n: [] };
  const bad: BadRow[] = [];
  let rows = 0;
  let lineNo = 0;
  let delimiter: string | undefined;
  const lines = createInterface({ input: createReadStream(input, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\ufeff/, '') : raw;
    if (line.trim() === '') continue;
    delimiter ??= line.includes('\t') && !line.includes(',') ? '\t' : ',';
    const cells = line.includes('"') ? splitRow(line, delimiter).cells : line.split(delimiter);
    if (lineNo === 1 && headerLike(cells, columns)) continue;
    if (cells.length < columns.length) {
      bad.push({ line: lineNo, reason: `${cells.length} of ${columns.length} columns` });
      continue;
    }
    const { keys, bad: wrong } = rowKeys(cells, columns, key, today);
    if (wrong.length > 0) bad.push({ line: lineNo, reason: `not usable: ${wrong.join(', ')}` });
    if (keys.length === 0) continue;
    rows++;
    for (const [kind, fp] of keys) {
      const list = lists[kind];
      list.push(parseInt(fp.slice(0, 8), 16), parseInt(fp.slice(8, 16), 16), lineNo);
    }
  }
  const counts = { s: lists.s.length / 3, m: lists.m.length / 3, i: lists.i.length / 3, n: lists.n.length / 3 };
  const header: EdmHeader = { version: 1, keyId: edmKeyId(key), columns: [...columns], rows, badRows: bad.length, counts };
  const bytes = encode(header, lists);
  await writeFile(out, bytes, { mode: 0o600 });
  return { rows, badRows: bad, counts, bytes: bytes.length };
}

function sortTriples(flat: readonly number[]): Uint32Array {
  const n = flat.length / 3;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const hi = (i: number): number => flat[3 * i] as number;
  const lo = (i: number): number => flat[3 * i + 1] as number;
  order.sort((a, b) => hi(a) - hi(b) || lo(a) - lo(b));
  const out = new Uint32Array(flat.length);
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    out[3 * k] = hi(i);
    out[3 * k + 1] = lo(i);
    out[3 * k + 2] = flat[3 * i + 2] as number;
  }
  return out;
}

function encode(header: EdmHeader, lists: Record<EdmKind, number[]>): Buffer {
  let json = JSON.stringify(header);
  while ((MAGIC.length + 4 + Buffer.byteLength(json)) % 4 !== 0) json += ' ';
  const head = Buffer.alloc(MAGIC.length + 4);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(Buffer.byteLength(json), MAGIC.length);
  const parts: Buffer[] = [head, Buffer.from(json)];
  for (const kind of EDM_KINDS) {
    const sorted = sortTriples(lists[kind]);
    parts.push(Buffer.from(sorted.buffer, sorted.byteOffset, sorted.byteLength));
  }
  return Buffer.concat(parts);
}

/** A loaded roster: lookups by a finding's fingerprint (or a record key's). */
export interface Edm {
  readonly header: EdmHeader;
  /** The roster line of the value with this fingerprint (16 hex digits), if it is on the roster. */
  lookup(kind: EdmKind, fp: string): number | undefined;
}

export function loadEdm(file: string, key: FingerprintKey): Edm {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new ScanError('config', `${file}: cannot read the EDM file (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new ScanError('config', `${file}: not a phi-scan EDM file`);
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + jsonLength;
  let header: EdmHeader;
  try {
    header = HeaderSchema.parse(JSON.parse(buf.toString('utf8', MAGIC.length + 4, dataStart)));
  } catch {
    throw new ScanError('config', `${file}: not a phi-scan EDM file (bad header)`);
  }
  if (header.keyId !== edmKeyId(key)) {
    throw new ScanError('config', `${file}: built with another fingerprint key (PHI_SCAN_KEY / the state folder's key); rebuild it with this installation's key`);
  }
  const total = EDM_KINDS.reduce((n, k) => n + header.counts[k], 0);
  if (buf.length !== dataStart + total * 12) throw new ScanError('config', `${file}: truncated EDM file`);
  // A typed array needs 4-byte alignment; readFileSync's buffer usually has it, else copy once.
  const aligned = (buf.byteOffset + dataStart) % 4 === 0 ? buf : Buffer.from(buf);
  const tables = new Map<EdmKind, Uint32Array>();
  let offset = aligned.byteOffset + dataStart;
  for (const kind of EDM_KINDS) {
    const n = header.counts[kind];
    tables.set(kind, new Uint32Array(aligned.buffer, offset, n * 3));
    offset += n * 12;
  }
  return {
    header,
    lookup(kind, fp) {
      const t = tables.get(kind) as Uint32Array;
      const hi = parseInt(fp.slice(0, 8), 16);
      const lo = parseInt(fp.slice(8, 16), 16);
      let a = 0;
      let b = t.length / 3 - 1;
      while (a <= b) {
        const mid = (a + b) >>> 1;
        const h = t[3 * mid] as number;
        const l = t[3 * mid + 1] as number;
        if (h < hi || (h === hi && l < lo)) a = mid + 1;
        else if (h > hi || l > lo) b = mid - 1;
        else return t[3 * mid + 2];
      }
      return undefined;
    },
  };
}

/** One loaded roster per file per process (each pool thread loads its own). */
const cache = new Map<string, Edm>();
export function edmFor(file: string, key: FingerprintKey): Edm {
  const k = `${file}\0${edmKeyId(key)}`;
  let edm = cache.get(k);
  if (!edm) cache.set(k, (edm = loadEdm(file, key)));
  return edm;
}
