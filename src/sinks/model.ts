/**
 * The one report model every format (table, json, csv, html) is rendered from, so the same
 * question gets the same answer whichever format asks it. It is built from the state store
 * (state/picture.ts `reportModel`) for one of two scopes, always named in the output:
 * - `run`: the messages one run scanned (what `scan --format …` shows);
 * - `picture`: the store's current picture, each message's latest scan (what `report` and
 *   `scan --config` outputs show).
 * Counts only and masked values: nothing here holds an identifier.
 */
import type { Category, Confidence } from '../model/finding.js';
import type { ProblemCode } from '../model/problem.js';
import type { ErrorRecord } from './types.js';

export type ReportScope = { readonly kind: 'run'; readonly run: number } | { readonly kind: 'picture'; readonly asOf?: number };

/** HHS breach notification: 500 or more individuals (45 CFR 164.408(b)). */
export const HHS_THRESHOLD = 500;

/** Categories in the order that matters to a reader: identifiers first, then dates, then health terms. */
export const REPORT_CATEGORY_ORDER: readonly Category[] = [
  'ssn',
  'medicare-id',
  'insurance',
  'medical-record-number',
  'date-of-birth',
  'date-of-death',
  'health-condition',
];

export const CATEGORY_LABELS: Record<Category, string> = {
  ssn: 'Social Security number',
  'medicare-id': 'Medicare ID',
  insurance: 'Insurance member ID',
  'medical-record-number': 'Medical record number',
  'date-of-birth': 'Date of birth',
  'date-of-death': 'Date of death',
  'health-condition': 'Health condition',
};

/** Short column headings for narrow tables. */
export const CATEGORY_SHORT: Record<Category, string> = {
  ssn: 'SSN',
  'medicare-id': 'Medicare',
  insurance: 'Insurance',
  'medical-record-number': 'MRN',
  'date-of-birth': 'DOB',
  'date-of-death': 'DOD',
  'health-condition': 'Health',
};

export type Action = 'secure-portal-and-delete' | 'delete' | 'review';
export const ACTIONS: readonly Action[] = ['secure-portal-and-delete', 'delete', 'review'];
export const ACTION_LABELS: Record<Action, string> = {
  'secure-portal-and-delete': 'Move to the secure portal, then delete from mail',
  delete: 'Delete from mail',
  review: 'Review (dates or health terms only)',
};

export const ACTION_SHORT: Record<Action, string> = {
  'secure-portal-and-delete': 'Portal, then delete',
  delete: 'Delete',
  review: 'Review',
};

/** Categories in REPORT_CATEGORY_ORDER. */
export function ordered(categories: readonly Category[]): Category[] {
  return REPORT_CATEGORY_ORDER.filter((c) => categories.includes(c));
}

/**
 * Whether an unread item was left unread on purpose (a limit, an encrypted or image-only file,
 * an attachment type with no text) or failed (the item, folder or source could not be read).
 * Both leave the picture incomplete; only the second is something to fix.
 */
export type ErrorKind = 'failed' | 'not-read-by-design';
const BY_DESIGN: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'oversize',
  'attachment-limit',
  'nesting-too-deep',
  'unsupported-attachment',
  'encrypted',
  'no-text',
]);
export function errorKind(code: ProblemCode | string): ErrorKind {
  return BY_DESIGN.has(code as ProblemCode) ? 'not-read-by-design' : 'failed';
}

export interface MailboxSummary {
  readonly source: string;
  readonly mailbox: string;
  readonly messages: number;
  readonly messagesWithPhi: number;
  /** Findings per category (only categories that occur). */
  readonly byCategory: Partial<Record<Category, number>>;
  readonly errors: number;
  /** Distinct direct identifiers (SSN, Medicare ID, member ID). */
  readonly individuals: number;
  /** Distinct dates of birth in messages without a direct identifier (an estimate). */
  readonly dobOnlyIndividuals: number;
  readonly estimatedIndividuals: number;
  /** At or over the HHS 500-individual threshold. */
  readonly overThreshold: boolean;
  /** Messages holding PHI per recommended action. */
  readonly actions: Record<Action, number>;
}

export interface RunSummary {
  readonly id: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly status: string;
  readonly sources: string[];
  readonly sinceLast: boolean;
  readonly minConfidence: string;
  readonly messages: number | null;
  readonly messagesWithPhi: number | null;
  readonly errors: number | null;
}

export interface Completeness {
  /** True when nothing was left unread and no run in scope was interrupted. */
  readonly complete: boolean;
  readonly errors: number;
  readonly failed: number;
  readonly notReadByDesign: number;
  /** Error records per code, most first. */
  readonly byCode: readonly { readonly code: string; readonly kind: ErrorKind; readonly count: number }[];
  /** The first error records (context and reason, never content). */
  readonly firstErrors: readonly ErrorRecord[];
  /** Runs that never finished (killed, aborted) whose messages are in scope, or after the last finished run. */
  readonly interruptedRuns: readonly { readonly id: number; readonly startedAt: string; readonly status: string }[];
  /** The confidence threshold(s) of the runs the figures come from (more than one: mixed). */
  readonly minConfidence: readonly string[];
}

export interface TrendPoint {
  readonly run: number;
  /** When the run started (ISO). */
  readonly date: string;
  readonly messages: number;
  readonly messagesWithPhi: number;
}

export interface ReportModel {
  readonly scope: ReportScope;
  /** The run the figures are as of (picture) or of (run); undefined: an empty store. */
  readonly run: number | undefined;
  /** "Run #7 (2026-12-06 02:30 UTC): the messages it scanned" / "State picture as of run #7 …". */
  readonly title: string;
  readonly generatedAt: string;
  readonly totals: {
    readonly mailboxes: number;
    readonly mailboxesWithPhi: number;
    readonly messages: number;
    readonly messagesWithPhi: number;
    readonly findings: number;
    readonly individuals: number;
    readonly dobOnlyIndividuals: number;
    readonly estimatedIndividuals: number;
    readonly mailboxesOverThreshold: number;
  };
  /** Findings and messages per category, in REPORT_CATEGORY_ORDER, only those that occur. */
  readonly categories: readonly { readonly category: Category; readonly label: string; readonly findings: number; readonly messages: number }[];
  /** Messages holding PHI per recommended action, and how many mailboxes (owners) have some. */
  readonly actions: readonly { readonly action: Action; readonly label: string; readonly messages: number; readonly owners: number }[];
  /** Ranked by exposure: most individuals, then most messages with PHI. */
  readonly mailboxes: readonly MailboxSummary[];
  readonly completeness: Completeness;
  readonly runs: readonly RunSummary[];
  /** Messages known and holding PHI after each of the last runs (state picture). */
  readonly trend: readonly TrendPoint[];
}

/** One message holding PHI: what its owner acts on. */
export interface RemediationRow {
  readonly source: string;
  readonly mailbox: string;
  readonly folder: string;
  readonly date: string | null;
  readonly messageId: string;
  readonly maskedSubject: string | null;
  readonly categories: Category[];
  readonly findings: number;
  readonly individuals: number;
  readonly action: Action;
  readonly locator: string;
}

/** A finding of a message in the json report; score, part and why only when the scan that made it is this process. */
export interface FindingDetail {
  readonly location: string;
  readonly rule: string;
  readonly category: Category;
  readonly confidence: Confidence;
  readonly masked: string;
  readonly fingerprint: string;
  readonly part?: string;
  readonly score?: number;
  readonly why?: unknown;
}

/** "1 message", "2 messages"; irregular plurals given. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** `2019-03-02T10:11:12.000Z` → `2019-03-02 10:11 UTC`; anything else as it is. */
export function readableDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '-';
  const p = (100 * part) / whole;
  return p > 0 && p < 1 ? '<1%' : `${Math.round(p)}%`;
}

/** The one-sentence state of completeness every format prints. */
export function completenessSentence(c: Completeness): string {
  if (c.complete) return `Complete: every message in scope was read, at ${c.minConfidence.join('/')} confidence or above.`;
  const parts: string[] = [];
  if (c.failed > 0) parts.push(`${plural(c.failed, 'item')} failed to read`);
  if (c.notReadByDesign > 0) parts.push(`${plural(c.notReadByDesign, 'item')} not read by design (limits, encrypted or image-only files)`);
  if (c.interruptedRuns.length > 0) parts.push(`${plural(c.interruptedRuns.length, 'run')} interrupted (#${c.interruptedRuns.map((r) => r.id).join(', #')})`);
  const mixed = c.minConfidence.length > 1 ? `; runs used different thresholds (${c.minConfidence.join(', ')})` : '';
  return `Incomplete: ${parts.join('; ')}${mixed}.`;
}
