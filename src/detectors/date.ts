/**
 * Dates as people type them, for birth and death dates: 03/14/1952, 3-14-52, 14.03.1952,
 * 1952-03-14, March 14, 1952, 14 March 1952, Mar. 14 1952, 14-MAR-1952, and 19520314 (HL7).
 * Valid when a real calendar date between 1900 and today. Numeric dates are read month first
 * (US), day first when the first number cannot be a month. Masked to the year only.
 */
import { maskDateKeepYear } from '../findings/mask.js';
import type { Verdict } from '../model/finding.js';
import type { Detector, DetectorEnv } from './types.js';

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

const FULL_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A month's full name, its 3-letter abbreviation, or `sept`; nothing else (`Marvelous` is not March). */
function monthOf(name: string): number | undefined {
  const n = name.toLowerCase();
  const full = FULL_NAMES.indexOf(n);
  if (full !== -1) return full + 1;
  if (n === 'sept') return 9;
  return n.length === 3 ? MONTHS[n] : undefined;
}

/** Two-digit years: the latest year that is not in the future (a birth date is in the past). */
function fullYear(y: string, today: Date): number {
  if (y.length === 4) return Number(y);
  const yy = Number(y);
  const century = Math.floor(today.getUTCFullYear() / 100) * 100;
  return century + yy > today.getUTCFullYear() ? century - 100 + yy : century + yy;
}

/** Parses to [year, month, day], or undefined. The year is resolved later against "today". */
function parts(raw: string): { y: string; m: number; d: number } | undefined {
  const s = raw.trim().replace(/\s+/g, ' ');
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s);
  if (m) return { y: m[1] as string, m: Number(m[2]), d: Number(m[3]) };
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (m) return { y: m[1] as string, m: Number(m[2]), d: Number(m[3]) };
  m = /^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})$/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    return a > 12 && b <= 12 ? { y: m[3] as string, m: b, d: a } : { y: m[3] as string, m: a, d: b };
  }
  m = /^([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$/.exec(s);
  if (m && monthOf(m[1] as string)) return { y: m[3] as string, m: monthOf(m[1] as string) as number, d: Number(m[2]) };
  m = /^(\d{1,2})(?:st|nd|rd|th)?[ -](?:of )?([A-Za-z]{3,9})\.?[\s,-]+(\d{2}|\d{4})$/.exec(s);
  if (m && monthOf(m[2] as string)) return { y: m[3] as string, m: monthOf(m[2] as string) as number, d: Number(m[1]) };
  return undefined;
}

export function parseDate(raw: string, today: Date): { year: number; month: number; day: number } | undefined {
  const p = parts(raw);
  if (!p) return undefined;
  return { year: fullYear(p.y, today), month: p.m, day: p.d };
}

export function checkDate(iso: string, env: DetectorEnv): Verdict {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return { kind: 'invalid', reason: 'not a date' };
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return { kind: 'invalid', reason: 'no such calendar date' };
  }
  if (year < 1900) return { kind: 'invalid', reason: 'before 1900' };
  if (date.getTime() > env.today.getTime()) return { kind: 'invalid', reason: 'in the future' };
  return { kind: 'valid' };
}

/** Two-digit years resolve against `env.today`; the fingerprinted form is the ISO date. */
export const dateDetector: Detector = {
  id: 'date',
  normalize(match, env) {
    const d = parseDate(match, env?.today ?? new Date());
    if (!d) return 'invalid';
    return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
  },
  check: checkDate,
  mask: (_match, normalized) => maskDateKeepYear(/^\d{4}/.test(normalized) ? Number(normalized.slice(0, 4)) : undefined),
};
