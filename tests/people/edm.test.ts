/**
 * EDM files: every value keyed-hashed (the file holds none), bad lines named by number only, a
 * file of another key refused, and lookups by a finding's fingerprint.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEdm, loadEdm, parseColumns } from '../../src/edm/edm.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { canonicalName, nameDobKey } from '../../src/people/records.js';
import { edmBuild } from '../../src/cli/edm.js';
import { ScanError } from '../../src/common/errors.js';
import { tempDir } from '../helpers/cli.js';

const key = Buffer.from('edm-test-key-0123456789abcdef');
const ROSTER = [
  'ssn,mbi,member_id,last_name,first_name,dob',
  '536-90-4399,1EG4TE5MK73,XQK100000001,Thistlewood,Rosalind,03/14/1952',
  '000-12-3456,2FH5UF6NK84,XQK100000002,Fennimore,Edmund,04/15/1961',
  'short,row',
  '412-55-6190,,,Oakhurst,Marisol,13/45/1970',
].join('\n');

describe('edm', () => {
  it('writes fingerprints only, names bad lines by number, and finds a value by its finding fingerprint', async () => {
    const dir = tempDir('phi-edm-');
    const csv = path.join(dir, 'roster.csv');
    writeFileSync(csv, ROSTER);
    const out = path.join(dir, 'roster.edm');
    const r = await buildEdm(csv, parseColumns('ssn,mbi,member_id,last_name,first_name,dob'), key, out, new Date('2026-01-01'));
    expect(r.rows).toBe(3);
    expect(r.badRows).toEqual([
      { line: 3, reason: 'not usable: ssn' },
      { line: 4, reason: '2 of 6 columns' },
      { line: 5, reason: 'not usable: dob' },
    ]);
    const bytes = readFileSync(out).toString('latin1');
    for (const v of ['536-90-4399', '536904399', '1EG4TE5MK73', 'XQK100000001', 'Thistlewood', 'Rosalind', '03/14/1952', '1952-03-14', 'Oakhurst', '412556190']) {
      expect(bytes.includes(v), v).toBe(false);
    }
    const edm = loadEdm(out, key);
    expect(edm.lookup('s', fingerprint(key, 'ssn', '536904399'))).toBe(2);
    expect(edm.lookup('s', fingerprint(key, 'ssn', '412556190'))).toBe(5);
    expect(edm.lookup('m', fingerprint(key, 'medicare-id', '2FH5UF6NK84'))).toBe(3);
    expect(edm.lookup('i', fingerprint(key, 'insurance', 'XQK100000001'))).toBe(2);
    expect(edm.lookup('s', fingerprint(key, 'ssn', '536904398'))).toBeUndefined();
    // The name + DOB key is the one records make from mail (people/records.ts).
    expect(edm.lookup('n', nameDobKey(key, canonicalName('Thistlewood, Rosalind'), '1952-03-14'))).toBe(2);
    // Read in three ranges of lines: the same file, the same line numbers.
    const split = path.join(dir, 'split.edm');
    const r3 = await buildEdm(csv, parseColumns('ssn,mbi,member_id,last_name,first_name,dob'), key, split, new Date('2026-01-01'), 3);
    expect(r3.badRows).toEqual(r.badRows);
    expect(readFileSync(split).equals(readFileSync(out))).toBe(true);
    // Another installation's key: refused, not silently matching nothing.
    expect(() => loadEdm(out, Buffer.from('another-key-0123456789abcdef'))).toThrow(ScanError);
  });

  it('the command prints line numbers and column names, never a value', async () => {
    const dir = tempDir('phi-edm-cli-');
    const csv = path.join(dir, 'roster.csv');
    writeFileSync(csv, ROSTER);
    const { code, lines } = await edmBuild(csv, { columns: 'ssn,mbi,member_id,last_name,first_name,dob', out: path.join(dir, 'x.edm') }, { PHI_SCAN_KEY: key.toString() });
    expect(code).toBe(3);
    const text = lines.join('\n');
    expect(text).toContain('line 3: not usable: ssn');
    for (const v of ['000-12-3456', 'short', '13/45/1970', 'Oakhurst']) expect(text.includes(v), v).toBe(false);
    expect(() => parseColumns('ssn,phone')).toThrow(/unknown column "phone"/);
  });
});
