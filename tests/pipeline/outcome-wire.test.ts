import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/finding.js';
import type { MessageOutcome } from '../../src/model/records.js';
import { packOutcome, unpackOutcome } from '../../src/pipeline/outcome-wire.js';

const finding = (over: Partial<Finding> = {}): Finding => ({
  rule: 'ssn',
  category: 'ssn',
  confidence: 'high',
  score: 0.95,
  location: 'attachment:roster.csv',
  masked: '•••-••-6789',
  fingerprint: '259537c7675e08f2',
  why: { pattern: 'dashed-or-dotted', verdict: 'valid', baseScore: 0.5, score: 0.95, label: 'ssn' },
  ...over,
});

const outcome = (findings: Finding[], over: Partial<MessageOutcome> = {}): MessageOutcome => ({
  messageId: '<m1@example.test>',
  date: '2026-01-02T03:04:05.000Z',
  maskedSubject: 'Claim •••-••-6789',
  findings,
  problems: [],
  ...over,
});

describe('outcome-wire: outcomes from worker threads come back as they were', () => {
  it.each<[string, MessageOutcome]>([
    ['no findings, no subject, no date', outcome([], { maskedSubject: null, date: null })],
    ['problems and people records', outcome([finding()], { problems: [{ code: 'corrupt-attachment', message: 'a.pdf: cannot be read', location: 'attachment:a.pdf' }], people: [{ keys: ['n:0123456789abcdef', 's:fedcba9876543210'] }, { keys: [] }] })],
    [
      'every optional field of a finding and of its explanation',
      outcome([
        finding({ part: 'page 3', rosterRow: 0, why: { pattern: 'p', verdict: 'unchecked', baseScore: 0.1, score: 0.3, nearKeyword: 'member', negative: 'invoice', corroboratedBy: ['identifier', 'health'] } }),
        finding({ rosterRow: 41, score: 1 / 3 }),
      ]),
    ],
    [
      'strings JSON must escape, and characters beyond one byte',
      outcome([
        finding({ location: 'attachment:Ünïcödé "q" \\ back\u0000slash 😀.txt', part: 'sheet «Ärzte»', masked: '••••••9211', fingerprint: 'ab\ncd' }),
        finding({ location: 'attachment:Ünïcödé "q" \\ back\u0000slash 😀.txt', rule: 'member-id', category: 'insurance', confidence: 'low' }),
      ]),
    ],
    ['values that repeat and values that do not, in order', outcome(Array.from({ length: 300 }, (_, i) => finding({ rule: i % 3 === 0 ? 'mbi' : 'ssn', fingerprint: i.toString(16).padStart(16, '0'), masked: `•••-••-${1000 + i}`, rosterRow: i % 7 === 0 ? undefined : i })))],
  ])('%s', (_name, o) => {
    const back = unpackOutcome(packOutcome(o));
    expect(back).toEqual(o);
    // Field by field too: no field appears that was not there (toEqual ignores undefined ones).
    back.findings.forEach((f, i) => expect(Object.keys(f).sort()).toEqual(Object.keys(o.findings[i] as Finding).filter((k) => (o.findings[i] as unknown as Record<string, unknown>)[k] !== undefined).sort()));
  });

  it('is a fraction of the JSON of a roster-like outcome (what makes threads pay on PHI-dense mail)', () => {
    const roster = outcome(
      Array.from({ length: 2000 }, (_, i) =>
        finding({ rule: ['ssn', 'mbi', 'member-id', 'date-of-birth', 'person-name'][i % 5] as string, fingerprint: (i * 2654435761).toString(16).padStart(16, '0').slice(-16), masked: `•••-••-${1000 + i}`, rosterRow: Math.floor(i / 5) }),
      ),
    );
    expect(packOutcome(roster).length).toBeLessThan(JSON.stringify(roster).length / 2.5);
  });
});
