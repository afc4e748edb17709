/**
 * What the pipeline tells the sinks, and the JSONL record shapes of CONTRACT.md.
 * Field names and order are fixed by the contract; sinks may add fields, never rename.
 * In model/ because the pipeline, the sinks and the state store all speak it (sinks/types.ts re-exports it).
 */
import type { Category, Confidence, Finding } from './finding.js';
import type { Problem, ProblemCode, Severity } from './problem.js';

/** What scanning one message gives (pipeline/scan-message.ts): masked values and fingerprints only. */
export interface MessageOutcome {
  readonly messageId: string;
  readonly date: string | null;
  /** The subject with every candidate identifier masked; null when the message has none. */
  readonly maskedSubject: string | null;
  /** At or above the threshold, one per location, rule and value; in order of appearance. */
  readonly findings: Finding[];
  readonly problems: Problem[];
  /** The people the message is about, as records of keyed fingerprints (people/records.ts); when asked for. */
  readonly people?: PersonRecord[];
}

/** One person seen in a message: the keyed fingerprints that identify them together (never a value). */
export interface PersonRecord {
  readonly keys: string[];
}

export interface MessageContext {
  readonly source: string;
  readonly mailbox: string;
  readonly folder: string;
  /** Where to find it again: file path, `path@offset` for mbox. Never content. */
  readonly locator: string;
}

export interface FindingRecord {
  type: 'finding';
  source: string;
  mailbox: string;
  folder: string;
  messageId: string;
  location: string;
  rule: string;
  category: Category;
  confidence: Confidence;
  masked: string;
  fingerprint: string;
  /** The patient roster line the value matched (`scan --edm`); absent otherwise. */
  rosterRow?: number;
}

export interface MessageRecord {
  type: 'message';
  source: string;
  mailbox: string;
  folder: string;
  messageId: string;
  date: string | null;
  categories: Category[];
  findings: number;
}

export interface MailboxRecord {
  type: 'mailbox';
  source: string;
  mailbox: string;
  messages: number;
  messagesWithPhi: number;
  /** Number of findings per category (only categories that occur). */
  byCategory: Partial<Record<Category, number>>;
  /** `error` records of severity `failed` (they make the scan incomplete). */
  errors: number;
  /** `error` records of severity `skipped`: items not read by design (model/problem.ts). */
  skipped: number;
  /** Present (true) when the run stopped before this mailbox was read to its end. */
  interrupted?: true;
}

export interface ErrorRecord {
  type: 'error';
  source: string;
  mailbox?: string;
  folder?: string;
  messageId?: string;
  location?: string;
  error: string;
  code: ProblemCode;
  severity: Severity;
}

/** How a run ended: `incomplete` some item failed (or, with --strict, was skipped); `interrupted` it stopped early. */
export type RunStatus = 'complete' | 'incomplete' | 'interrupted';
/** Why an interrupted run stopped: SIGINT/SIGTERM, or the reader of its output went away. */
export type StopReason = 'signal' | 'output-closed';

/** The last JSONL record of every run: its outcome, so a consumer can tell a finished report from a cut one. */
export interface RunRecord {
  type: 'run';
  status: RunStatus;
  stoppedBy?: StopReason;
  startedAt: string;
  finishedAt: string;
  messages: number;
  messagesWithPhi: number;
  errors: number;
  skipped: number;
  strict: boolean;
}

export type ScanEvent =
  | { readonly type: 'message'; readonly context: MessageContext; readonly outcome: MessageOutcome }
  | { readonly type: 'error'; readonly record: ErrorRecord }
  | { readonly type: 'mailbox'; readonly record: MailboxRecord };

export interface ScanSummary {
  readonly sources: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly minConfidence: Confidence;
  readonly mailboxes: readonly MailboxRecord[];
  readonly messages: number;
  readonly messagesWithPhi: number;
  /** `failed` error records. */
  readonly errors: number;
  /** `skipped` error records (not read by design). */
  readonly skipped: number;
  readonly bytes: number;
  /** `--strict`: skipped items make the run incomplete too. */
  readonly strict: boolean;
  readonly status: RunStatus;
  readonly stoppedBy?: StopReason;
}

export function runRecord(summary: ScanSummary): RunRecord {
  return {
    type: 'run',
    status: summary.status,
    stoppedBy: summary.stoppedBy, // only when stopped: JSON leaves an undefined field out
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    messages: summary.messages,
    messagesWithPhi: summary.messagesWithPhi,
    errors: summary.errors,
    skipped: summary.skipped,
    strict: summary.strict,
  };
}

/** A report format or any other consumer of scan events (state store, remediation list). */
export interface Sink {
  write(event: ScanEvent): Promise<void> | void;
  close(summary: ScanSummary): Promise<void>;
}

/** A finding record in the contract's field order. */
export function findingRecord(context: MessageContext, messageId: string, f: Finding): FindingRecord {
  return {
    type: 'finding',
    source: context.source,
    mailbox: context.mailbox,
    folder: context.folder,
    messageId,
    location: f.location,
    rule: f.rule,
    category: f.category,
    confidence: f.confidence,
    masked: f.masked,
    fingerprint: f.fingerprint,
    rosterRow: f.rosterRow, // only with --edm (JSON leaves an undefined field out)
  };
}

export function messageRecord(context: MessageContext, outcome: MessageOutcome): MessageRecord {
  return {
    type: 'message',
    source: context.source,
    mailbox: context.mailbox,
    folder: context.folder,
    messageId: outcome.messageId,
    date: outcome.date,
    categories: [...new Set(outcome.findings.map((f) => f.category))].sort(),
    findings: outcome.findings.length,
  };
}
