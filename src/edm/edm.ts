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
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { FingerprintKey } from '../findings/fingerprint.js';
import { ssnDetector } from '../detectors/ssn.js';
import { mbiDetector } from '../detectors/mbi.js';
import { memberIdDetector } from '../detectors/member-id.js';
import { dateDetector } from '../detectors/date.js';
import { splitRow } from '../engine/tables.js';
import { canonicalName } from '../people/records.js';
import { ScanError } from '../common/errors.js';
import { compiledWorker } from '../common/compiled-worker.js';

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

/** A finding's fingerprint (findings/fingerprint.ts) as its two 32-bit halves, without hex in between. */
function fingerprintHalves(key: FingerprintKey, category: string, normalized: string): [number, number] {
  const d = createHmac('sha256', key).update(category).update('\0').update(normalized).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

/** MM/DD/YYYY and YYYY-MM-DD (what rosters hold) as the date detector's ISO form, without its general parser. */
function rosterDate(v: string, today: Date): string {
  let m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(v);
  if (m) return `${m[3]}-${(m[1] as string).padStart(2, '0')}-${(m[2] as string).padStart(2, '0')}`;
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (m) return v;
  return dateDetector.normalize(v, { today });
}

/** The roster line's keys: kind → fingerprint, and what was wrong with it. */
export function rowKeys(cells: readonly string[], columns: readonly EdmColumn[], key: FingerprintKey, today: Date): { keys: [EdmKind, [number, number]][]; bad: string[] } {
  const keys: [EdmKind, [number, number]][] = [];
  const bad: string[] = [];
  const cell = (c: EdmColumn): string | undefined => {
    const i = columns.indexOf(c);
    const v = i === -1 ? undefined : cells[i]?.trim();
    return v === '' ? undefined : v;
  };
  const ssn = cell('ssn');
  if (ssn !== undefined) {
    const n = ssnDetector.normalize(ssn);
    if (/^\d{9}$/.test(n) && ssnDetector.check(n, { today }).kind !== 'invalid') keys.push(['s', fingerprintHalves(key, 'ssn', n)]);
    else bad.push('ssn');
  }
  const mbi = cell('mbi');
  if (mbi !== undefined) {
    const n = mbiDetector.normalize(mbi);
    if (mbiDetector.check(n, { today }).kind !== 'invalid') keys.push(['m', fingerprintHalves(key, 'medicare-id', n)]);
    else bad.push('mbi');
  }
  const member = cell('member_id');
  if (member !== undefined) {
    const n = memberIdDetector.normalize(member);
    if (memberIdDetector.check(n, { today }).kind !== 'invalid') keys.push(['i', fingerprintHalves(key, 'insurance', n)]);
    else bad.push('member_id');
  }
  const last = cell('last_name');
  const first = cell('first_name');
  const dob = cell('dob');
  if (last !== undefined && first !== undefined && dob !== undefined) {
    const iso = rosterDate(dob, today);
    const name = canonicalName(`${first} ${last}`);
    if (iso === 'invalid' || dateDetector.check(iso, { today }).kind === 'invalid') bad.push('dob');
    else if (name === '') bad.push('name');
    else keys.push(['n', fingerprintHalves(key, 'name+dob', `${name}\0${iso}`)]);
  }
  return { keys, bad };
}

function headerLike(cells: readonly string[], columns: readonly EdmColumn[]): boolean {
  return columns.every((c, i) => c === '-' || (cells[i] ?? '').trim().toLowerCase().replace(/[\s-]+/g, '_') === c);
}

/** One part of the roster, read by one thread: its byte range and what it needs to know. */
export interface ChunkJob {
  readonly file: string;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly columns: readonly EdmColumn[];
  readonly key: Uint8Array;
  readonly today: number;
  readonly delimiter: string;
  /** The chunk starts at the file's first line (a header line may be there). */
  readonly first: boolean;
}

export interface ChunkResult {
  /** Per kind, (high, low, line) triples; lines count from the chunk's first line (1). */
  readonly lists: Record<EdmKind, Uint32Array>;
  readonly bad: BadRow[];
  readonly lines: number;
  readonly rows: number;
}

/** Reads one byte range of the roster into fingerprint triples (also run in edm/build-worker.ts). */
export async function buildChunk(job: ChunkJob): Promise<ChunkResult> {
  const key = Buffer.from(job.key);
  const today = new Date(job.today);
  const lists: Record<EdmKind, number[]> = { s: [], m: [], i: [], n: [] };
  const bad: BadRow[] = [];
  let rows = 0;
  let lineNo = 0;
  const { columns, delimiter } = job;
  if (job.end > job.start) {
    const lines = createInterface({ input: createReadStream(job.file, { encoding: 'utf8', start: job.start, end: job.end - 1 }), crlfDelay: Infinity });
    for await (const raw of lines) {
      lineNo++;
      const line = job.first && lineNo === 1 ? raw.replace(/^\ufeff/, '') : raw;
      if (line.trim() === '') continue;
      const cells = line.includes('"') ? splitRow(line, delimiter).cells : line.split(delimiter);
      if (job.first && lineNo === 1 && headerLike(cells, columns)) continue;
      if (cells.length < columns.length) {
        bad.push({ line: lineNo, reason: `${cells.length} of ${columns.length} columns` });
        continue;
      }
      const { keys, bad: wrong } = rowKeys(cells, columns, key, today);
      if (wrong.length > 0) bad.push({ line: lineNo, reason: `not usable: ${wrong.join(', ')}` });
      if (keys.length === 0) continue;
      rows++;
      for (const [kind, [hi, lo]] of keys) lists[kind].push(hi, lo, lineNo);
    }
  }
  return { lists: { s: Uint32Array.from(lists.s), m: Uint32Array.from(lists.m), i: Uint32Array.from(lists.i), n: Uint32Array.from(lists.n) }, bad, lines: lineNo, rows };
}

/** The worker's entry point beside this file once compiled; from sources (tsx, tests) the roster is read on this thread. */
function workerUrl(): URL | undefined {
  return compiledWorker(import.meta.url, './build-worker.js');
}

function inWorker(url: URL, job: ChunkJob): Promise<ChunkResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData: job });
    w.once('message', (r: ChunkResult) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => (code !== 0 ? reject(new Error(`edm build thread stopped (${code})`)) : undefined));
  });
}

/** Byte offsets that split the file into `n` ranges, each starting at a line start. */
function lineBoundaries(file: string, size: number, n: number): number[] {
  const cuts = [0];
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (let k = 1; k < n; k++) {
      let pos = Math.max(Math.floor((size * k) / n), cuts[cuts.length - 1] as number);
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, pos);
        if (got === 0) {
          pos = size;
          break;
        }
        const nl = buf.subarray(0, got).indexOf(10);
        if (nl !== -1) {
          pos += nl + 1;
          break;
        }
        pos += got;
      }
      cuts.push(pos);
    }
  } finally {
    closeSync(fd);
  }
  cuts.push(size);
  return cuts;
}

/** Rosters smaller than this are read on one thread. */
const PARALLEL_BYTES = 4 * 1024 * 1024;

/**
 * Reads the roster (CSV, comma or tab separated, an optional header line naming the columns) and
 * writes the EDM file. Bad lines are counted and named by number. Large rosters are read by
 * several threads (one per core, at most 8), each a range of lines.
 */
export async function buildEdm(input: string, columns: readonly EdmColumn[], key: FingerprintKey, out: string, today = new Date(), chunks?: number): Promise<EdmBuildResult> {
  const size = statSync(input).size;
  const head = readHead(input);
  const firstLine = head.split('\n', 1)[0] ?? '';
  const delimiter = firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
  const url = workerUrl();
  // `chunks` (tests): that many ranges, read on this thread when no worker file is at hand.
  const threads = chunks ?? (url && size >= PARALLEL_BYTES ? Math.min(8, availableParallelism()) : 1);
  const cuts = lineBoundaries(input, size, threads);
  const jobs: ChunkJob[] = cuts.slice(0, -1).map((start, k) => ({
    file: input,
    start,
    end: cuts[k + 1] as number,
    columns,
    key: new Uint8Array(key),
    today: today.getTime(),
    delimiter,
    first: k === 0,
  }));
  const results = await Promise.all(jobs.map((j) => (url && threads > 1 ? inWorker(url, j) : buildChunk(j))));
  const bad: BadRow[] = [];
  const parts: Record<EdmKind, Uint32Array[]> = { s: [], m: [], i: [], n: [] };
  let rows = 0;
  let base = 0;
  for (const r of results) {
    for (const b of r.bad) bad.push({ line: base + b.line, reason: b.reason });
    for (const kind of EDM_KINDS) {
      const t = r.lists[kind];
      for (let x = 2; x < t.length; x += 3) t[x] = (t[x] as number) + base;
      parts[kind].push(t);
    }
    rows += r.rows;
    base += r.lines;
  }
  const lists = Object.fromEntries(EDM_KINDS.map((k) => [k, concat(parts[k])])) as Record<EdmKind, Uint32Array>;
  const counts = { s: lists.s.length / 3, m: lists.m.length / 3, i: lists.i.length / 3, n: lists.n.length / 3 };
  const header: EdmHeader = { version: 1, keyId: edmKeyId(key), columns: [...columns], rows, badRows: bad.length, counts };
  const bytes = encode(header, lists);
  await writeFile(out, bytes, { mode: 0o600 });
  return { rows, badRows: bad, counts, bytes: bytes.length };
}

function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const got = readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, got).replace(/^\ufeff/, '');
  } finally {
    closeSync(fd);
  }
}

function concat(arrays: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function sortTriples(flat: Uint32Array): Uint32Array {
  const n = flat.length / 3;
  const hi = (i: number): number => flat[3 * i] as number;
  const lo = (i: number): number => flat[3 * i + 1] as number;
  // A native sort of (high half, index) pairs; runs with an equal high half (rare) by the low half.
  const packed = new BigUint64Array(n);
  for (let i = 0; i < n; i++) packed[i] = (BigInt(hi(i)) << 32n) | BigInt(i);
  packed.sort();
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = Number((packed[k] as bigint) & 0xffffffffn);
  for (let k = 1; k < n; k++) {
    let j = k;
    const x = order[j] as number;
    while (j > 0 && hi(order[j - 1] as number) === hi(x) && lo(order[j - 1] as number) > lo(x)) {
      order[j] = order[j - 1] as number;
      j--;
    }
    order[j] = x;
  }
  const out = new Uint32Array(flat.length);
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    out[3 * k] = hi(i);
    out[3 * k + 1] = lo(i);
    out[3 * k + 2] = flat[3 * i + 2] as number;
  }
  return out;
}

function encode(header: EdmHeader, lists: Record<EdmKind, Uint32Array>): Buffer {
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
  return parseEdm(readEdmFile(file), file, key);
}

/** The EDM file's bytes; a ScanError naming the file and the system's code when it cannot be read. */
export function readEdmFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ScanError('config', `${file}: cannot read the EDM file (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}

/**
 * A keyed digest of an EDM file's bytes (HMAC with the installation key): queue workers check
 * they load the very roster the coordinator was given, and the digest tells nothing of its content.
 */
export function edmDigest(buf: Uint8Array, key: FingerprintKey): string {
  return createHmac('sha256', key).update('phi-scan edm digest\0').update(buf).digest('hex').slice(0, 16);
}

/** The roster in `buf` (read from `file`, named in errors), checked to be built with `key`. */
export function parseEdm(buf: Buffer, file: string, key: FingerprintKey): Edm {
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
