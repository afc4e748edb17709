/**
 * ICD-10-CM diagnosis codes (CDC/NCHS): 3–7 characters — a letter, a digit, then digits or
 * letters, a decimal point after the third, `X` placeholders, 7th-character extensions.
 */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';

const ICD10 = /^[A-Z]\d[0-9A-Z](?:\.?[0-9A-Z]{1,4})?$/;

export const icd10Detector: Detector = {
  id: 'icd10',
  normalize: (m) => m.toUpperCase(),
  check: (v) => (ICD10.test(v) ? { kind: 'valid' } : { kind: 'invalid', reason: 'not an ICD-10-CM code shape' }),
  mask: (m) => maskKeepLast(m.toUpperCase()),
};
