/** The terminal table rendered from a report model: width, pluralisation, the HHS marker, errors, colour. */
import { describe, expect, it } from 'vitest';
import { renderTable, useColor } from '../../src/sinks/table.js';
import type { MailboxSummary, ReportModel } from '../../src/sinks/model.js';
import type { ErrorRecord } from '../../src/sinks/types.js';

function mailbox(name: string, messages: number, withPhi: number, people: number, errors = 0): MailboxSummary {
  return {
    source: `mbox:/srv/${name}`,
    mailbox: name,
    messages,
    messagesWithPhi: withPhi,
    byCategory: withPhi > 0 ? { ssn: withPhi, 'date-of-birth': withPhi, 'health-condition': 2 * withPhi, insurance: 1, 'medicare-id': 3, 'medical-record-number': 1, 'date-of-death': 1 } : {},
    errors,
    skipped: 0,
    individuals: people,
    dobOnlyIndividuals: 0,
    estimatedIndividuals: people,
    overThreshold: people >= 500,
    people: { roster: 0, direct: people, nameDob: 0, dobOnly: 0 },
    actions: { 'secure-portal-and-delete': withPhi, delete: 0, review: 0 },
  };
}

function model(mailboxes: MailboxSummary[], errors: ErrorRecord[] = []): ReportModel {
  const sum = (f: (m: MailboxSummary) => number): number => mailboxes.reduce((n, m) => n + f(m), 0);
  return {
    scope: { kind: 'run', run: 3 },
    interrupted: undefined,
    run: 3,
    title: 'Run #3 (2026-12-06 02:30 UTC): the messages this run scanned',
    generatedAt: '2026-12-06T02:31:00.000Z',
    totals: {
      mailboxes: mailboxes.length,
      mailboxesWithPhi: mailboxes.filter((m) => m.messagesWithPhi > 0).length,
      messages: sum((m) => m.messages),
      messagesWithPhi: sum((m) => m.messagesWithPhi),
      findings: 0,
      individuals: sum((m) => m.individuals),
      dobOnlyIndividuals: 0,
      estimatedIndividuals: sum((m) => m.estimatedIndividuals),
      mailboxesOverThreshold: mailboxes.filter((m) => m.overThreshold).length,
      people: { roster: 0, direct: sum((m) => m.individuals), nameDob: 0, dobOnly: 0 },
      overThreshold: sum((m) => m.estimatedIndividuals) >= 500,
      explanation: { records: 0, clusters: 0, counted: 0, acrossMessages: 0, acrossMailboxes: 0, sharedKeys: { ssn: 0, medicareId: 0, memberId: 0, recordNumber: 0, nameDob: 0, rosterRow: 0 }, rosterRowsMerged: 0 },
    },
    categories: (['ssn', 'medicare-id', 'insurance', 'medical-record-number', 'date-of-birth', 'date-of-death', 'health-condition'] as const).map((c) => ({ category: c, label: c, findings: 1, messages: 1 })),
    actions: [{ action: 'secure-portal-and-delete', label: 'Move to the secure portal, then delete from mail', messages: sum((m) => m.messagesWithPhi), owners: 1 }],
    mailboxes,
    completeness: {
      complete: errors.length === 0,
      errors: errors.length,
      skipped: 0,
      strict: false,
      byCode: errors.length > 0 ? [{ code: 'read-failed', severity: 'failed', count: errors.length }] : [],
      firstErrors: errors.slice(0, 10),
      interruptedRuns: [],
      minConfidence: ['medium'],
    },
    runs: [],
    trend: [],
  };
}

const err = (i: number): ErrorRecord => ({ type: 'error', source: 'mbox:/srv/a', mailbox: 'a', folder: 'INBOX', messageId: `<${i}@x>`, error: 'mbox: cannot read', code: 'read-failed', severity: 'failed' });

describe('table', () => {
  it('pluralises every count (1 message holds, 2 messages hold, 1 mailbox, 1 owner)', () => {
    const one = renderTable(model([mailbox('a', 1, 1, 1)]), { width: 200, color: false });
    expect(one).toContain('1 message in 1 mailbox; 1 message holds PHI (100%) in 1 mailbox, at medium confidence or above.');
    expect(one).toContain('People: 1 individual (estimate, each counted once across mailboxes)');
    expect(one).toContain(': 1 message (1 owner)');
    expect(one).toContain('All mailboxes together: below the HHS 500-individual threshold; 0 mailboxes at or over it alone.');
    const two = renderTable(model([mailbox('a', 3, 2, 2), mailbox('b', 2, 0, 0)]), { width: 200, color: false });
    expect(two).toContain('5 messages in 2 mailboxes; 2 messages hold PHI (40%) in 1 mailbox,');
  });

  it('the HHS marker has its own character: numbers stay right-aligned', () => {
    const out = renderTable(model([mailbox('big', 9000, 700, 1234), mailbox('small', 10, 1, 7)]), { width: 200, color: false });
    const lines = out.split('\n');
    const header = lines[2] as string;
    const big = lines.find((l) => l.startsWith('big')) as string;
    const small = lines.find((l) => l.startsWith('small')) as string;
    expect(big).toMatch(/1234! /);
    // The last digit of People sits in the same column on both rows.
    expect(big.indexOf('1234') + 4).toBe(small.indexOf(' 7 ') + 2);
    // And the Errors column lines up with its heading.
    expect(big.length).toBe(header.length);
    expect(small.length).toBe(header.length);
    expect(out).toContain('All mailboxes together: at or over the HHS 500-individual threshold; 1 mailbox at or over it alone (marked !).');
  });

  it('fits the width it is given, 80 columns included, however long the names', () => {
    const boxes = [mailbox('billing-department-shared-mailbox@hospital.example.org', 120, 40, 33), mailbox('x', 5, 1, 1)];
    for (const width of [80, 100, 60]) {
      const out = renderTable(model(boxes, [err(1)]), { width, color: false });
      for (const l of out.split('\n')) expect(l.length, `${width}: ${l}`).toBeLessThanOrEqual(width);
      expect(out).toMatch(/^billi\S*…\S*\.org /m);
    }
    // With room, one column per category.
    expect(renderTable(model(boxes), { width: 250, color: false })).toMatch(/SSN\s+Medicare\s+Insurance\s+MRN\s+DOB\s+DOD\s+Health\s+Errors/);
  });

  it('names the first errors and counts the rest', () => {
    const errors = Array.from({ length: 8 }, (_, i) => err(i));
    const out = renderTable(model([mailbox('a', 10, 1, 1, 8)], errors), { width: 100, color: false });
    expect(out).toContain('Incomplete: 8 items failed to read.');
    expect(out).toContain('First 5 errors:');
    expect(out.match(/^ {2}a\/INBOX \[read-failed\]: mbox: cannot read$/gm)?.length).toBe(5);
    expect(out).toContain('…and 3 more errors');
  });

  it('colour only when asked; widths are measured without escape codes', () => {
    const m = model([mailbox('big', 9000, 700, 1234), mailbox('small', 10, 1, 7)]);
    const plain = renderTable(m, { width: 120, color: false });
    const coloured = renderTable(m, { width: 120, color: true });
    expect(coloured).toContain('\x1b[31m');
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).toBe(plain);
    expect(useColor({}, true, undefined)).toBe(true);
    expect(useColor({}, false, undefined)).toBe(false);
    expect(useColor({ NO_COLOR: '1' }, true, undefined)).toBe(false);
    expect(useColor({ FORCE_COLOR: '1' }, false, undefined)).toBe(true);
    expect(useColor({ FORCE_COLOR: '0' }, true, undefined)).toBe(false);
    expect(useColor({ FORCE_COLOR: '1' }, true, false)).toBe(false);
  });

  it('what h/run added: skipped counts and wording, --strict, the interrupted banner, * on partly read mailboxes, no control sequences', () => {
    const skippedErr: ErrorRecord = { type: 'error', source: 'mbox:/srv/a', mailbox: 'a', folder: 'INBOX', location: 'attachment:photo.png', error: 'image without text', code: 'no-text', severity: 'skipped' };
    const boxes = [{ ...mailbox('a\x1b[31mred', 10, 1, 1), skipped: 2, interrupted: true as const }, mailbox('b', 5, 0, 0)];
    const base = model(boxes);
    const m = (strict: boolean): ReportModel => ({
      ...base,
      interrupted: { type: 'run', run: 3, status: 'interrupted', stoppedBy: 'signal', startedAt: '2026-12-06T02:30:00.000Z', finishedAt: '2026-12-06T02:31:00.000Z' },
      completeness: { ...base.completeness, complete: false, skipped: 2, strict, byCode: [{ code: 'no-text', severity: 'skipped', count: 2 }], firstErrors: [skippedErr, skippedErr], interruptedRuns: [{ id: 3, startedAt: '2026-12-06T02:30:00.000Z', status: 'interrupted' }] },
    });
    const out = renderTable(m(false), { width: 120, color: false });
    expect(out).toMatch(/^INTERRUPTED: the scan was stopped \(SIGINT\/SIGTERM\) before it ended/m);
    // The partly read mailbox is marked, its name without the escape sequence.
    expect(out).toMatch(/^a\ufffd\[31mred \*\s/m);
    expect(out).not.toContain('\x1b');
    // Skipped items: a column, and a line saying they are not errors unless --strict.
    expect(out).toMatch(/Errors\s+Not read$/m);
    expect(out).toMatch(/^a\S* \*\s+10\s+1\s.*\s0\s+2$/m);
    // (Long lines wrap with a two-space indent.)
    const unwrapped = (t: string): string => t.replace(/\n {2}/g, ' ');
    expect(unwrapped(out)).toMatch(/^2 items not read by design \(images.*; not an error \(--strict makes them one\)\.$/m);
    expect(out).toContain('no-text 2 (by design)');
    const strict = renderTable(m(true), { width: 120, color: false });
    expect(unwrapped(strict)).toMatch(/^2 items not read by design \(images.*: with --strict, the scan is incomplete\.$/m);
    // Output closed instead of a signal; an unfinished (killed) run in the picture.
    expect(renderTable({ ...m(false), interrupted: { type: 'run', run: 3, status: 'interrupted', stoppedBy: 'output-closed', startedAt: '', finishedAt: null } }, { width: 120, color: false })).toMatch(
      /^INTERRUPTED: the scan was stopped \(its output was closed\)/m,
    );
    expect(
      renderTable({ ...m(false), scope: { kind: 'picture' }, interrupted: { type: 'run', run: 3, status: 'unfinished', startedAt: '', finishedAt: null } }, { width: 120, color: false }),
    ).toMatch(/^UNFINISHED: run #3 has not finished/m);
  });
});
