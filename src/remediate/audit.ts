/**
 * The remediation audit log: append-only JSONL, one entry a line, each chained to the one before
 * by an HMAC (keyed with a key derived from the fingerprint key), so an entry edited, deleted or
 * moved breaks the chain at that point, and rewriting the chain needs the key.
 *
 * An action is logged twice: an `intent` entry (synced to disk) before anything is sent, and its
 * outcome (`done`, `skipped`, `failed`) after. A run killed between the two leaves an intent
 * without outcome: the next `--apply` re-verifies that message and logs what it finds.
 * Entries carry places (source, mailbox, folder, locator), Message-IDs and finding fingerprints,
 * never a raw value.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import { z } from 'zod';
import { ScanError } from '../common/errors.js';

const ZERO = '0'.repeat(64);

export const EVENTS = ['start', 'intent', 'done', 'skipped', 'failed', 'end'] as const;
export type AuditEvent = (typeof EVENTS)[number];

const Place = z.strictObject({
  folder: z.string(),
  locator: z.string().optional(),
  /** IMAP: the folder's UIDVALIDITY and the message's UID there (undo needs both). */
  uidValidity: z.string().optional(),
  uid: z.number().int().optional(),
  /** Graph: the message id there, and its folder's id (a move gives the message a new id). */
  id: z.string().optional(),
  folderId: z.string().optional(),
  /** Archives: the copy written. */
  file: z.string().optional(),
});
export type Place = z.infer<typeof Place>;

const Body = z.strictObject({
  seq: z.number().int().positive(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string(),
  who: z.string(),
  /** One `remediate` invocation. */
  session: z.string(),
  event: z.enum(EVENTS),
  /** move, tag, delete; `undo-move`, `undo-tag` for an undo. */
  action: z.string().optional(),
  source: z.string().optional(),
  mailbox: z.string().optional(),
  messageId: z.string().optional(),
  from: Place.optional(),
  to: Place.optional(),
  keyword: z.string().optional(),
  fingerprints: z.array(z.string()).optional(),
  /** Why skipped or failed (never content), or what a start/end is about. */
  reason: z.string().optional(),
  /** The entry (seq) an outcome or an undo refers to. */
  refers: z.number().int().positive().optional(),
  counts: z.record(z.string(), z.number().int()).optional(),
});
export const AuditEntry = Body.extend({ hash: z.string().regex(/^[0-9a-f]{64}$/) });
export type AuditEntry = z.infer<typeof AuditEntry>;
export type AuditInput = Omit<z.infer<typeof Body>, 'seq' | 'prev' | 'at' | 'who' | 'session'>;

/** The log's own key: derived, so the fingerprint key itself is never used for two purposes. */
function logKey(key: Buffer): Buffer {
  return createHmac('sha256', key).update('phi-scan remediation audit log v1').digest();
}

function entryHash(k: Buffer, body: object): string {
  return createHmac('sha256', k).update(JSON.stringify(body)).digest('hex');
}

export function whoAmI(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (a container): the environment's name
  }
  return `${user}@${os.hostname()}`;
}

/** A logged entry as verification keeps it: without its fingerprints (a log of a large plan holds millions) and chain hashes. */
export type LoggedEntry = Omit<AuditEntry, 'fingerprints' | 'prev' | 'hash'>;

/** Problems listed at most (a log edited throughout would otherwise list one per line). */
const MAX_PROBLEMS = 100;

export interface VerifyResult {
  readonly ok: boolean;
  readonly entries: LoggedEntry[];
  /** What breaks the chain, by line: edited, deleted, reordered, not an entry. */
  readonly problems: string[];
  /** Intents with no outcome (a run killed mid-action): seq numbers. */
  readonly openIntents: number[];
  /** Sessions started and never ended (killed, or the log's tail removed). */
  readonly unendedSessions: string[];
  /** The last entry's seq and hash, which the next entry chains to. */
  readonly tip: { readonly seq: number; readonly hash: string };
}

/** Checks the log's chain line by line (read as a stream: a log is never held whole). */
export async function verifyLog(file: string, key: Buffer): Promise<VerifyResult> {
  const cannotRead = (err: unknown): ScanError => new ScanError('usage', `${file}: cannot read the audit log (${(err as { code?: string }).code ?? 'I/O error'})`);
  // readline does not pass on its input's errors: the file is opened (or refused) first.
  const stream = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    stream.destroy();
    throw cannotRead(err);
  }
  try {
    return await verifyLines(createInterface({ input: stream, crlfDelay: Infinity }), key);
  } catch (err) {
    throw err instanceof ScanError ? err : cannotRead(err);
  } finally {
    stream.destroy();
  }
}

async function verifyLines(lines: AsyncIterable<string>, key: Buffer): Promise<VerifyResult> {
  const k = logKey(key);
  const problems: string[] = [];
  let more = 0;
  const problem = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else more++;
  };
  const entries: LoggedEntry[] = [];
  let prev = ZERO;
  let seq = 0;
  let n = 0;
  for await (const line of lines) {
    n++;
    let parsed: AuditEntry;
    try {
      parsed = AuditEntry.parse(JSON.parse(line));
    } catch {
      problem(`line ${n}: not an audit entry (edited or truncated)`);
      continue;
    }
    const { hash, ...body } = parsed;
    if (entryHash(k, body) !== hash) problem(`line ${n} (entry ${parsed.seq}): its content does not match its hash (edited, or another key)`);
    if (parsed.seq !== seq + 1) problem(`line ${n}: entry ${parsed.seq} follows entry ${seq} (entries deleted or reordered)`);
    else if (parsed.prev !== prev) problem(`line ${n} (entry ${parsed.seq}): not chained to the entry before it (deleted, reordered or edited)`);
    prev = hash;
    seq = parsed.seq;
    const { fingerprints: _f, prev: _p, hash: _h, ...kept } = parsed;
    entries.push(kept);
  }
  if (more > 0) problems.push(`… and ${more} more problems`);
  const outcomes = new Set(entries.filter((e) => e.event !== 'intent' && e.refers !== undefined).map((e) => e.refers));
  const openIntents = entries.filter((e) => e.event === 'intent' && !outcomes.has(e.seq)).map((e) => e.seq);
  const started = new Set(entries.filter((e) => e.event === 'start').map((e) => e.session));
  for (const e of entries) if (e.event === 'end') started.delete(e.session);
  return { ok: problems.length === 0, entries, problems, openIntents, unendedSessions: [...started], tip: { seq, hash: prev } };
}

/** An open log to append to: refuses one whose chain is broken (it would hide the break). */
export class AuditLog {
  private readonly fd: number;
  private readonly k: Buffer;
  private prev: string;
  private seq: number;
  readonly session = randomBytes(8).toString('hex');
  readonly who = whoAmI();
  /** What the log held when opened (for resuming: done items, open intents). */
  readonly earlier: LoggedEntry[];

  private constructor(readonly file: string, key: Buffer, fd: number, earlier: LoggedEntry[], tip: { seq: number; hash: string }) {
    this.fd = fd;
    this.k = logKey(key);
    this.earlier = earlier;
    this.prev = tip.hash;
    this.seq = tip.seq;
  }

  static async open(file: string, key: Buffer): Promise<AuditLog> {
    let earlier: LoggedEntry[] = [];
    let tip = { seq: 0, hash: ZERO };
    if (existsSync(file)) {
      const v = await verifyLog(file, key);
      if (!v.ok) throw new ScanError('usage', `${file}: the audit log does not verify (${v.problems[0]}); it is not appended to: start a new log with --log`);
      earlier = v.entries;
      tip = v.tip;
    }
    let fd: number;
    try {
      fd = openSync(file, 'a', 0o600);
      fchmodSync(fd, 0o600);
    } catch (err) {
      throw new ScanError('usage', `${file}: cannot open the audit log (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
    return new AuditLog(file, key, fd, earlier, tip);
  }

  /** Appends one entry and syncs it to disk before returning: it is its seq. */
  append(input: AuditInput): number {
    const body = { seq: this.seq + 1, prev: this.prev, at: new Date().toISOString(), who: this.who, session: this.session, ...input };
    const checked = Body.parse(body);
    const hash = entryHash(this.k, checked);
    writeSync(this.fd, `${JSON.stringify({ ...checked, hash })}\n`);
    fsyncSync(this.fd);
    this.prev = hash;
    this.seq = checked.seq;
    return checked.seq;
  }

  close(): void {
    closeSync(this.fd);
  }
}
