/** Closed set of problem codes: every `error` record carries one. */
export type ProblemCode =
  | 'parse-failed'
  | 'oversize'
  | 'read-failed'
  | 'source-failed'
  | 'nesting-too-deep'
  | 'unsupported-attachment'
  | 'auth-failed'
  | 'mailbox-unavailable'
  // A queue job that failed on every attempt (scan --queue): its units were not scanned.
  | 'job-failed';

/** Something that could not be read. Carries context, never content. */
export interface Problem {
  readonly code: ProblemCode;
  /** One line for a person; must not contain message text or identifier values. */
  readonly message: string;
  readonly location?: string;
}
