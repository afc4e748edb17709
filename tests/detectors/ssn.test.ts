/**
 * SSN validation (src/detectors/ssn.ts): structure only (never-issued areas, groups, serials,
 * placeholders); context decides the rest. Made-up values; tables with the reason.
 */
import { describe, expect, it } from 'vitest';
import { checkSsn, ssnDetector } from '../../src/detectors/ssn.js';

const ENV = { today: new Date('2026-06-01T00:00:00Z') };

describe('checkSsn', () => {
  it.each([
    ['536904399', 'an ordinary area, group and serial'],
    ['001010001', 'lowest issued area, group and serial'],
    ['665999999', 'area 665, just below 666'],
    ['667010001', 'area 667, just above 666'],
    ['899999999', 'area 899, the highest issued'],
    ['078051121', 'not on the placeholder list (context and allowlists deal with published samples)'],
  ])('%s is valid: %s', (ssn, _why) => expect(checkSsn(ssn)).toEqual({ kind: 'valid' }));

  it.each([
    ['000123456', 'area never issued', 'area 000'],
    ['666123456', 'area never issued', 'area 666'],
    ['900123456', 'area 900-999 (ITIN or unassigned)', 'an ITIN'],
    ['999123456', 'area 900-999 (ITIN or unassigned)', 'area 999'],
    ['536004399', 'group 00', 'group 00'],
    ['536900000', 'serial 0000', 'serial 0000'],
    ['111111111', 'one repeated digit', 'placeholder'],
    ['123456789', 'sequential placeholder', 'placeholder'],
    ['53690439', 'not 9 digits', 'eight digits'],
    ['5369043990', 'not 9 digits', 'ten digits'],
    ['536-90-4399', 'not 9 digits', 'not normalized'],
  ])('%s is invalid (%s): %s', (ssn, reason, _why) => expect(checkSsn(ssn)).toEqual({ kind: 'invalid', reason }));

  it.each([
    ['536-90-4399', '536904399'],
    ['536 90 4399', '536904399'],
    ['536.90.4399', '536904399'],
    ['1234567', '001234567'], // a spreadsheet dropped two leading zeros
    ['12345678', '012345678'],
  ])('normalize(%s) → %s', (written, normalized) => expect(ssnDetector.normalize(written, ENV)).toBe(normalized));

  it('masks all but the last four', () => {
    expect(ssnDetector.mask('536-90-4399', '536904399')).toMatch(/4399$/);
    expect(ssnDetector.mask('536-90-4399', '536904399')).not.toMatch(/536|90-/);
  });
});
