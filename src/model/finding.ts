export const CATEGORIES = [
  'ssn',
  'medicare-id',
  'date-of-birth',
  'date-of-death',
  'insurance',
  'medical-record-number',
  'health-condition',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export function confidenceRank(c: Confidence): number {
  return CONFIDENCES.indexOf(c);
}

export type Verdict =
  | { readonly kind: 'valid' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unchecked' };

/** Why a finding scored as it did. Holds names and keywords, never the value. */
export interface Explanation {
  readonly pattern: string;
  readonly verdict: Verdict['kind'];
  readonly baseScore: number;
  readonly label?: string;
  readonly nearKeyword?: string;
  readonly negative?: string;
  /** Signals from other rules in the same item that raised the score. */
  readonly corroboratedBy?: readonly ('identifier' | 'health' | 'insurance')[];
  readonly score: number;
}

/** A detected identifier. Never holds the raw value: only its mask and keyed fingerprint. */
export interface Finding {
  readonly rule: string;
  readonly category: Category;
  readonly confidence: Confidence;
  readonly score: number;
  readonly location: string;
  /** Where inside an attachment (`page 3`, `sheet Patients`): json detail only, never JSONL. */
  readonly part?: string;
  readonly masked: string;
  readonly fingerprint: string;
  readonly why: Explanation;
  /** The roster line this value matches (`scan --edm`, edm/); absent without a roster or a match. */
  readonly rosterRow?: number;
}
