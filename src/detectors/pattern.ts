/**
 * The generic detector for rules users write (`detector: pattern`): the rule's regex decides the
 * shape, and optional validators named in the rule (`validate: [luhn]`) decide whether a match is
 * an identifier. Without validators a match is `unchecked` (scored on its pattern and context);
 * with them it is `valid` only when every validator passes, else dropped. Masked like every
 * identifier: at most the last 4 characters shown.
 */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector, DetectorEnv } from './types.js';
import { compactUpper, isPlaceholderRun, luhnValid } from './validators.js';

export const PATTERN_DETECTOR_ID = 'pattern';

/**
 * Mod 11 with weights 2, 3, 4, ... from the right of the digits before the check character:
 * check = (11 − sum mod 11) mod 11, where 10 is written `X` (ISBN-10) and a scheme that has no
 * `X` (NHS number) simply never validates it. Letters elsewhere fail.
 */
export function mod11Valid(value: string): boolean {
  if (!/^\d+[\dX]$/.test(value)) return false;
  const payload = value.slice(0, -1);
  let sum = 0;
  for (let i = 0; i < payload.length; i++) sum += Number(payload[payload.length - 1 - i]) * (i + 2);
  const check = (11 - (sum % 11)) % 11;
  return value.endsWith('X') ? check === 10 : check === Number(value.at(-1));
}

/** Validators every pattern rule may name, beside the existing detectors' checks (`npi`, `dea`, `ssn`, ...). */
const BUILTIN_VALIDATORS: Readonly<Record<string, { readonly what: string; check(normalized: string): boolean }>> = {
  luhn: { what: 'Luhn (mod 10) check digit', check: (v) => /^\d{2,}$/.test(v) && luhnValid(v) },
  mod11: { what: 'mod 11 check digit', check: mod11Valid },
  'not-placeholder': { what: 'not one character repeated or a straight run', check: (v) => !isPlaceholderRun(v) },
};

export const PATTERN_VALIDATORS: readonly string[] = Object.keys(BUILTIN_VALIDATORS);

/**
 * The detector of one pattern rule. `validators` are names: a built-in validator above, or the id
 * of a registered detector whose `check` is reused on the value (its own normalization first).
 * Returns a message instead when a name is unknown.
 */
export function patternDetector(validators: readonly string[], detectors: ReadonlyMap<string, Detector>): Detector | string {
  const checks: { name: string; run(normalized: string, env: DetectorEnv): boolean }[] = [];
  for (const name of validators) {
    const builtin = BUILTIN_VALIDATORS[name];
    const named = name === PATTERN_DETECTOR_ID || name === 'term' ? undefined : detectors.get(name);
    if (builtin) checks.push({ name, run: (v) => builtin.check(v) });
    else if (named) checks.push({ name, run: (v, env) => named.check(named.normalize(v, env), env).kind === 'valid' });
    else {
      const known = [...PATTERN_VALIDATORS, ...[...detectors.keys()].filter((k) => k !== PATTERN_DETECTOR_ID && k !== 'term')];
      return `unknown validator '${name}' (known: ${known.join(', ')})`;
    }
  }
  return {
    id: PATTERN_DETECTOR_ID,
    normalize: compactUpper,
    check(normalized, env) {
      if (checks.length === 0) return { kind: 'unchecked' };
      for (const c of checks) if (!c.run(normalized, env)) return { kind: 'invalid', reason: `${c.name} check failed` };
      return { kind: 'valid' };
    },
    mask: (match) => maskKeepLast(match.toUpperCase()),
  };
}
