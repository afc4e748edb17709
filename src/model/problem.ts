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
