/**
 * Railroad Retirement Board claim numbers: an alphabetic prefix, then 6 digits (before 1964)
 * or the 9-digit SSN (after), e.g. `WA536904399`. RRB puts prefixes where SSA puts suffixes.
 */
import { maskKeepLast } from '../findings/mask.js';
import { checkSsn } from './ssn.js';
import type { Detector } from './types.js';
import { compactUpper } from './validators.js';

const PREFIXES = new Set(['A', 'CA', 'CD', 'CH', 'D', 'H', 'JA', 'JD', 'MA', 'MH', 'PA', 'PD', 'PH', 'WA', 'WCA', 'WCD', 'WCH', 'WD', 'WF', 'WH']);

export const rrbDetector: Detector = {
  id: 'rrb',
  normalize: compactUpper,
  check(v) {
    const m = /^([A-Z]{1,3})(\d{6}|\d{9})$/.exec(v);
    if (!m || !PREFIXES.has(m[1] as string)) return { kind: 'invalid', reason: 'not an RRB prefix and number' };
    const digits = m[2] as string;
    if (digits.length === 9) {
      const ssn = checkSsn(digits);
      if (ssn.kind === 'invalid') return { kind: 'invalid', reason: `SSN part: ${ssn.reason}` };
    }
    return { kind: 'valid' };
  },
  mask: (match) => maskKeepLast(match.toUpperCase()),
  allowKeys: (v) => [v, v.replace(/^[A-Z]+/, '')],
};
