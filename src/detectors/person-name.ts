/**
 * A person's name where mail names the one PHI is about (`Patient: Rosalind Thistlewood`,
 * `Re: Thistlewood, Rosalind`, `Mrs. Thistlewood`). Never reported: context rules only give the
 * `person` signal, and the name is masked whole (no initials) wherever it is shown.
 * Validation: capitalized words of letters (with `'` `-` `.`), none of them a common word that
 * labels put in front of a name's place ("Patient: Please call").
 */
import type { Detector } from './types.js';

/** Words that follow `Patient:`, `Name:` or `Re:` in mail and are not names. */
export const NOT_NAMES: ReadonlySet<string> = new Set(
  (
    'a an the this that these those our your his her their my its please thanks thank hello hi dear re fw fwd ' +
    'patient patients name names pt subscriber member insured beneficiary resident client family ' +
    'new old update updated order orders referral referrals delivery billing bill claim claims invoice question questions ' +
    'meeting call today tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday ' +
    'january february march april may june july august september october november december ' +
    'medicare medicaid insurance plan equipment item items oxygen test sample placeholder unknown none na n/a tbd ' +
    'office word excel outlook teams is was will has have are be not no yes ok and or for to of in on at by with from as all any see attached'
  ).split(' '),
);

export const personNameDetector: Detector = {
  id: 'person-name',
  normalize: (m) => m.trim().replace(/\s+/g, ' ').replace(/,\s*/g, ', ').toLowerCase(),
  check(v) {
    const words = v.split(/[ ,]+/).filter((w) => w !== '');
    if (words.length === 0) return { kind: 'invalid', reason: 'no name' };
    for (const w of words) {
      const bare = w.replace(/\.$/, '');
      if (NOT_NAMES.has(bare)) return { kind: 'invalid', reason: 'a common word, not a name' };
    }
    if (words.every((w) => w.replace(/\.$/, '').length <= 1)) return { kind: 'invalid', reason: 'initials only' };
    return { kind: 'valid' };
  },
  // Nothing of a name is shown, not even initials: only its shape.
  mask: (m) => m.replace(/[\p{L}\p{N}]/gu, '•'),
};
