/**
 * Dates as people type them (src/detectors/date.ts): parsing (month first unless the first number
 * cannot be a month, two-digit years into the past) and the calendar check (a real date, from
 * 1900, not in the future). Tables with the reason.
 */
import { describe, expect, it } from 'vitest';
import { checkDate, dateDetector, parseDate } from '../../src/detectors/date.js';

const TODAY = new Date('2026-06-01T00:00:00Z');
const ENV = { today: TODAY };

describe('parseDate', () => {
  it.each([
    ['03/14/1952', [1952, 3, 14], 'US month first'],
    ['3-14-52', [1952, 3, 14], 'two-digit year: 2052 would be in the future'],
    ['3-14-25', [2025, 3, 14], 'two-digit year not in the future stays in this century'],
    ['14.03.1952', [1952, 3, 14], 'day first when the first number cannot be a month'],
    ['05/06/1952', [1952, 5, 6], 'ambiguous: month first'],
    ['1952-03-14', [1952, 3, 14], 'ISO'],
    ['1952/3/4', [1952, 3, 4], 'year first, one-digit month and day'],
    ['19520314', [1952, 3, 14], 'HL7 (eight digits)'],
    ['March 14, 1952', [1952, 3, 14], 'month name'],
    ['Mar. 14 1952', [1952, 3, 14], 'abbreviation with a period, no comma'],
    ['Sept 3rd, 1961', [1961, 9, 3], 'sept and an ordinal'],
    ['14 March 1952', [1952, 3, 14], 'day before the month name'],
    ['14-MAR-1952', [1952, 3, 14], 'Oracle style'],
    ['3rd of June, 1948', [1948, 6, 3], '"of"'],
    ['  03/14/1952 ', [1952, 3, 14], 'surrounding spaces'],
  ])('%s → %j (%s)', (raw, [year, month, day], _why) => expect(parseDate(raw, TODAY)).toEqual({ year, month, day }));

  it.each([
    ['Marvelous 14, 1952', 'not a month name'],
    ['Ma 14, 1952', 'two letters are no month'],
    ['14/03', 'no year'],
    ['1952', 'a year alone'],
    ['03/14/195', 'three-digit year'],
    ['3141952', 'seven digits'],
    ['March 1952', 'no day'],
    ['', 'empty'],
  ])('%s is no date (%s)', (raw, _why) => expect(parseDate(raw, TODAY)).toBeUndefined());
});

describe('checkDate', () => {
  it.each([
    ['1952-03-14', 'a birth date'],
    ['2000-02-29', 'leap day of a leap century'],
    ['1900-01-01', 'the first day counted'],
    ['2026-06-01', 'today'],
  ])('%s is valid: %s', (iso, _why) => expect(checkDate(iso, ENV)).toEqual({ kind: 'valid' }));

  it.each([
    ['1900-02-29', 'no such calendar date', '1900 was no leap year'],
    ['1952-02-30', 'no such calendar date', 'February 30'],
    ['1952-13-01', 'no such calendar date', 'month 13'],
    ['1952-00-10', 'no such calendar date', 'month 0'],
    ['1899-12-31', 'before 1900', 'before 1900'],
    ['2026-06-02', 'in the future', 'tomorrow'],
    ['1952-3-14', 'not a date', 'not ISO with two-digit month'],
    ['invalid', 'not a date', 'what normalize returns for an unparsable date'],
  ])('%s is invalid (%s): %s', (iso, reason, _why) => expect(checkDate(iso, ENV)).toEqual({ kind: 'invalid', reason }));

  it.each([
    ['03/14/1952', '1952-03-14', 'valid'],
    ['3-14-52', '1952-03-14', 'valid'],
    ['02/30/1952', '1952-02-30', 'invalid'],
    ['Marvelous 14, 1952', 'invalid', 'invalid'],
  ])('the detector normalizes %s to %s: %s', (written, normalized, kind) => {
    expect(dateDetector.normalize(written, ENV)).toBe(normalized);
    expect(dateDetector.check(normalized, ENV).kind).toBe(kind);
  });

  it('masks to the year only', () => {
    expect(dateDetector.mask('03/14/1952', '1952-03-14')).not.toMatch(/03|14/);
    expect(dateDetector.mask('03/14/1952', '1952-03-14')).toMatch(/1952/);
  });
});
