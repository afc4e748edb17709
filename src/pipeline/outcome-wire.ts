/**
 * A message's outcome as it crosses from a worker thread to the main thread (pool-worker.ts →
 * pool.ts): JSON text, its findings packed as rows of values in which the strings that repeat
 * (rule, category, confidence, location, part, explanation) are written once and referred to by
 * number. A roster's thousands of findings repeat a handful of those: the text is about a
 * quarter of the outcome's own JSON, and JSON.stringify, postMessage and JSON.parse, which cost
 * the threads more than the roster's scan on PHI-dense mail, cost as much less (README,
 * Benchmarks). Plain data in, the same plain data out: `unpackOutcome(packOutcome(o))` equals `o`.
 */
import type { Finding } from '../model/finding.js';
import type { MessageOutcome } from '../model/records.js';

/** How a finding's field crosses: a string written once (`shared`), an object written once as JSON (`json`), or as it is. */
type FieldWire = 'shared' | 'json' | 'plain';

/** Every field of a finding (a field added to Finding and not here fails to compile). */
const FIELDS: { readonly [K in keyof Required<Finding>]: FieldWire } = {
  rule: 'shared',
  category: 'shared',
  confidence: 'shared',
  score: 'plain',
  location: 'shared',
  part: 'shared',
  masked: 'plain',
  fingerprint: 'plain',
  why: 'json',
  rosterRow: 'plain',
};
const KEYS = Object.keys(FIELDS) as (keyof Finding)[];
const WIRES = KEYS.map((k) => FIELDS[k]);

interface Wire {
  readonly outcome: Omit<MessageOutcome, 'findings'>;
  /** The strings written once: shared fields, and `json` fields as JSON text. */
  readonly strings: string[];
  /** KEYS.length values per finding, in KEYS order: a number into `strings`, the value itself, or null (absent). */
  readonly findings: (string | number | null)[];
}

export function packOutcome(outcome: MessageOutcome): string {
  const { findings, ...rest } = outcome;
  const strings: string[] = [];
  const numbers = new Map<string, number>();
  const shared = (s: string): number => {
    let n = numbers.get(s);
    if (n === undefined) {
      n = strings.length;
      strings.push(s);
      numbers.set(s, n);
    }
    return n;
  };
  const values: (string | number | null)[] = [];
  for (const f of findings) {
    for (let j = 0; j < KEYS.length; j++) {
      const v = f[KEYS[j] as keyof Finding];
      const wire = WIRES[j];
      if (v === undefined) values.push(null);
      else if (wire === 'shared') values.push(shared(v as string));
      else if (wire === 'json') values.push(shared(JSON.stringify(v)));
      else values.push(v as string | number);
    }
  }
  const wire: Wire = { outcome: rest, strings, findings: values };
  return JSON.stringify(wire);
}

export function unpackOutcome(text: string): MessageOutcome {
  const wire = JSON.parse(text) as Wire;
  const { strings, findings: values } = wire;
  // A `json` field parsed once per distinct value: findings that share it share the (read-only) object.
  const objects = new Map<number, unknown>();
  const object = (n: number): unknown => {
    let o = objects.get(n);
    if (o === undefined) {
      o = JSON.parse(strings[n] as string) as unknown;
      objects.set(n, o);
    }
    return o;
  };
  const findings: Finding[] = [];
  for (let i = 0; i < values.length; i += KEYS.length) {
    const f: Record<string, unknown> = {};
    for (let j = 0; j < KEYS.length; j++) {
      const v = values[i + j];
      if (v === null || v === undefined) continue;
      const wire = WIRES[j];
      f[KEYS[j] as string] = wire === 'shared' ? strings[v as number] : wire === 'json' ? object(v as number) : v;
    }
    findings.push(f as unknown as Finding);
  }
  return { ...wire.outcome, findings };
}
