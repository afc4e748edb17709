/**
 * Legacy Medicare Health Insurance Claim Number: the wage earner's SSN plus a Beneficiary
 * Identification Code (SSA POMS: A primary claimant, B spouses, C children, D widow(er)s, ...).
 * Written `536904399A`, `536-90-4399-B6`, `536-90-4399 C1`.
 */
import { maskKeepLast } from '../findings/mask.js';
import { checkSsn } from './ssn.js';
import type { Detector } from './types.js';
import { compactUpper } from './validators.js';

/** BICs as SSA assigns them: a letter, optionally followed by a digit or letter. */
const BIC = /^(?:A|B[1-9A-Z]?|C[1-9A-Z]|D[1-9A-Z]?|E[1-9A-Z]?|F[1-8]|G[1-9]?|H[1-9A-Z]?|J[1-4]|K[1-9A-Z]?|M1?|T[1-9A-Z]?|W[1-9A-Z]?)$/;

export const hicnDetector: Detector = {
  id: 'hicn',
  normalize: compactUpper,
  check(v) {
    const core = v.slice(0, 9);
    const ssn = checkSsn(core);
    if (ssn.kind === 'invalid') return { kind: 'invalid', reason: `SSN core: ${ssn.reason}` };
    return BIC.test(v.slice(9)) ? { kind: 'valid' } : { kind: 'invalid', reason: 'not a beneficiary identification code' };
  },
  mask: (match) => maskKeepLast(match.toUpperCase()),
  // A HICN built on a published sample SSN is a sample too.
  allowKeys: (v) => [v, v.slice(0, 9)],
};
