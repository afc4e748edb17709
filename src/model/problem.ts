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
