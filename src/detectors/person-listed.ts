/**
 * A person's name written without a label, where another rule found an identifier nearby
 * (`Rosalind Thistlewood DOB 03/14/1941`, `Larkspur, Edmund | Plan: …`): told from other
 * capitalized words by the vendored public-domain lists (name-lists.ts). Same normalization,
 * fingerprint and mask as `person-name` (the same person gives the same fingerprint).
 *
 * Valid when no word is a common word of mail (person-name's list, payer and plan words), and
 * - the first name is an SSA first name; when it is also an everyday word (`Will`, `Grant`,
 *   `Hope`, `Price`), the surname must be a Census surname;
 * - or the first name is an initial and the surname a Census surname (`R. Fennimore`).
 */
import { isListedFirstName, isListedSurname } from './name-lists.js';
import { NOT_NAMES, personNameDetector } from './person-name.js';
import type { Detector } from './types.js';

/** SSA first names that are also everyday words, places or titles: a name only with a Census surname. */
const EVERYDAY = new Set(
  (
    'will may june april august grant mark bill rich hope faith joy grace dawn rose iris ivy penny summer autumn winter star ' +
    'king prince royal major chase hunter mason price sterling art guy jack jean bob pat sue don ray rob wade lane dale glen ' +
    'cliff dallas austin houston jordan paris london asia china india sage rocky angel precious miracle unique golden general ' +
    'early young page reed ford lee dean case chance christian israel justice sunday amber ruby pearl crystal diamond jewel ' +
    'honey candy cash bud buck rusty dusty sandy stormy ocean river sky rain forest green gray silver frank earnest noble ' +
    'sonny baby love legend lady bishop judge deacon carter cooper parker taylor tyler walker fisher baker porter ' +
    'best regards thanks cheers'
  ).split(' '),
);

/** Capitalized words of insurance, equipment and office mail that follow a first name's shape. */
const NOT_SURNAMES = new Set(
  (
    'advantage supplement complete value premier access choice select gold plus blue cross shield care health healthcare ' +
    'medical supply supplies services service home oxygen mobility pulmonary associates clinic hospital center team group ' +
    'department office desk billing intake dispatch support customer manager coordinator specialist therapist lead ' +
    'hmo ppo pdp snp pos epo'
  ).split(' '),
);

function isWord(w: string): boolean {
  return !NOT_NAMES.has(w) && !NOT_SURNAMES.has(w);
}

/** A capitalized word (Title Case, `O'Brannigan`, `Vasquez-Ruiz`, ALL CAPS) or an initial. */
const CAPITALIZED = /(?<![\p{L}\p{N}'’-])(?:[A-Z][A-Za-z'’-]*[A-Za-z]|[A-Z]\.?)(?![\p{L}\p{N}'’-])/gu;

function check(v: string): boolean {
  return personListedDetector.check(personListedDetector.normalize(v), { today: new Date(0) }).kind === 'valid';
}

/**
 * Every listed name in a short text, with no context (subjects, file names): `First [M.] Last`
 * and `Last, First`, tried at every capitalized word so "Referral Rosalind Thistlewood" finds
 * the name after the word that is not one. Generous on purpose: it only masks.
 */
function findUnlabelled(text: string): { start: number; end: number }[] {
  const words = [...text.matchAll(CAPITALIZED)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const found: { start: number; end: number }[] = [];
  const gap = (a: { end: number }, b: { start: number }, sep: RegExp): boolean => sep.test(text.slice(a.end, b.start));
  for (let i = 0; i + 1 < words.length; i++) {
    const a = words[i] as { start: number; end: number };
    const b = words[i + 1] as { start: number; end: number };
    if (gap(a, b, /^ ,? ?$|^, ?$/)) {
      const c = words[i + 2];
      // First M. Last
      if (c && b.end - b.start <= 2 && gap(b, c, /^ $/) && check(text.slice(a.start, c.end))) {
        found.push({ start: a.start, end: c.end });
        i += 2;
        continue;
      }
      if (check(text.slice(a.start, b.end))) {
        found.push({ start: a.start, end: b.end });
        i += 1;
      }
    }
  }
  return found;
}

export const personListedDetector: Detector = {
  id: 'person-listed',
  normalize: personNameDetector.normalize,
  findUnlabelled,
  check(v) {
    const comma = v.indexOf(',');
    const words = v.split(/[ ,]+/).filter((w) => w !== '');
    if (words.length < 2) return { kind: 'invalid', reason: 'one word' };
    // `Last, First [M.]` or `First [M.] Last`
    const first = (comma >= 0 ? words[1] : words[0]) as string;
    const last = (comma >= 0 ? words[0] : words[words.length - 1]) as string;
    if (!words.every((w) => isWord(w.replace(/\.$/, '')))) return { kind: 'invalid', reason: 'a common word, not a name' };
    const bareFirst = first.replace(/\.$/, '');
    if (last.replace(/\.$/, '').length < 2) return { kind: 'invalid', reason: 'no surname' };
    if (bareFirst.length === 1) return isListedSurname(last) ? { kind: 'valid' } : { kind: 'invalid', reason: 'an initial and no listed surname' };
    if (!isListedFirstName(bareFirst)) return { kind: 'invalid', reason: 'no listed first name' };
    if (EVERYDAY.has(bareFirst) && !isListedSurname(last)) return { kind: 'invalid', reason: 'an everyday word and no listed surname' };
    return { kind: 'valid' };
  },
  mask: personNameDetector.mask,
};
