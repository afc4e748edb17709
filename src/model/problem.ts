/** Closed set of problem codes: every `error` record carries one. */
export type ProblemCode =
  | 'parse-failed'
  | 'oversize'
  | 'read-failed'
  | 'source-failed'
  | 'nesting-too-deep'
  | 'unsupported-attachment'
  | 'encrypted' // password-protected PDF, ZIP entry, Office file: no text extracted
  | 'no-text' // an image, or PDF pages without a text layer
  | 'corrupt-attachment' // truncated or malformed document or archive
  | 'attachment-limit' // over a size, ratio, entry, page, text or time limit
  | 'auth-failed'
  | 'mailbox-unavailable'
  | 'pst-corrupt' // a PST/OST that is truncated, damaged or not a PST at all
  // A queue job that failed on every attempt (scan --queue): its units were not scanned.
  | 'job-failed'
  // A message whose scan ran past --message-timeout (its worker thread was stopped).
  | 'timeout'
  // The worker thread scanning a message died (out of memory, crash).
  | 'scan-failed';

/** Something that could not be read. Carries context, never content. */
export interface Problem {
  readonly code: ProblemCode;
  /** One line for a person; must not contain message text or identifier values. */
  readonly message: string;
  readonly location?: string;
}

/**
 * How much a problem weighs. `skipped`: an item this version does not read by design (an image
 * or a PDF page without a text layer, no OCR; a legacy binary Office file; an attachment type
 * it has no reader for): reported and counted, but the scan is complete without it (unless
 * `--strict`). `failed`: something that should have been read and was not (corrupt, encrypted,
 * over a limit, timed out, a source that could not be opened): the scan is incomplete (exit 3).
 */
export type Severity = 'skipped' | 'failed';

/** The one classification of problem codes, used by the exit code, every report and `report`. */
export const SEVERITY: Readonly<Record<ProblemCode, Severity>> = {
  'no-text': 'skipped',
  'unsupported-attachment': 'skipped',
  'parse-failed': 'failed',
  oversize: 'failed',
  'read-failed': 'failed',
  'source-failed': 'failed',
  'nesting-too-deep': 'failed',
  encrypted: 'failed',
  'corrupt-attachment': 'failed',
  'attachment-limit': 'failed',
  'auth-failed': 'failed',
  'mailbox-unavailable': 'failed',
  'pst-corrupt': 'failed',
  'job-failed': 'failed',
  timeout: 'failed',
  'scan-failed': 'failed',
};

/** A code read back from the state store or a queue may be one this version does not know: a failure. */
export function severityOf(code: string): Severity {
  return Object.hasOwn(SEVERITY, code) ? SEVERITY[code as ProblemCode] : 'failed';
}

/** What not-read-by-design items are, in the words the reports use. */
export const SKIPPED_DESCRIPTION = 'not read by design (images and PDF pages without text, legacy .doc/.xls/.ppt, other unsupported attachment types)';
