/**
 * Provider identifiers (context only: they identify a prescriber, not a patient): NPI (Luhn over
 * 80840 + the number) and DEA (2 letters, 7 digits, a check digit). Must-match and must-not-match
 * tables with the reason; every value is made up (check digits computed, not looked up).
 */
import { describe, expect, it } from 'vitest';
import { checkDea, deaDetector } from '../../src/detectors/dea.js';
import { checkNpi, npiDetector } from '../../src/detectors/npi.js';

const ENV = { today: new Date('2026-06-01T00:00:00Z') };

describe('checkNpi', () => {
  it.each([
    ['1992456784', 'starts with 1, check digit right'],
    ['2847361526', 'starts with 2 (organizations), check digit right'],
    ['1000000004', 'mostly zeros, but no placeholder run in the first nine'],
  ])('%s matches: %s', (npi, _why) => expect(checkNpi(npi)).toBe(true));

  it.each([
    ['1234567893', 'the CMS example: its check digit holds, but 123456789 is a straight run (a placeholder)'],
    ['1992456780', 'wrong check digit'],
    ['1992456785', 'check digit off by one'],
    ['3992456784', 'starts with 3: NPIs start with 1 or 2'],
    ['0992456784', 'starts with 0'],
    ['199245678', 'nine digits'],
    ['19924567840', 'eleven digits'],
    ['1111111112', 'first nine one repeated digit: a placeholder'],
    ['199245678A', 'a letter'],
    ['1992-456784', 'not normalized (separators are stripped by normalize first)'],
    ['', 'empty'],
  ])('%s does not match: %s', (npi, _why) => expect(checkNpi(npi)).toBe(false));

  it.each([
    ['1992-456-784', 'valid'],
    ['1992 456 784', 'valid'],
    ['1992-456-780', 'invalid'],
  ])('the detector normalizes %s and checks it: %s', (written, kind) => {
    expect(npiDetector.check(npiDetector.normalize(written, ENV), ENV).kind).toBe(kind);
  });
});

describe('checkDea', () => {
  it.each([
    ['AB1234563', '(1+3+5) + 2×(2+4+6) = 33: check digit 3'],
    ['FM3141594', 'F: a registrant type letter; check digit 4'],
    ['MS2718281', 'M (mid-level practitioner)'],
    ['X91234563', 'X (Suboxone/DATA waiver) and 9 as the second character'],
    ['BX2718281', 'second letter any A-Z'],
  ])('%s matches: %s', (dea, _why) => expect(checkDea(dea)).toBe(true));

  it.each([
    ['AB1234564', 'wrong check digit'],
    ['AB1234560', 'check digit 0 where 3 is due'],
    ['IB1234563', 'I is no registrant type'],
    ['NB1234563', 'N is no registrant type'],
    ['A11234563', 'second character a digit other than 9'],
    ['AB123456', 'six digits'],
    ['AB12345634', 'eight digits'],
    ['ab1234563', 'lower case (normalize upper-cases first)'],
    ['1B1234563', 'starts with a digit'],
    ['', 'empty'],
  ])('%s does not match: %s', (dea, _why) => expect(checkDea(dea)).toBe(false));

  it.each([
    ['ab 123456-3', 'valid'],
    ['AB-1234563', 'valid'],
    ['AB-1234567', 'invalid'],
  ])('the detector normalizes %s and checks it: %s', (written, kind) => {
    expect(deaDetector.check(deaDetector.normalize(written, ENV), ENV).kind).toBe(kind);
  });
});
