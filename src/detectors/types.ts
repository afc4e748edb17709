import type { Verdict } from '../model/finding.js';

/** What a detector may know of the world: no clock of its own, so results are reproducible. */
export interface DetectorEnv {
  /** Dates after this are in the future (a birth date cannot be). */
  readonly today: Date;
}

/**
 * The code half of an identifier type: what data (a rule file) cannot express —
 * normalization, checksums and structure, masking.
 */
export interface Detector {
  readonly id: string;
  /** The canonical form compared, allowlisted and fingerprinted (separators stripped, case folded). */
  normalize(match: string, env?: DetectorEnv): string;
  /** Structural validation; an `invalid` verdict drops the candidate. */
  check(normalized: string, env: DetectorEnv): Verdict;
  /** What may be shown of the value (`match` as written, `normalized` as above). */
  mask(match: string, normalized: string): string;
  /** Values compared with the rule's allowlist (default: the normalized value), e.g. a HICN's SSN core. */
  allowKeys?(normalized: string): readonly string[];
  /**
   * Where a value may stand, with no label, in a short text that is written out (a subject, an
   * attachment or folder name): redaction only, never detection. A person's name in
   * "Referral - Rosalind Thistlewood" has no label, yet must not be written out.
   */
  findUnlabelled?(text: string): readonly { readonly start: number; readonly end: number }[];
}
