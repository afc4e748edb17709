/**
 * Medicare identifiers: MBI (the CMS layout, no check digit), legacy HICN (an SSN + a
 * beneficiary identification code) and RRB claim numbers (a prefix + 6 digits or an SSN).
 * Normalized then checked as the engine does; tables with the reason. Made-up values.
 */
import { describe, expect, it } from 'vitest';
import type { Detector } from '../../src/detectors/types.js';
import { hicnDetector } from '../../src/detectors/hicn.js';
import { mbiDetector } from '../../src/detectors/mbi.js';
import { rrbDetector } from '../../src/detectors/rrb.js';

const ENV = { today: new Date('2026-06-01T00:00:00Z') };
const verdict = (d: Detector, written: string): string => {
  const v = d.check(d.normalize(written, ENV), ENV);
  return v.kind === 'invalid' ? `invalid: ${v.reason}` : v.kind;
};

describe('MBI', () => {
  it.each([
    ['1EG4-TE5-MK73', 'the CMS format example, with display dashes'],
    ['1EG4TE5MK73', 'without dashes'],
    ['1eg4te5mk73', 'lower case'],
    ['9AA0AA0AA00', 'positions 3 and 6 letters'],
    ['2C99D99EF99', 'positions 3 and 6 digits'],
  ])('%s is valid: %s', (mbi, _why) => expect(verdict(mbiDetector, mbi)).toBe('valid'));

  it.each([
    ['0EG4TE5MK73', 'position 1 is 0'],
    ['1SG4TE5MK73', 'S is excluded'],
    ['1LG4TE5MK73', 'L is excluded'],
    ['1EG4OE5MK73', 'O is excluded'],
    ['1EG4IE5MK73', 'I is excluded'],
    ['1EG4BE5MK73', 'B is excluded'],
    ['1EG4ZE5MK73', 'Z is excluded'],
    ['11G4TE5MK73', 'position 2 must be a letter'],
    ['1EGATE5MK73', 'position 4 must be a digit'],
    ['1EG4TE5MK7', 'ten characters'],
    ['1EG4TE5MK733', 'twelve characters'],
  ])('%s is invalid: %s', (mbi, _why) => expect(verdict(mbiDetector, mbi)).toBe('invalid: not the CMS MBI layout'));
});

describe('HICN', () => {
  it.each([
    ['536904399A', 'primary claimant'],
    ['536-90-4399-B6', 'spouse with a digit, dashes'],
    ['536-90-4399 C1', 'child, space before the code'],
    ['536904399D', 'widow(er)'],
    ['536904399T', 'T alone'],
    ['536904399M1', 'M1'],
  ])('%s is valid: %s', (hicn, _why) => expect(verdict(hicnDetector, hicn)).toBe('valid'));

  it.each([
    ['536904399', 'invalid: not a beneficiary identification code', 'no code'],
    ['536904399C', 'invalid: not a beneficiary identification code', 'C needs a second character'],
    ['536904399F9', 'invalid: not a beneficiary identification code', 'F takes 1-8 only'],
    ['536904399J5', 'invalid: not a beneficiary identification code', 'J takes 1-4 only'],
    ['536904399Q', 'invalid: not a beneficiary identification code', 'Q is no code'],
    ['000904399A', 'invalid: SSN core: area never issued', 'the SSN part is invalid'],
    ['536004399A', 'invalid: SSN core: group 00', 'group 00'],
  ])('%s is %s: %s', (hicn, expected, _why) => expect(verdict(hicnDetector, hicn)).toBe(expected));

  it('compares the SSN core with the allowlist too (a HICN on a sample SSN is a sample)', () => {
    expect(hicnDetector.allowKeys?.('536904399A')).toEqual(['536904399A', '536904399']);
  });
});

describe('RRB claim number', () => {
  it.each([
    ['WA536904399', 'prefix + SSN (after 1964)'],
    ['A123456', 'one-letter prefix + six digits (before 1964)'],
    ['WCD 536-90-4399', 'three-letter prefix, separators'],
    ['ma536904399', 'lower case'],
  ])('%s is valid: %s', (rrb, _why) => expect(verdict(rrbDetector, rrb)).toBe('valid'));

  it.each([
    ['XX536904399', 'invalid: not an RRB prefix and number', 'unknown prefix'],
    ['536904399', 'invalid: not an RRB prefix and number', 'no prefix'],
    ['WA53690439', 'invalid: not an RRB prefix and number', 'eight digits'],
    ['WA1234567', 'invalid: not an RRB prefix and number', 'seven digits'],
    ['WAXY536904399', 'invalid: not an RRB prefix and number', 'four letters'],
    ['WA000904399', 'invalid: SSN part: area never issued', 'the SSN part is invalid'],
    ['WA123456789', 'invalid: SSN part: sequential placeholder', 'a placeholder SSN'],
  ])('%s is %s: %s', (rrb, expected, _why) => expect(verdict(rrbDetector, rrb)).toBe(expected));
});
