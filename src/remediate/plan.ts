/**
 * A remediation plan: what `remediate --apply` will act on, built from the state store's picture
 * and written as JSON for review before anything changes. It names each message by where it is
 * (source, mailbox, folder, locator) and what it holds by the keyed fingerprints of its findings:
 * never a raw value (subjects are the store's masked ones).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ScanError } from '../common/errors.js';
import { messageFindings, remediationEntries } from '../report/picture.js';
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
});
export type PlanItem = z.infer<typeof PlanItem>;

export const Plan = z.strictObject({
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
  items: z.array(PlanItem),
});
export type Plan = z.infer<typeof Plan>;

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

/** The plan from the store's picture as of `run` (suppressions already applied to `db`, if any). */
export function buildPlan(db: StateDb, o: PlanOptions): Plan {
  const findingsOf = messageFindings(db);
  const only = o.mailboxes && o.mailboxes.length > 0 ? new Set(o.mailboxes) : undefined;
  const items: PlanItem[] = [];
  for (const { row, message, run } of remediationEntries(db, o.run)) {
    if (only && !only.has(row.mailbox)) continue;
    const fingerprints = [...new Set(findingsOf(message, run).map((f) => f.fingerprint))].sort();
    if (fingerprints.length === 0) continue;
    items.push({
      source: row.source,
      mailbox: row.mailbox,
      folder: row.folder,
      locator: row.locator,
      messageId: row.messageId,
      maskedSubject: row.maskedSubject,
      categories: [...row.categories],
      fingerprints,
    });
  }
  return {
    type: 'phi-scan-remediation-plan',
    version: 1,
    createdAt: (o.now ?? new Date()).toISOString(),
    run: o.run,
    action: o.action,
    ...(o.action === 'move' ? { to: o.to ?? DEFAULT_QUARANTINE } : {}),
    ...(o.action === 'tag' ? { keyword: o.keyword ?? DEFAULT_KEYWORD } : {}),
    items,
  };
}

export async function readPlan(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScanError('usage', `--plan ${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ScanError('usage', `--plan ${file}: not JSON`);
  }
  const parsed = Plan.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ScanError('usage', `--plan ${file}: not a remediation plan: ${issues.join('; ')}`);
  }
  if (parsed.data.keyword !== undefined && !validKeyword(parsed.data.keyword)) throw new ScanError('usage', `--plan ${file}: keyword is not an IMAP keyword atom`);
  return parsed.data;
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
