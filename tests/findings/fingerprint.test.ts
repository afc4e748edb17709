/**
 * The keyed fingerprint is computed from the key's HMAC pads laid out once (findings/fingerprint.ts);
 * state databases and baselines hold its values, so it must equal the plain HMAC bit for bit.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/findings/fingerprint.js';

const plain = (key: Buffer, category: string, normalized: string): string =>
  createHmac('sha256', key).update(category).update('\0').update(normalized).digest('hex').slice(0, 16);

const KEYS: Buffer[] = [
  Buffer.from('test-fingerprint-key-0123456789abcdef'),
  Buffer.alloc(0),
  Buffer.from([0]),
  Buffer.alloc(63, 0xab),
  Buffer.alloc(64, 0xcd), // exactly one block
  Buffer.alloc(65, 0xef), // longer than the block: hashed first
  randomBytes(200),
  randomBytes(32),
];

const INPUTS: [string, string][] = [
  ['ssn', '123456789'],
  ['ssn', ''],
  ['', ''],
  ['', 'x'],
  ['mbi', '1EG4TE5MK73'],
  ['name+dob', 'zoë ångström\u00001950-03-04'],
  ['person', 'José Müller-Łukasiewicz'],
  ['email', 'пациент@пример.рф'],
  ['note', '患者の番号 12345'],
  ['emoji', '🩺 patient 👩‍⚕️'],
  ['surrogate', 'lone \ud800 high and \udc00 low'],
  ['nul', 'a\u0000b\u0000'],
  ['long', 'x'.repeat(340)], // just under the fast path's limit
  ['long', 'é'.repeat(400)], // past it: the plain HMAC
  ['long', '9'.repeat(5000)],
];

describe('fingerprint: equal to HMAC-SHA-256 bit for bit', () => {
  it.each(KEYS.map((k) => [k.length, k] as const))('key of %i bytes, every input', (_len, key) => {
    for (const [category, normalized] of INPUTS) expect(fingerprint(key, category, normalized)).toBe(plain(key, category, normalized));
  });

  it('random keys and inputs (ASCII, Latin-1, astral), many calls in a row per key', () => {
    const alphabet = ['a', '7', '-', ' ', 'é', 'Ω', '中', '😀', '\u0000'];
    for (let k = 0; k < 20; k++) {
      const key = randomBytes(k * 7);
      for (let i = 0; i < 50; i++) {
        const n = Math.floor(Math.random() * 60);
        const s = Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
        expect(fingerprint(key, 'ssn', s)).toBe(plain(key, 'ssn', s));
      }
    }
  });

  it('a key buffer changed in place gets fingerprints under its new bytes', () => {
    const key = Buffer.from('first-key-first-key-first-key-01');
    expect(fingerprint(key, 'ssn', '123456789')).toBe(plain(Buffer.from('first-key-first-key-first-key-01'), 'ssn', '123456789'));
    key.write('other');
    expect(fingerprint(key, 'ssn', '123456789')).toBe(plain(Buffer.from(key), 'ssn', '123456789'));
    expect(fingerprint(key, 'ssn', '123456789')).not.toBe(plain(Buffer.from('first-key-first-key-first-key-01'), 'ssn', '123456789'));
  });

  it('a known value (guards against both sides changing alike)', () => {
    expect(fingerprint(Buffer.from('test-fingerprint-key-0123456789abcdef'), 'ssn', '123')).toBe('56de3e76e27164fc');
  });
});
