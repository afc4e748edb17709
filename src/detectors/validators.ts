import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';

/** Shared checks with no rule knowledge. */

/** Letters and digits only, upper case: the canonical form of most identifiers. */
export function compactUpper(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

export function countDigits(s: string): number {
  let n = 0;
  for (const ch of s) if (ch >= '0' && ch <= '9') n++;
  return n;
}

/** Luhn (mod 10, double every second digit from the right). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** One character repeated, or a straight run (`123456789`): placeholders, not identifiers. */
export function isPlaceholderRun(s: string): boolean {
  if (/^(.)\1*$/.test(s)) return true;
  return '0123456789012345678901234567890'.includes(s) || '9876543210987654321098765432109876543210'.includes(s);
}

/**
 * Identifiers with no national format, found only next to their label (the rules decide which):
 * validation is about shape only — length, enough digits, not a placeholder run, not a year.
 */
export interface Shape {
  readonly minLength: number;
  readonly maxLength: number;
  readonly minDigits: number;
  readonly digitsOnly?: boolean;
}

export function labelledIdDetector(id: string, shape: Shape, what: string): Detector {
  return {
    id,
    normalize: compactUpper,
    check(v) {
      if (v.length < shape.minLength || v.length > shape.maxLength) return { kind: 'invalid', reason: `${what}: length` };
      if (shape.digitsOnly && !/^\d+$/.test(v)) return { kind: 'invalid', reason: `${what}: digits only` };
      if (countDigits(v) < shape.minDigits) return { kind: 'invalid', reason: `${what}: too few digits` };
      if (isPlaceholderRun(v)) return { kind: 'invalid', reason: `${what}: placeholder` };
      // A year alone (`Member since 2019`) or a calendar date is not an ID.
      if (/^(?:19|20)\d{2}$/.test(v)) return { kind: 'invalid', reason: `${what}: a year` };
      return { kind: 'valid' };
    },
    mask: (match) => maskKeepLast(match.toUpperCase()),
  };
}

