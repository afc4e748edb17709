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

/**
 * How a finding's field crosses: a string written once (`shared`), the explanation written once
 * as JSON (`explanation`), or the value itself (`string`, `number`), each checked when read back.
 */
type FieldWire = 'shared' | 'explanation' | 'string' | 'number';

/** Every field of a finding (a field added to Finding and not here fails to compile). */
const FIELDS: { readonly [K in keyof Required<Finding>]: FieldWire } = {
  rule: 'shared',
  category: 'shared',
  confidence: 'shared',
  score: 'number',
  location: 'shared',
  part: 'shared',
  masked: 'string',
  fingerprint: 'string',
  why: 'explanation',
  rosterRow: 'number',
};
/** The fields a finding may lack (the others must be there). */
const OPTIONAL: ReadonlySet<keyof Finding> = new Set<keyof Finding>(['part', 'rosterRow']);
const KEYS = Object.keys(FIELDS) as (keyof Finding)[];
const WIRES = KEYS.map((k) => FIELDS[k]);

/** A value of a packed finding: a number into the string table, the value itself, or null (absent). */
export type PackedValue = string | number | null;

/** Packs findings as KEYS.length values each, the repeated strings into one table shared by every call. */
export function findingPacker(): { readonly strings: string[]; pack(findings: readonly Finding[]): PackedValue[] } {
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
  return {
    strings,
    pack(findings) {
      const values: PackedValue[] = [];
      for (const f of findings) {
        for (let j = 0; j < KEYS.length; j++) {
          const v = f[KEYS[j] as keyof Finding];
          const wire = WIRES[j];
          if (v === undefined) values.push(null);
          else if (wire === 'shared') values.push(shared(v as string));
          else if (wire === 'explanation') values.push(shared(JSON.stringify(v)));
          else values.push(v as string | number);
        }
      }
      return values;
    },
  };
}

/** Why packed findings cannot be read back (another version wrote them, or they were altered). */
export class WireError extends Error {}

/**
 * Reads back what `findingPacker` packed against `strings`. Checks the shape as it goes (every
 * field a finding must have, a number into the table where one belongs, a string or a number
 * where the field is one) and throws a WireError naming the field, never a value; what the values
 * mean (a category, an explanation's fields) is the caller's to check.
 */
export function findingUnpacker(strings: readonly string[]): (values: readonly unknown[]) => Finding[] {
  // The explanation parsed once per distinct value: findings that share it share the (read-only) object.
  const objects = new Map<number, unknown>();
  const at = (v: unknown, key: string): string => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= strings.length) throw new WireError(`finding field ${key}: not a string of the table`);
    return strings[v] as string;
  };
  return (values) => {
    if (values.length % KEYS.length !== 0) throw new WireError(`findings: ${values.length} values, not ${KEYS.length} a finding`);
    const findings: Finding[] = [];
    for (let i = 0; i < values.length; i += KEYS.length) {
      const f: Record<string, unknown> = {};
      for (let j = 0; j < KEYS.length; j++) {
        const v = values[i + j];
        const key = KEYS[j] as keyof Finding;
        if (v === null || v === undefined) {
          if (!OPTIONAL.has(key)) throw new WireError(`finding field ${key}: missing`);
          continue;
        }
        const wire = WIRES[j];
        if (wire === 'shared') f[key] = at(v, key);
        else if (wire === 'explanation') {
          let o = objects.get(v as number);
          if (o === undefined) {
            const text = at(v, key);
            try {
              o = JSON.parse(text) as unknown;
            } catch {
              throw new WireError(`finding field ${key}: not JSON`);
            }
            objects.set(v as number, o);
          }
          f[key] = o;
        } else if (typeof v === wire) f[key] = v;
        else throw new WireError(`finding field ${key}: not a ${wire}`);
      }
      findings.push(f as unknown as Finding);
    }
    return findings;
  };
}

interface Wire {
  readonly outcome: Omit<MessageOutcome, 'findings'>;
  /** The strings written once: shared fields, and explanations as JSON text. */
  readonly strings: string[];
  /** KEYS.length values per finding, in KEYS order. */
  readonly findings: PackedValue[];
}

export function packOutcome(outcome: MessageOutcome): string {
  const { findings, ...rest } = outcome;
  const packer = findingPacker();
  const wire: Wire = { outcome: rest, findings: packer.pack(findings), strings: packer.strings };
  return JSON.stringify(wire);
}

/** Outcomes from this process's own worker threads (the same build): read back without further checks. */
export function unpackOutcome(text: string): MessageOutcome {
  const wire = JSON.parse(text) as Wire;
  return { ...wire.outcome, findings: findingUnpacker(wire.strings)(wire.findings) };
}
