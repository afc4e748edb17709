/**
 * Staff vs patient (Detection 2, people's names): a name in a signature block, in From/To/Cc, or
 * with Dr./RN/NP is staff. It must not become a `person-*` hit (the `person` signal that ties PHI
 * to someone, and what helper code reads as "the person this PHI is about"). Patients next to
 * them still are. Table of must-match and must-not-match texts, plus the generated corpus: no
 * signature name of its staff is ever a person hit.
 */
import { describe, expect, it } from 'vitest';
import { generateQualityCorpus, STAFF } from '../../fixtures/quality.js';
import { createEngine } from '../../src/engine/engine.js';
import { parseMessage } from '../../src/parse/mime.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const engine = createEngine(rules, Buffer.from('a test key of enough length'));

/** The text of every person-* hit (a signal at low or above) in a body. */
function personHits(text: string): string[] {
  return engine
    .scanAll({ text, location: 'body', item: 'body', format: 'text' }, 'low')
    .filter((h) => h.finding.rule.startsWith('person-'))
    .map((h) => text.slice(h.start, h.end));
}

const STAFF_TEXTS: [string, string][] = [
  ['Thanks,\nDana Whitfield\nIntake Coordinator\nNorthwind Home Oxygen\nMRN 4412339', 'Dana Whitfield'],
  ['Patient MRN 4412339\n\nRegards,\nMarcus Bellweather\n555-0134', 'Marcus Bellweather'],
  ['DOB 03/14/1952 on file. Regards, Marcus Bellweather', 'Marcus Bellweather'],
  ['MRN 4412339\n--\nPriya Ramaswami\nBilling Specialist', 'Priya Ramaswami'],
  ['Dana Whitfield\nRespiratory Therapist\nDOB: 03/14/1952', 'Dana Whitfield'],
  ['From: Tomas Ferreira <tomas.ferreira@northwind.example>\nSubject: new patient\nDOB: 03/14/1952', 'Tomas Ferreira'],
  ['To: Janelle Okafor; Cc: Gideon Marsh\nMRN 4412339', 'Janelle Okafor'],
  ['To: Janelle Okafor; Cc: Gideon Marsh\nMRN 4412339', 'Gideon Marsh'],
  ['From: Whitfield, Dana\nSSN 536-90-4399', 'Whitfield, Dana'],
  ['Dr. Rosalind Thistlewood ordered oxygen, MRN 4412339', 'Rosalind Thistlewood'],
  ['Referring: Dr. Thistlewood, MRN 4412339', 'Thistlewood'],
  ['Rosalind Thistlewood, RN, checked MRN 4412339', 'Rosalind Thistlewood'],
  ['Rosalind Thistlewood NP - MRN 4412339', 'Rosalind Thistlewood'],
  ['Harold Whitcombe, MD signed the CMN. Medicare ID 3K97-W25-HN61', 'Harold Whitcombe'],
];

const PATIENT_TEXTS: [string, string][] = [
  ['Patient: Rosalind Thistlewood\nDOB 03/14/1941', 'Rosalind Thistlewood'],
  ['Rosalind Thistlewood DOB 03/14/1941\n\nThanks,\nDana Whitfield\nIntake Coordinator', 'Rosalind Thistlewood'],
  ['Re: Thistlewood, Rosalind\nMRN 4412339', 'Thistlewood, Rosalind'],
  ['Mrs. Thistlewood, Medicare ID 3K97-W25-HN61', 'Thistlewood'],
  ['Edmund Quillfeather SSN 536-90-4399', 'Edmund Quillfeather'],
];

describe('staff names are not person hits', () => {
  it.each(STAFF_TEXTS)('%j: not %s', (text, staff) => {
    expect(personHits(text).filter((h) => h.includes(staff) || staff.includes(h))).toEqual([]);
  });
});

describe('patients still are', () => {
  it.each(PATIENT_TEXTS)('%j: %s', (text, patient) => {
    expect(personHits(text)).toContain(patient);
  });
  it('a patient and the staff member who signs: only the patient', () => {
    expect(personHits('Rosalind Thistlewood DOB 03/14/1941\n\nThanks,\nDana Whitfield\nIntake Coordinator')).toEqual(['Rosalind Thistlewood']);
  });
});

describe('the generated corpus: no staff signature is a person hit', () => {
  it('300 messages, every body and forwarded copy', async () => {
    let hits = 0;
    const staffHits: string[] = [];
    for (const m of generateQualityCorpus(7, 300)) {
      const parsed = await parseMessage(Buffer.from(m.raw, 'utf8'), { maxNestingDepth: 8 });
      for (const segment of parsed.segments) {
        if (segment.location === 'subject') continue;
        for (const h of personHits(segment.text)) {
          hits++;
          if (STAFF.some((s) => h.includes(s) || s.split(' ').reverse().join(', ') === h)) staffHits.push(h);
        }
      }
    }
    expect(hits).toBeGreaterThan(100); // patients are found, so the check can fail
    expect(staffHits).toEqual([]);
  });
});
