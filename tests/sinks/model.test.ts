/**
 * The report model from the state store: a run's view against the picture, completeness from
 * whatever counts exist (errors by code and kind, interrupted runs, mixed thresholds), actions
 * per action and owner, categories ordered by what matters.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Category, Confidence, Finding } from '../../src/model/finding.js';
import { severityOf, type ProblemCode } from '../../src/model/problem.js';
import type { ScanSummary } from '../../src/sinks/types.js';
import { reportModel } from '../../src/report/picture.js';
import { openStateStore, type StateStore } from '../../src/state/store.js';
import { tempDir } from '../helpers/cli.js';

const RULE: Record<Category, string> = {
  ssn: 'ssn',
  'medicare-id': 'mbi',
  'date-of-birth': 'date-of-birth',
  'date-of-death': 'date-of-death',
  insurance: 'member-id',
  'medical-record-number': 'mrn',
  'health-condition': 'icd10',
};

const finding = (category: Category, fingerprint: string): Finding => ({
  rule: RULE[category],
  category,
  confidence: 'high',
  score: 0.9,
  location: 'body',
  masked: '•••-••-0000',
  fingerprint,
  why: { pattern: 'p', verdict: 'valid', baseScore: 0.9, score: 0.9 },
});

const ctx = (mailbox: string) => ({ source: 'mbox:x', mailbox, folder: 'INBOX', locator: `x/${mailbox}@0` });

function open(file: string, minConfidence: Confidence = 'medium'): StateStore {
  return openStateStore(file, { sources: ['mbox:x'], sinceLast: true, minConfidence });
}

async function message(store: StateStore, mailbox: string, id: string, findings: Finding[]): Promise<void> {
  await store.write({ type: 'message', context: ctx(mailbox), outcome: { messageId: `<${id}@x>`, date: '2024-03-04T09:15:00.000Z', maskedSubject: 's', findings, problems: [] } });
}

async function error(store: StateStore, mailbox: string, code: ProblemCode): Promise<void> {
  await store.write({ type: 'error', record: { type: 'error', source: 'mbox:x', mailbox, folder: 'INBOX', location: 'attachment:a.pdf', error: `${code} (test)`, code, severity: severityOf(code) } });
}

const summary = (errors: number): ScanSummary => ({
  sources: ['mbox:x'],
  startedAt: '',
  finishedAt: new Date().toISOString(),
  minConfidence: 'medium',
  mailboxes: [],
  messages: 0,
  messagesWithPhi: 0,
  errors,
  skipped: 0,
  bytes: 0,
  strict: false,
  status: errors > 0 ? 'incomplete' : 'complete',
});

describe('report model', () => {
  it('a run view counts only that run; the picture counts every latest scan', async () => {
    const file = path.join(tempDir(), 'state.db');
    const one = open(file);
    await message(one, 'alice', 'a1', [finding('ssn', 'f1'), finding('health-condition', 'h1')]);
    await message(one, 'alice', 'a2', [finding('date-of-birth', 'd1')]);
    await message(one, 'bob', 'b1', [finding('ssn', 'f2')]);
    await one.close(summary(0));
    one.dispose();
    const two = open(file);
    await message(two, 'bob', 'b2', [finding('medicare-id', 'm1'), finding('date-of-birth', 'd2')]);
    await message(two, 'bob', 'b3', []);
    await two.close(summary(0));
    const run = reportModel(two.db, { kind: 'run', run: two.runId });
    const picture = reportModel(two.db, { kind: 'picture' });
    expect(run.title).toMatch(/^Run #2 .*: the messages this run scanned$/);
    expect(picture.title).toMatch(/^State picture as of run #2 /);
    expect(run.totals).toMatchObject({ mailboxes: 1, messages: 2, messagesWithPhi: 1, individuals: 1 });
    expect(picture.totals).toMatchObject({ mailboxes: 2, messages: 5, messagesWithPhi: 4, individuals: 3, mailboxesWithPhi: 2 });
    // Actions per action and per owner (mailbox).
    expect(picture.actions.map((a) => [a.action, a.messages, a.owners])).toEqual([
      ['secure-portal-and-delete', 2, 2],
      ['delete', 1, 1],
      ['review', 1, 1],
    ]);
    expect(picture.mailboxes.find((m) => m.mailbox === 'alice')?.actions).toEqual({ 'secure-portal-and-delete': 1, delete: 0, review: 1 });
    // Identifiers before dates before health terms.
    expect(picture.categories.map((c) => c.category)).toEqual(['ssn', 'medicare-id', 'date-of-birth', 'health-condition']);
    expect(picture.categories.find((c) => c.category === 'date-of-birth')).toMatchObject({ findings: 2, messages: 2, label: 'Date of birth' });
    expect(picture.trend.map((t) => [t.run, t.messages, t.messagesWithPhi])).toEqual([
      [1, 3, 3],
      [2, 5, 4],
    ]);
    expect(picture.completeness).toMatchObject({ complete: true, errors: 0, interruptedRuns: [], minConfidence: ['medium'] });
    two.dispose();
  });

  it('completeness: errors by code and severity, interrupted runs, mixed thresholds', async () => {
    const file = path.join(tempDir(), 'state.db');
    const one = open(file, 'high');
    await message(one, 'alice', 'a1', [finding('ssn', 'f1')]);
    // Two items not read by design (severity skipped, model/problem.ts) and one that failed.
    await error(one, 'alice', 'unsupported-attachment');
    await error(one, 'alice', 'no-text');
    await error(one, 'alice', 'read-failed');
    await one.close(summary(3));
    one.dispose();
    // A run killed before it finished (its status stays "running").
    const two = open(file, 'medium');
    await message(two, 'bob', 'b1', [finding('ssn', 'f2')]);
    two.dispose();
    const three = open(file, 'medium');
    const m = reportModel(three.db, 2);
    expect(m.completeness.complete).toBe(false);
    // `errors` counts failed items, as in every record; `skipped` the items not read by design.
    expect(m.completeness.errors).toBe(1);
    expect(m.completeness.skipped).toBe(2);
    expect(m.completeness.byCode.map((b) => [b.code, b.severity, b.count])).toEqual([
      ['read-failed', 'failed', 1],
      ['no-text', 'skipped', 1],
      ['unsupported-attachment', 'skipped', 1],
    ]);
    // Failed first (what to fix), each group in record order.
    expect(m.completeness.firstErrors.map((e) => [e.code, e.severity])).toEqual([
      ['read-failed', 'failed'],
      ['unsupported-attachment', 'skipped'],
      ['no-text', 'skipped'],
    ]);
    expect(m.mailboxes.find((x) => x.mailbox === 'alice')).toMatchObject({ errors: 1, skipped: 2 });
    // The as-of run never finished: the model says so (every format's banner).
    expect(m.interrupted).toMatchObject({ type: 'run', run: 2, status: 'unfinished' });
    expect(m.completeness.interruptedRuns.map((r) => [r.id, r.status])).toEqual([[2, 'running']]);
    expect(m.completeness.minConfidence).toEqual(['high', 'medium']);
    // A run's own view: run 1 finished, with its errors; run 2 was interrupted.
    expect(reportModel(three.db, { kind: 'run', run: 1 }).completeness).toMatchObject({ errors: 1, skipped: 2, interruptedRuns: [], minConfidence: ['high'] });
    expect(reportModel(three.db, { kind: 'run', run: 1 }).interrupted).toBeUndefined();
    expect(reportModel(three.db, { kind: 'run', run: 2 }).completeness).toMatchObject({ errors: 0, complete: false, interruptedRuns: [{ id: 2 }] });
    three.dispose();
  });
});

describe('skipped items, --strict and interrupted runs in the model', () => {
  it('items not read by design leave a run complete unless --strict; an interrupted run marks its partly read mailboxes', async () => {
    const file = path.join(tempDir(), 'state.db');
    const one = open(file);
    await message(one, 'alice', 'a1', [finding('ssn', 'f1')]);
    await error(one, 'alice', 'no-text');
    await one.close({ ...summary(0), skipped: 1 });
    const plain = reportModel(one.db, { kind: 'run', run: one.runId });
    expect(plain.completeness).toMatchObject({ complete: true, errors: 0, skipped: 1, strict: false });
    const strict = reportModel(one.db, { kind: 'run', run: one.runId }, { strict: true });
    expect(strict.completeness).toMatchObject({ complete: false, errors: 0, skipped: 1, strict: true });
    one.dispose();
    // Run 2 stopped by the reader of its output going away, in bob's mailbox.
    const two = open(file);
    await message(two, 'bob', 'b1', [finding('ssn', 'f2')]);
    await two.close({ ...summary(0), status: 'interrupted', stoppedBy: 'output-closed' });
    const m = reportModel(two.db, { kind: 'run', run: two.runId }, { partlyRead: new Set(['mbox:x\0bob']) });
    expect(m.interrupted).toMatchObject({ run: 2, status: 'interrupted', stoppedBy: 'output-closed' });
    expect(m.completeness.complete).toBe(false);
    expect(m.mailboxes.map((x) => [x.mailbox, x.interrupted ?? false])).toEqual([['bob', true]]);
    // The store alone (phi-scan report) knows the run was cut, not where.
    expect(reportModel(two.db).interrupted).toMatchObject({ run: 2, status: 'interrupted', stoppedBy: 'output-closed' });
    two.dispose();
  });
});

describe('createSink (library, no state database)', () => {
  it('renders a rendered format from an in-memory store of the run', async () => {
    const { createSink } = await import('../../src/sinks/index.js');
    let text = '';
    let ended = false;
    const sink = createSink('json', { write: async (t) => void (text += t), end: async () => void (ended = true) });
    await sink.write({ type: 'message', context: ctx('alice'), outcome: { messageId: '<a@x>', date: null, maskedSubject: 's', findings: [finding('ssn', 'f1')], problems: [] } });
    await sink.write({ type: 'mailbox', record: { type: 'mailbox', source: 'mbox:x', mailbox: 'alice', messages: 1, messagesWithPhi: 1, byCategory: { ssn: 1 }, errors: 0, skipped: 0 } });
    await sink.close({ ...summary(0), sources: ['mbox:x'], minConfidence: 'high', startedAt: '2026-01-02T03:04:05.000Z' });
    expect(ended).toBe(true);
    // In memory: no file named ':memory:' appears (the state file's 0600 handling is for files).
    expect(existsSync(path.resolve(':memory:'))).toBe(false);
    const doc = JSON.parse(text) as { scope: unknown; title: string; totals: { messagesWithPhi: number }; completeness: { minConfidence: string[] }; messages: { findingDetails: { why?: unknown }[] }[] };
    expect(doc.scope).toEqual({ kind: 'run', run: 1 });
    expect(doc.title).toBe('Run #1 (2026-01-02 03:04 UTC): the messages this run scanned');
    expect(doc.totals.messagesWithPhi).toBe(1);
    expect(doc.completeness.minConfidence).toEqual(['high']);
    expect(doc.messages[0]?.findingDetails[0]?.why).toMatchObject({ pattern: 'p' });
  });
});

describe('an empty store', () => {
  it('renders every format without a run: named as empty, nothing invented', async () => {
    const { openStateDb } = await import('../../src/state/store.js');
    const { writeReport, REPORT_FORMATS } = await import('../../src/report/report.js');
    const db = openStateDb(path.join(tempDir(), 'state.db'), { create: true });
    for (const format of REPORT_FORMATS) {
      let text = '';
      await writeReport(db, format, { write: async (t) => void (text += t), end: async () => undefined });
      if (format === 'jsonl') expect(text).toBe('');
      else if (format === 'csv') expect(text.split('\r\n').filter((l) => l !== '').length).toBe(1);
      else expect(text, format).toMatch(/Empty state store: no scan recorded yet/);
    }
    db.close();
  });
});
