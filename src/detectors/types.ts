import type { Verdict } from '../model/finding.js';

/**
 * The code half of an identifier type: what data (a rule file) cannot express —
 * normalization, checksums and structure, masking.
 */
export interface Detector {
  readonly id: string;
  /** The canonical form compared, allowlisted and fingerprinted (separators stripped, case folded). */
  normalize(match: string): string;
  /** Structural validation; an `invalid` verdict drops the candidate. */
  check(normalized: string): Verdict;
  /** What may be shown of the value (`match` as written, `normalized` as above). */
  mask(match: string, normalized: string): string;
}
