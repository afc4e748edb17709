/**
 * Medicare Beneficiary Identifier (CMS, "Understanding the MBI format"): 11 characters,
 * positions C A AN N A AN N A A N N — 1: digit 1–9; 2, 5, 8, 9: letter; 3, 6: letter or digit;
 * 4, 7, 10, 11: digit. Letters exclude S, L, O, I, B, Z. Dashes (4-3-4) are for display only.
 * No check digit: context decides (rules/medicare-mbi.yaml).
 */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';
import { compactUpper } from './validators.js';

const L = '[AC-HJKMNP-RT-Y]';
const AN = '[AC-HJKMNP-RT-Y0-9]';
const MBI = new RegExp(`^[1-9]${L}${AN}[0-9]${L}${AN}[0-9]${L}${L}[0-9][0-9]$`);

export const mbiDetector: Detector = {
  id: 'mbi',
  normalize: compactUpper,
  check: (v) => (MBI.test(v) ? { kind: 'valid' } : { kind: 'invalid', reason: 'not the CMS MBI layout' }),
  mask: (match) => maskKeepLast(match.toUpperCase()),
};
