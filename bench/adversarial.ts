/**
 * Inputs built to hurt a regex/context engine: long runs of what the SSN patterns look for, and
 * lists of candidates where per-candidate work that looks at all keyword hits turns quadratic.
 */
import { MailGenerator } from './mailgen.js';
import { Rng } from './prng.js';

export interface AdversarialCase {
  readonly name: string;
  readonly description: string;
  readonly build: (chars: number) => string;
}

function repeatTo(unit: string, chars: number): string {
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

/** Lines from `line()` until `chars` characters (whole lines, then cut to the exact size). */
function linesTo(chars: number, line: () => string): string {
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const l = line();
    parts.push(l);
    n += l.length;
  }
  return parts.join('').slice(0, chars);
}

function dashed(d: string): string {
  return `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export const ADVERSARIAL: readonly AdversarialCase[] = [
  { name: 'digits', description: 'all digits (one line)', build: (n) => repeatTo('0123456789', n) },
  { name: 'dashes', description: 'all dashes', build: (n) => '-'.repeat(n) },
  { name: 'one-dash', description: '"1-" repeated', build: (n) => repeatTo('1-', n) },
  { name: 'keyword', description: '"SSN " repeated', build: (n) => repeatTo('SSN ', n) },
  {
    name: 'base64-line',
    description: 'one long base64 line',
    build: (n) => {
      const rng = new Rng(7);
      let s = '';
      for (let i = 0; i < n; i++) s += BASE64[rng.next() & 63];
      return s;
    },
  },
  { name: 'spaced-digits', description: '"1 2 3 ..." spaced digits', build: (n) => repeatTo('1 2 3 4 5 6 7 8 9 0 ', n) },
  {
    name: 'labelled-ssns',
    description: '"SSN: 536-90-4399" lines (roster)',
    build: (n) => {
      const gen = new MailGenerator(11);
      return linesTo(n, () => `SSN: ${dashed(gen.ssn())}\n`);
    },
  },
  {
    name: 'near-keyword-ssns',
    description: 'SSN keyword 44 chars before each value (nearby, no label)',
    build: (n) => {
      const gen = new MailGenerator(13);
      return linesTo(n, () => `social security on file (see the intake packet, page two): ${dashed(gen.ssn())}\n`);
    },
  },
  {
    name: 'unlabelled-ssns',
    description: 'SSN-like values, no keyword',
    build: (n) => {
      const gen = new MailGenerator(17);
      return linesTo(n, () => `${dashed(gen.ssn())} `);
    },
  },
];

export function adversarialCase(name: string): AdversarialCase {
  const c = ADVERSARIAL.find((a) => a.name === name);
  if (!c) throw new Error(`unknown adversarial case ${name}`);
  return c;
}
