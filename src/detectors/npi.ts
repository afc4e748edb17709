/**
 * National Provider Identifier (CMS NPPES): 10 digits starting 1 or 2; the last is a Luhn check
 * digit computed over the number prefixed with 80840 (ISO 7812 card issuer prefix for US health).
 * Identifies a provider, not a patient: context only.
 */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';
import { isPlaceholderRun, luhnValid } from './validators.js';

export function checkNpi(digits: string): boolean {
  return /^[12]\d{9}$/.test(digits) && !isPlaceholderRun(digits.slice(0, 9)) && luhnValid(`80840${digits}`);
}

export const npiDetector: Detector = {
  id: 'npi',
  normalize: (m) => m.replace(/\D/g, ''),
  check: (v) => (checkNpi(v) ? { kind: 'valid' } : { kind: 'invalid', reason: 'NPI check digit' }),
  mask: (m) => maskKeepLast(m),
};
