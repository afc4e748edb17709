/**
 * The demo archive end to end: the same messages as mbox, Maildir and EML give the same
 * findings; every planted SSN is found where it was planted; the no-PHI mailbox stays clean.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../helpers/cli.js';
import { DEMO, planted } from '../helpers/demo.js';
import { AnyRecord } from '../helpers/records.js';

type Rec = Record<string, unknown>;
const MAILBOXES = Object.keys(planted.mailboxes);

async function scanForm(form: 'mbox' | 'maildir' | 'eml', min = 'medium'): Promise<{ code: number | null; records: Rec[] }> {
  const sources = MAILBOXES.map((m) => (form === 'mbox' ? `mbox:${path.join(DEMO, 'mbox', `${m}.mbox`)}` : `${form}:${path.join(DEMO, form, m)}`));
  const { code, stdout, stderr } = await runCli(['scan', ...sources, '--format', 'jsonl', '--min-confidence', min]);
  expect(stderr).toBe('');
  const records = jsonLines(stdout);
  for (const r of records) AnyRecord.parse(r);
  return { code, records };
}

/** What must be equal across forms: everything but the source string, the folder (a plain mbox has one folder) and the run's times. */
function comparable(records: Rec[]): string[] {
  return records
    .map((r) => {
      const { source: _s, folder: _f, startedAt: _a, finishedAt: _b, ...rest } = r;
      return JSON.stringify(rest);
    })
    .sort();
}

describe('demo archive in three forms', async () => {
  const [mbox, maildir, eml] = await Promise.all([scanForm('mbox', 'low'), scanForm('maildir', 'low'), scanForm('eml', 'low')]);

  it('finds the same identifiers, messages and mailbox totals in mbox, Maildir and EML', () => {
    expect(mbox.records.length).toBeGreaterThan(20);
    expect(comparable(maildir.records)).toEqual(comparable(mbox.records));
    expect(comparable(eml.records)).toEqual(comparable(mbox.records));
  });

  it('counts every message of every mailbox and folder', () => {
    for (const result of [mbox, maildir, eml]) {
      const counts = Object.fromEntries(result.records.filter((r) => r.type === 'mailbox').map((r) => [r.mailbox, r.messages]));
      expect(counts).toEqual(Object.fromEntries(MAILBOXES.map((m) => [m, planted.mailboxes[m]?.messages])));
    }
    const folders = new Set(maildir.records.filter((r) => r.type === 'message').map((r) => `${String(r.mailbox)}/${String(r.folder)}`));
    expect(folders).toContain('intake/Archive/2023');
    expect(folders).toContain('billing/Sent');
  });

  it('finds every planted SSN at its location, and only in messages that hold one', () => {
    const findings = eml.records.filter((r) => r.type === 'finding' && r.category === 'ssn');
    let expected = 0;
    for (const m of planted.messages) {
      for (const p of m.planted.filter((x) => x.category === 'ssn')) {
        expected++;
        const hit = findings.find(
          (f) =>
            f.mailbox === m.mailbox &&
            f.folder === m.folder &&
            (m.messageId === null ? String(f.messageId).startsWith('<sha256:') : f.messageId === m.messageId) &&
            f.location === p.location &&
            String(f.masked).endsWith(p.value.slice(-4)),
        );
        expect(hit, `${m.mailbox}/${m.folder} "${m.subject}" ${p.location} ${p.form}`).toBeDefined();
      }
    }
    expect(findings.length).toBe(expected);
  });

  it('reports nothing for the sales mailbox full of look-alikes (phones, orders, ZIP+4, samples, masked SSNs)', () => {
    for (const result of [mbox, maildir, eml]) {
      expect(result.records.filter((r) => r.mailbox === 'sales' && r.type !== 'mailbox')).toEqual([]);
    }
  });

  it('reports the corrupt message as readable-as-far-as-possible and its truncated PDF as corrupt (exit 3)', () => {
    expect(mbox.code).toBe(3);
    const corrupt = planted.messages.find((m) => m.corrupt);
    const errors = mbox.records.filter((r) => r.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ mailbox: 'intake', messageId: corrupt?.messageId, code: 'corrupt-attachment', error: 'pdf: cannot be read (invalid or truncated)' })]);
  });
});
