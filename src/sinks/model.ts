/**
 * The one report model every format (table, json, csv, html) is rendered from, so the same
 * question gets the same answer whichever format asks it. It is built from the state store
 * (report/picture.ts `reportModel`) for one of two scopes, always named in the output:
 * - `run`: the messages one run scanned (what `scan --format …` shows);
 * - `picture`: the store's current picture, each message's latest scan (what `report` and
 *   `scan --config` outputs show).
 * Counts only and masked values: nothing here holds an identifier.
 */
import { CATEGORIES, type Category, type Confidence } from '../model/finding.js';
import { CATEGORY_FACTS } from '../people/facts.js';
import type { PeopleExplanation, PeopleParts } from '../people/count.js';
import { SKIPPED_DESCRIPTION, type Severity } from '../model/problem.js';
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

/** Headings of the categories, from the one table of category facts (people/facts.ts). */
export const CATEGORY_LABELS = Object.fromEntries(CATEGORIES.map((c) => [c, CATEGORY_FACTS[c].label])) as Record<Category, string>;

/** Short column headings for narrow tables. */
export const CATEGORY_SHORT = Object.fromEntries(CATEGORIES.map((c) => [c, CATEGORY_FACTS[c].short])) as Record<Category, string>;

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
 * The run a picture is as of (or a run's own view) when it did not end normally: `interrupted`
 * (SIGINT/SIGTERM, or its output was closed: `stoppedBy`) or `unfinished` (still running, or
 * killed). Also the last record of `report --format jsonl` for such a picture.
 */
export interface UnfinishedRun {
  readonly type: 'run';
  readonly run: number;
  readonly status: 'interrupted' | 'unfinished';
  readonly stoppedBy?: 'signal' | 'output-closed';
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/**
 * What only the scan that renders a report knows (not in the state store): `--strict`, and the
 * mailboxes it stopped in before their end (marked `*` in the table). A report from the store
 * alone (`phi-scan report`) has neither.
 */
export interface ScanFacts {
  readonly strict?: boolean;
  /** Mailboxes the run stopped in before their end, as `source\0mailbox`. */
  readonly partlyRead?: ReadonlySet<string>;
  /** The scan's ignore file and the findings it dropped before storing them (so the store cannot count them). */
  readonly suppressed?: { readonly file: string; readonly findings: number };
}

export interface MailboxSummary {
  readonly source: string;
  readonly mailbox: string;
  readonly messages: number;
  readonly messagesWithPhi: number;
  /** Findings per category (only categories that occur). */
  readonly byCategory: Partial<Record<Category, number>>;
  /** Items that failed (severity `failed`, model/problem.ts): the `errors` of the mailbox record. */
  readonly errors: number;
  /** Items not read by design (severity `skipped`). */
  readonly skipped: number;
  /** Present (true) when the run stopped before this mailbox was read to its end. */
  readonly interrupted?: true;
  /** People (clusters of records linked by shared identifiers, people/count.ts): roster + direct + nameDob. */
  readonly individuals: number;
  /** Distinct dates of birth of records with nothing else, not seen with a counted person (an estimate). */
  readonly dobOnlyIndividuals: number;
  readonly estimatedIndividuals: number;
  /** At or over the HHS 500-individual threshold. */
  readonly overThreshold: boolean;
  /** The parts the count is made of. */
  readonly people: PeopleParts;
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
  /**
   * True when no item failed, no run in scope was interrupted and one threshold was used; items
   * not read by design (`skipped`) leave it complete unless `strict` (CONTRACT.md exit status).
   */
  readonly complete: boolean;
  /** Items that failed (severity `failed`), as `errors` counts in every record. */
  readonly errors: number;
  /** Items not read by design (severity `skipped`). */
  readonly skipped: number;
  /** `--strict` (known to the scan that renders; false for a report from the store). */
  readonly strict: boolean;
  /** Error records per code, most first, each with its severity (model/problem.ts severityOf). */
  readonly byCode: readonly { readonly code: string; readonly severity: Severity; readonly count: number }[];
  /** The first error records, failed before skipped (context and reason, never content). */
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

/**
 * Remediation progress of one mailbox (its owner acts on it), from the latest scans, the messages
 * full scans no longer found (`gone`) and what `remediate --apply` did. Also the record
 * `remediation-status` of `remediate --status`.
 */
export interface RemediationStatus {
  readonly type: 'remediation-status';
  readonly source: string;
  readonly mailbox: string;
  /** Holding PHI as of the latest scan, not acted on. */
  readonly remaining: number;
  /** Holding PHI as of the latest scan, moved or deleted by remediate (the next full scan confirms). */
  readonly quarantined: number;
  /** Tagged only (still in place). */
  readonly tagged: number;
  /** Held PHI once; now gone from its folder or scanned again without PHI. */
  readonly resolved: number;
}

export interface ReportModel {
  readonly scope: ReportScope;
  /** The scope's run when it was interrupted or never finished: the figures hold only what it read. */
  readonly interrupted: UnfinishedRun | undefined;
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
    /** Tenant-wide parts: each person counted once across mailboxes and sources. */
    readonly people: PeopleParts;
    /** The tenant-wide estimate is at or over the HHS threshold. */
    readonly overThreshold: boolean;
    /** How the tenant-wide count was made (clusters, what linked them): counts only. */
    readonly explanation: PeopleExplanation;
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
  /**
   * Remediation progress per mailbox (owner), in the current picture once anything was acted on
   * or found gone; absent otherwise (and for a run's scope or a past picture).
   */
  readonly remediation?: readonly RemediationStatus[];
  /**
   * When an ignore file was applied (`--ignore-file`, or ./.phi-scanignore): the findings of this
   * scope it left out of every figure above, and the file. Absent when none was.
   */
  readonly suppressed?: { readonly file: string; readonly findings: number };
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
  /**
   * Where remediation stands for this message (the per-message side of `RemediationStatus`):
   * `quarantined` (moved or deleted by `remediate --apply`, not yet confirmed gone by a scan),
   * `tagged` (tagged only), else `remaining`.
   */
  readonly remediation: RemediationState;
}

export type RemediationState = 'remaining' | 'quarantined' | 'tagged';

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

/**
 * The people line every format prints: the tenant-wide estimate (each person once across
 * mailboxes), its parts, and the HHS flag on that number.
 */
export function peopleSentence(t: ReportModel['totals']): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const parts: string[] = [];
  if (t.people.roster > 0) parts.push(`${n(t.people.roster)} on the patient roster`);
  parts.push(`${n(t.people.direct)} by SSN, Medicare ID or member ID`);
  if (t.people.nameDob > 0) parts.push(`${n(t.people.nameDob)} by name and date of birth`);
  if (t.dobOnlyIndividuals > 0) parts.push(`${n(t.dobOnlyIndividuals)} by date of birth only`);
  return `People: ${plural(t.estimatedIndividuals, 'individual')} (estimate, each counted once across mailboxes): ${parts.join(', ')}.`;
}

/** The HHS line: the tenant-wide number against the threshold, then how many mailboxes reach it alone. */
export function thresholdSentence(t: ReportModel['totals']): string {
  return (
    `All mailboxes together: ${t.overThreshold ? 'at or over' : 'below'} the HHS ${HHS_THRESHOLD}-individual threshold; ` +
    `${plural(t.mailboxesOverThreshold, 'mailbox', 'mailboxes')} at or over it alone`
  );
}

/** The one-sentence state of completeness every format prints. */
/** The note of an applied ignore file, the same words in the table and the page. */
export function suppressedSentence(s: { readonly file: string; readonly findings: number }): string {
  return `Reviewed and suppressed: ${plural(s.findings, 'finding')} listed in ${s.file} ${s.findings === 1 ? 'is' : 'are'} left out of these figures.`;
}

export function completenessSentence(c: Completeness): string {
  if (c.complete) return `Complete: every message in scope was read, at ${c.minConfidence.join('/')} confidence or above.`;
  const parts: string[] = [];
  if (c.errors > 0) parts.push(`${plural(c.errors, 'item')} failed to read`);
  if (c.strict && c.skipped > 0) parts.push(`${plural(c.skipped, 'item')} not read by design, with --strict`);
  if (c.interruptedRuns.length > 0) parts.push(`${plural(c.interruptedRuns.length, 'run')} interrupted (#${c.interruptedRuns.map((r) => r.id).join(', #')})`);
  const mixed = c.minConfidence.length > 1 ? `; runs used different thresholds (${c.minConfidence.join(', ')})` : '';
  return `Incomplete: ${parts.join('; ')}${mixed}.`;
}

/** The line on items not read by design every format prints when there are some. */
export function skippedSentence(c: Completeness): string {
  return (
    `${plural(c.skipped, 'item')} ${SKIPPED_DESCRIPTION}` +
    (c.strict ? ': with --strict, the scan is incomplete.' : '; not an error (--strict makes them one).')
  );
}

/**
 * The banner of an interrupted or unfinished run, the same words in every format and scope (the
 * scan's own outputs and `report`); `marked`: the output marks partly read mailboxes with *.
 */
export function interruptedSentence(u: UnfinishedRun, marked = false): string {
  if (u.status === 'unfinished') {
    return `UNFINISHED: run #${u.run} has not finished (still running, or killed): these figures hold only what it read. Run phi-scan scan --since-last to finish it.`;
  }
  const why = u.stoppedBy === 'output-closed' ? 'its output was closed' : 'SIGINT/SIGTERM';
  return (
    `INTERRUPTED: the scan was stopped (${why}) before it ended (run #${u.run}); these figures hold only what it read` +
    `${marked ? ' (mailboxes marked * were partly read)' : ''}. Run it again with --since-last to finish.`
  );
}

/** One mailbox's remediation progress in words (table and html say the same). */
export function remediationSentence(r: RemediationStatus): string {
  return `${r.remaining} remaining, ${r.quarantined} quarantined, ${r.tagged} tagged, ${r.resolved} resolved`;
}
