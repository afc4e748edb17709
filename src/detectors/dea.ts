/**
 * DEA registration number: 2 letters + 7 digits; the check digit is the last digit of
 * (d1 + d3 + d5) + 2 × (d2 + d4 + d6). Identifies a prescriber: context only.
 */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';
import { compactUpper } from './validators.js';

export function checkDea(v: string): boolean {
  const m = /^([ABCDEFGHJKLMPRSTUX])([A-Z9])(\d{7})$/.exec(v);
  if (!m) return false;
  const d = [...(m[3] as string)].map(Number) as number[];
  const sum = (d[0] ?? 0) + (d[2] ?? 0) + (d[4] ?? 0) + 2 * ((d[1] ?? 0) + (d[3] ?? 0) + (d[5] ?? 0));
  return sum % 10 === d[6];
}

export const deaDetector: Detector = {
  id: 'dea',
  normalize: compactUpper,
  check: (v) => (checkDea(v) ? { kind: 'valid' } : { kind: 'invalid', reason: 'DEA check digit' }),
  mask: (m) => maskKeepLast(m.toUpperCase()),
};
