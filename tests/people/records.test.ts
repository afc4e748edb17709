/**
 * Records and links, through the real engine and rules: which identifiers of one message belong
 * to one person. Each case is a message text and the number of people it must hold, and whether
 * two texts must link into one person.
 */
import { describe, expect, it } from 'vitest';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';
import { createEngine } from '../../src/engine/engine.js';
import { messagePeople } from '../../src/people/message.js';
import { countPeople, sumParts, type KeyRow } from '../../src/people/count.js';
import { CATEGORY_FACTS, identityOf } from '../../src/people/facts.js';
import { canonicalName } from '../../src/people/records.js';
import type { PersonRecord } from '../../src/people/records.js';

const key = Buffer.from('records-test-key-0123456789abcdef');
const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const engine = createEngine(rules, key, { today: new Date('2026-01-01') });

/** The records of one message made of these segments (body texts). */
function recordsOf(...texts: string[]): PersonRecord[] {
  const people = messagePeople({ key, today: new Date('2026-01-01') });
  texts.forEach((text, i) => people.segment({ location: i === 0 ? 'body' : `attachment:${i}.txt`, item: String(i), format: 'text', text }, engine.read({ location: 'body', item: String(i), format: 'text', text }), 'medium'));
  return people.finish();
}

/** People in these messages together (each message: its segments). */
function people(...messages: string[][]): number {
  const rows: KeyRow[] = [];
  messages.forEach((segments, message) => recordsOf(...segments).forEach((r, record) => r.keys.forEach((k) => rows.push({ mailbox: 1, message, record, key: k }))));
  return sumParts(countPeople(rows).total);
}

const block = (name: string, dob: string, id: string): string => `Patient: ${name}\nDOB: ${dob}\n${id}`;

describe('records: one person per record, several per message when mail holds several', () => {
  it.each([
    ['a labelled block: name, DOB and MBI are one person', [block('Rosalind Thistlewood', '03/14/1952', 'MBI: 1EG4TE5MK73')], 1],
    ['a table of three patients: three people', ['Patient Name,DOB,SSN,MBI\nRosalind Thistlewood,03/14/1952,536-90-4399,1EG4TE5MK73\nEdmund Fennimore,04/15/1961,412-55-6190,2FH5UF6NK84\nMarisol Oakhurst,05/16/1970,318-44-2287,3GJ6VG7PM95'], 3],
    ['a list of pickups, one a line: two people', ['Pickups:\n1. Patient: Rosalind Thistlewood, DOB 03/14/1952, MBI 1EG4TE5MK73\n2. Patient: Edmund Fennimore, DOB 04/15/1961, MBI 2FH5UF6NK84'], 2],
    ['a thread quoting two patients: two people', [`${block('Rosalind Thistlewood', '03/14/1952', 'SSN: 536-90-4399')}\n\nOn Monday the doctor wrote:\n> ${block('Edmund Fennimore', '04/15/1961', 'SSN: 412-55-6190').replace(/\n/g, '\n> ')}`], 2],
    ['a single-patient message: name in the body, SSN in the attachment', ['Patient: Rosalind Thistlewood\nDOB: 03/14/1952\n\nSee attached.', 'Social Security number\nSSN: 536-90-4399'], 1],
  ] as [string, string[], number][])('%s', (_name, segments, n) => {
    expect(people(segments)).toBe(n);
  });

  it('links a HICN to the SSN inside it, across messages', () => {
    expect(people(['Medicare HICN: 536904399A'], ['SSN: 536-90-4399'])).toBe(1);
    // Another SSN stays another person.
    expect(people(['Medicare HICN: 536904399A'], ['SSN: 412-55-6190'])).toBe(2);
  });

  it('links name + DOB across messages, written either way round; a different DOB is another person', () => {
    expect(people([block('Rosalind Thistlewood', '03/14/1952', 'SSN: 536-90-4399')], ['Patient: Thistlewood, Rosalind\nDOB: 03/14/1952'])).toBe(1);
    expect(people([block('Rosalind Thistlewood', '03/14/1952', 'SSN: 536-90-4399')], ['Patient: Rosalind Thistlewood\nDOB: 03/15/1952'])).toBe(2);
  });

  it('keeps nothing but keyed fingerprints in a record', () => {
    for (const r of recordsOf(block('Rosalind Thistlewood', '03/14/1952', 'SSN: 536-90-4399\nMBI: 1EG4TE5MK73'))) {
      for (const k of r.keys) expect(k).toMatch(/^[smirnde]:[0-9a-f]{16}$/);
    }
  });

  it('canonical names: order, case, initials and titles do not matter', () => {
    expect(canonicalName('THISTLEWOOD, ROSALIND')).toBe('rosalind thistlewood');
    expect(canonicalName('Mrs. Rosalind J. Thistlewood')).toBe('rosalind thistlewood');
  });
});

describe('category facts: one table, checked against every bundled rule', () => {
  it('a rule that signals a patient identifier in an insurance category is direct only when it is a member ID', () => {
    for (const rule of rules) {
      const identity = identityOf(rule.id, rule.category);
      if (rule.category === 'ssn' || rule.category === 'medicare-id') expect(identity, rule.id).toBe('direct');
      // Renaming the member-ID rule must fail here, not silently change a breach count.
      if (rule.category === 'insurance' && rule.role === 'identifier' && rule.signals.has('identifier')) expect(identity, rule.id).toBe('direct');
      if (rule.category === 'insurance' && !rule.signals.has('identifier')) expect(identity, rule.id).toBe('context');
    }
    expect(rules.some((r) => identityOf(r.id, r.category) === 'direct' && r.category === 'insurance')).toBe(true);
    expect(Object.keys(CATEGORY_FACTS).length).toBe(7);
  });
});
