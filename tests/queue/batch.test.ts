import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/finding.js';
import type { UnitEvent } from '../../src/pipeline/unit.js';
import { parseBatch, writeBatch } from '../../src/queue/protocol.js';

const finding = (i: number, over: Partial<Finding> = {}): Finding => ({
  rule: i % 2 === 0 ? 'ssn' : 'member-id',
  category: i % 2 === 0 ? 'ssn' : 'insurance',
  confidence: 'high',
  score: 0.95,
  location: 'attachment:roster.csv',
  masked: `•••-••-${1000 + i}`,
  fingerprint: i.toString(16).padStart(16, '0'),
  why: { pattern: 'labelled', verdict: 'valid', baseScore: 0.9, score: 0.95, label: 'ssn' },
  ...over,
});

const events: UnitEvent[] = [
  { type: 'message', locator: 'a.mbox@0', size: 100, outcome: { messageId: '<a@x>', date: null, maskedSubject: null, findings: [finding(0), finding(1, { part: 'sheet Ärzte', rosterRow: 3 })], problems: [] } },
  { type: 'error', problem: { code: 'corrupt-attachment', message: 'x.pdf: cannot be read', location: 'attachment:x.pdf' } },
  { type: 'message', locator: 'a.mbox@100', folder: 'INBOX', size: 50, outcome: { messageId: '<b@x>', date: '2026-01-01T00:00:00.000Z', maskedSubject: 'Re: •••', findings: [], problems: [], people: [{ keys: ['s:0123456789abcdef'] }] } },
  { type: 'cursor', cursor: '150' },
  { type: 'present', present: { uidValidity: '7', upTo: 9, uids: '1:4,9' } },
];

/** The batch as written, with `edit` applied to its JSON. */
function altered(edit: (wire: { strings: string[]; events: { outcome?: { findings: unknown[] } }[] }) => void): string {
  const wire = JSON.parse(writeBatch(events)) as { strings: string[]; events: { outcome?: { findings: unknown[] } }[] };
  edit(wire);
  return JSON.stringify(wire);
}

describe('queue result batches: findings packed against one string table', () => {
  it('come back as the worker had them', () => {
    expect(parseBatch(writeBatch(events))).toEqual(events);
  });

  it('are several times smaller than the events as JSON on roster-like mail', () => {
    const roster: UnitEvent[] = [{ type: 'message', locator: 'r@0', size: 1, outcome: { messageId: '<r@x>', date: null, maskedSubject: null, findings: Array.from({ length: 3000 }, (_, i) => finding(i, { rosterRow: i })), problems: [] } }];
    expect(writeBatch(roster).length).toBeLessThan(JSON.stringify(roster).length / 3);
  });

  it.each<[string, (wire: { strings: string[]; events: { outcome?: { findings: unknown[] } }[] }) => void]>([
    ['a string number outside the table', (w) => ((w.events[0]?.outcome?.findings as unknown[])[0] = 999)],
    ['a category that is not one', (w) => (w.strings[w.strings.indexOf('insurance')] = 'not-a-category')],
    ['an explanation without its pattern', (w) => (w.strings[w.strings.findIndex((s) => s.startsWith('{'))] = '{"verdict":"valid","baseScore":1,"score":1}')],
    ['an explanation that is not JSON', (w) => (w.strings[w.strings.findIndex((s) => s.startsWith('{'))] = '{')],
    ['a finding cut short', (w) => (w.events[0]?.outcome?.findings as unknown[]).pop()],
    ['an object where a value belongs', (w) => ((w.events[0]?.outcome?.findings as unknown[])[6] = { x: 1 })],
    ['a masked value that is a number', (w) => ((w.events[0]?.outcome?.findings as unknown[])[6] = 5)],
    ['no string table', (w) => delete (w as { strings?: string[] }).strings],
  ])('are refused when altered: %s', (_name, edit) => {
    expect(() => parseBatch(altered(edit))).toThrow();
  });
});
