/**
 * A remediation plan: what `remediate --apply` will act on, built from the state store's picture
 * and written as JSON for review before anything changes. It names each message by where it is
 * (source, mailbox, folder, locator) and what it holds by the keyed fingerprints of its findings:
 * never a raw value (subjects are the store's masked ones).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { JSONParser } from '@streamparser/json';
import { z } from 'zod';
import { ScanError } from '../common/errors.js';
import { ROSTER_SSN_RULE } from '../people/message.js';
import { remediationEntries } from '../report/picture.js';
import type { TextOutput } from '../sinks/output.js';
import type { StateDb } from '../state/store.js';

export const ACTIONS = ['move', 'tag', 'delete'] as const;
export type RemediationAction = (typeof ACTIONS)[number];
/** The quarantine folder (IMAP, Graph) when --to is not given. */
export const DEFAULT_QUARANTINE = 'PHI-Quarantine';
/** The IMAP keyword (RFC 3501 §2.3.2 flag-keyword) / Graph category set by `tag`. */
export const DEFAULT_KEYWORD = '$PHI';

export const PlanItem = z.strictObject({
  source: z.string().min(1),
  mailbox: z.string().min(1),
  folder: z.string(),
  /** The source's locator as stored: `FOLDER:UIDVALIDITY:UID` (IMAP), `FILE@OFFSET` (mbox), a file path (Maildir, EML), `graph:USER/ID`. */
  locator: z.string().min(1),
  messageId: z.string().min(1),
  maskedSubject: z.string().nullable(),
  categories: z.array(z.string()),
  /** Distinct keyed fingerprints of the findings: the message must still hold every one to be acted on. */
  fingerprints: z.array(z.string().min(1)).min(1),
  /** Some of them only the scan's roster finds (rule `edm-ssn`): re-verification needs `--edm`. */
  needsRoster: z.literal(true).optional(),
});
export type PlanItem = z.infer<typeof PlanItem>;

/** What a plan says besides its items: the action, where to, as of which run. */
export const PlanHeader = z.strictObject({
  type: z.literal('phi-scan-remediation-plan'),
  version: z.literal(1),
  createdAt: z.string(),
  /** The state run the picture was as of. */
  run: z.number().int().positive(),
  action: z.enum(ACTIONS),
  /** move: the quarantine folder (IMAP/Graph) or output folder (archives). */
  to: z.string().min(1).optional(),
  /** tag: the keyword or category. */
  keyword: z.string().min(1).optional(),
});
export type PlanHeader = z.infer<typeof PlanHeader>;

/** The plan file's whole shape (a plan is read and written item by item, never held whole). */
export const Plan = PlanHeader.extend({ items: z.array(PlanItem) });
export type Plan = z.infer<typeof Plan>;

/**
 * A plan file, checked whole, read again item by item each time `items()` is called: a plan of a
 * large archive lists millions of fingerprints (the 2 GB benchmark archive's counts: 2.9 GB as written),
 * more than a process may hold as one string.
 */
export interface PlanFile {
  readonly header: PlanHeader;
  /** Items in the plan (after the mailbox filter, if any). */
  readonly count: number;
  /** Of those, items with findings only the scan's roster finds (`needsRoster`). */
  readonly needsRoster: number;
  items(): AsyncIterable<PlanItem>;
}

/** RFC 3501 flag-keyword: an atom, no `\`, no specials. */
export function validKeyword(k: string): boolean {
  return /^[^\s(){%*"\\\]\x00-\x1f\x7f]+$/.test(k) && k.length <= 64;
}

export interface PlanOptions {
  readonly run: number;
  readonly action: RemediationAction;
  readonly mailboxes?: readonly string[];
  readonly to?: string;
  readonly keyword?: string;
  readonly now?: Date;
}

/** The plan's header for these options. */
export function planHeader(o: PlanOptions): PlanHeader {
  return {
    type: 'phi-scan-remediation-plan',
    version: 1,
    createdAt: (o.now ?? new Date()).toISOString(),
    run: o.run,
    action: o.action,
    ...(o.action === 'move' ? { to: o.to ?? DEFAULT_QUARANTINE } : {}),
    ...(o.action === 'tag' ? { keyword: o.keyword ?? DEFAULT_KEYWORD } : {}),
  };
}

/** The plan's items from the store's picture as of `run` (suppressions already applied to `db`, if any), one message at a time. */
export function* planItems(db: StateDb, o: PlanOptions): Generator<PlanItem> {
  // Each distinct fingerprint, and whether a finding of it is one only the roster finds.
  const findingsOf = db.prepare('SELECT fingerprint, max(rule = ?) AS roster FROM findings WHERE message = ? AND run_id = ? GROUP BY fingerprint');
  const only = o.mailboxes && o.mailboxes.length > 0 ? new Set(o.mailboxes) : undefined;
  for (const { row, message, run } of remediationEntries(db, o.run)) {
    if (only && !only.has(row.mailbox)) continue;
    const rows = findingsOf.all(ROSTER_SSN_RULE, message, run) as { fingerprint: string; roster: number }[];
    if (rows.length === 0) continue;
    const fingerprints = rows.map((r) => r.fingerprint).sort();
    yield {
      source: row.source,
      mailbox: row.mailbox,
      folder: row.folder,
      locator: row.locator,
      messageId: row.messageId,
      maskedSubject: row.maskedSubject,
      categories: [...row.categories],
      fingerprints,
      ...(rows.some((r) => r.roster === 1) ? { needsRoster: true as const } : {}),
    };
  }
}

/** Text written at once: a plan is written in pieces of about this many characters. */
const WRITE_PIECE = 1 << 16;

/** What a plan holds: items, and of those, items needing the scan's roster. */
export interface PlanTally {
  readonly count: number;
  readonly needsRoster: number;
}

/**
 * Writes a plan as `JSON.stringify(plan, null, 2)` would, an item at a time (for review: one key a
 * line); returns what it wrote.
 */
export async function writePlan(out: TextOutput, header: PlanHeader, items: Iterable<PlanItem>): Promise<PlanTally> {
  const head = JSON.stringify(header, null, 2);
  let text = `${head.slice(0, -2)},\n  "items": [`;
  let count = 0;
  let needsRoster = 0;
  for (const item of items) {
    text += `${count === 0 ? '' : ','}\n    ${JSON.stringify(item, null, 2).replaceAll('\n', '\n    ')}`;
    count++;
    if (item.needsRoster) needsRoster++;
    if (text.length >= WRITE_PIECE) {
      await out.write(text);
      text = '';
    }
  }
  await out.write(`${text}${count === 0 ? ']' : '\n  ]'}\n}\n`);
  return { count, needsRoster };
}

/** Where in a plan a problem is: `items.3.locator`, `run`, `(top level)`. */
function problems(error: z.ZodError, prefix: (string | number)[] = []): string[] {
  return error.issues.slice(0, 5).map((i) => `${[...prefix, ...i.path].join('.') || '(top level)'}: ${i.message}`);
}

/** A header field or an item, as a plan file is read. */
type PlanPiece = { readonly field: string; readonly value: unknown } | { readonly item: PlanItem };

const HEADER_FIELDS = Object.keys(PlanHeader.shape);
const READ_PIECE = 1 << 16;

/**
 * A plan file's header fields and items in file order, each item checked as it is read (a JSON
 * streaming parser: only the item being read is held). Unknown top-level fields are not read.
 */
async function* planPieces(file: string, fail: (why: string) => ScanError): AsyncGenerator<PlanPiece> {
  const parser = new JSONParser({ paths: [...HEADER_FIELDS.map((f) => `$.${f}`), '$.items.*'], keepStack: false });
  const ready: PlanPiece[] = [];
  let problem: string | undefined;
  parser.onValue = ({ value, key, stack }) => {
    if (problem !== undefined) return;
    if (stack.length === 1) ready.push({ field: String(key), value });
    else if (typeof key !== 'number') problem = 'not a remediation plan: items: expected an array';
    else {
      const r = PlanItem.safeParse(value);
      if (r.success) ready.push({ item: r.data });
      else problem = `not a remediation plan: ${problems(r.error, ['items', key]).join('; ')}`;
    }
  };
  parser.onError = () => (problem ??= 'not JSON');
  let stream: ReturnType<typeof createReadStream> | undefined;
  try {
    stream = createReadStream(file, { highWaterMark: READ_PIECE });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (parser.isEnded) {
        if (chunk.toString('latin1').trim() !== '') problem ??= 'not JSON';
      } else parser.write(chunk);
      if (problem !== undefined) throw fail(problem);
      yield* ready.splice(0);
    }
  } catch (err) {
    throw err instanceof ScanError ? err : fail(`cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  } finally {
    stream?.destroy();
  }
  if (!parser.isEnded) throw fail('not JSON');
}

const failFor =
  (file: string) =>
  (why: string): ScanError =>
    new ScanError('usage', `--plan ${file}: ${why}`);

/** What tells a file changed: its size, modification time and inode. */
async function identityOf(file: string, fail: (why: string) => ScanError): Promise<string> {
  try {
    const st = await stat(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch (err) {
    throw fail(`cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}

/** The plan in `file`, as `identity`: its items read from it each time, refused once it changed. */
function planFile(file: string, header: PlanHeader, tally: PlanTally, wanted: (item: PlanItem) => boolean, identity: string): PlanFile {
  const fail = failFor(file);
  return {
    header,
    ...tally,
    async *items(): AsyncGenerator<PlanItem> {
      if ((await identityOf(file, fail)) !== identity) throw fail('changed since it was checked: nothing more is acted on');
      for await (const piece of planPieces(file, fail)) if ('item' in piece && wanted(piece.item)) yield piece.item;
    },
  };
}

/**
 * Reads a plan file once through, checking every item and the header, and keeps only what
 * identifies it; `items()` reads it again (refused if the file changed in between).
 */
export async function openPlan(file: string, mailboxes?: readonly string[]): Promise<PlanFile> {
  const only = mailboxes && mailboxes.length > 0 ? new Set(mailboxes) : undefined;
  const wanted = (item: PlanItem): boolean => !only || only.has(item.mailbox);
  const fail = failFor(file);
  const identity = await identityOf(file, fail);
  const head: Record<string, unknown> = {};
  let count = 0;
  let needsRoster = 0;
  for await (const piece of planPieces(file, fail)) {
    if (!('item' in piece)) head[piece.field] = piece.value;
    else if (wanted(piece.item)) {
      count++;
      if (piece.item.needsRoster) needsRoster++;
    }
  }
  const parsed = PlanHeader.safeParse(head);
  if (!parsed.success) throw fail(`not a remediation plan: ${problems(parsed.error).join('; ')}`);
  const header = parsed.data;
  if (header.keyword !== undefined && !validKeyword(header.keyword)) throw fail('keyword is not an IMAP keyword atom');
  return planFile(file, header, { count, needsRoster }, wanted, identity);
}

/** A plan this process has just written (writePlan): not read through again to be checked; its items are checked as they are read. */
export async function writtenPlan(file: string, header: PlanHeader, tally: PlanTally): Promise<PlanFile> {
  return planFile(file, header, tally, () => true, await identityOf(file, failFor(file)));
}

/** The item's identity in the audit log: one message at one place. */
export function itemKey(i: Pick<PlanItem, 'source' | 'mailbox' | 'locator'>): string {
  return `${i.source}\u0000${i.mailbox}\u0000${i.locator}`;
}

/** `FOLDER:UIDVALIDITY:UID` (the IMAP source's locator); the folder may itself hold ':'. */
export function parseImapLocator(locator: string): { folder: string; uidValidity: string; uid: number } | undefined {
  const m = /^(.*):(\d+):(\d+)$/s.exec(locator);
  if (!m) return undefined;
  return { folder: m[1] as string, uidValidity: m[2] as string, uid: Number(m[3]) };
}
