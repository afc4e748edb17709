/**
 * U.S. Social Security Number, AAA-GG-SSSS (SSA, Program Operations Manual RM 10201.035).
 * Never issued: area 000, 666 and 900–999 (9xx are IRS ITINs, a separate type), group 00,
 * serial 0000. Since randomization (2011-06-25) there is no other structure and no check digit,
 * so validation mainly removes placeholders; context decides the rest (see rules/ssn.yaml).
 */
import type { Verdict } from '../model/finding.js';
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';

const SEQUENTIAL = new Set(['123456789', '987654321', '012345678']);

export function checkSsn(digits: string): Verdict {
  if (!/^\d{9}$/.test(digits)) return { kind: 'invalid', reason: 'not 9 digits' };
  const area = digits.slice(0, 3);
  if (area === '000' || area === '666') return { kind: 'invalid', reason: 'area never issued' };
  if (area[0] === '9') return { kind: 'invalid', reason: 'area 900-999 (ITIN or unassigned)' };
  if (digits.slice(3, 5) === '00') return { kind: 'invalid', reason: 'group 00' };
  if (digits.slice(5) === '0000') return { kind: 'invalid', reason: 'serial 0000' };
  if (/^(\d)\1{8}$/.test(digits)) return { kind: 'invalid', reason: 'one repeated digit' };
  if (SEQUENTIAL.has(digits)) return { kind: 'invalid', reason: 'sequential placeholder' };
  return { kind: 'valid' };
}

export const ssnDetector: Detector = {
  id: 'ssn',
  // Spreadsheets drop leading zeros: 7 or 8 digits in an SSN column are padded back to 9.
  normalize: (match) => {
    const digits = match.replace(/\D/g, '');
    return digits.length === 7 || digits.length === 8 ? digits.padStart(9, '0') : digits;
  },
  check: checkSsn,
  mask: (match) => maskKeepLast(match),
};
