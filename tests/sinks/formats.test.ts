/** The report formats over the demo archive: each agrees with the JSONL contract records. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli } from '../helpers/cli.js';
import { DEMO } from '../helpers/demo.js';
import { csvField } from '../../src/sinks/csv.js';

const source = `mbox:${path.join(DEMO, 'mbox')}`;

describe('report formats', async () => {
  const jsonl = jsonLines((await runCli(['scan', source, '--format', 'jsonl'])).stdout);
  const mailboxes = jsonl.filter((r) => r.type === 'mailbox') as { mailbox: string; messages: number; messagesWithPhi: number }[];
  const messages = jsonl.filter((r) => r.type === 'message');

  it('table: one row per mailbox, worst first, with the same counts as the records', async () => {
    const { stdout, code } = await runCli(['scan', source, '--format', 'table']);
    expect(code).toBe(3);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^Mailbox\s+Messages\s+With PHI\s+%\s+SSN\s+.*Errors$/);
    const rows = lines.slice(2, 2 + mailboxes.length).map((l) => l.trim().split(/\s+/));
    const worstFirst = [...mailboxes].sort((a, b) => b.messagesWithPhi - a.messagesWithPhi);
    expect(rows.map((r) => [r[0], Number(r[1]), Number(r[2])])).toEqual(worstFirst.map((m) => [m.mailbox, m.messages, m.messagesWithPhi]));
    const total = mailboxes.reduce((n, m) => n + m.messages, 0);
    expect(stdout).toContain(`${total} messages in ${mailboxes.length} mailboxes scanned`);
    expect(stdout).toContain('could not be read');
  });

  it('csv: a header and one row per message with PHI, subjects masked', async () => {
    const { stdout } = await runCli(['scan', source, '--format', 'csv']);
    const lines = stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe('source,mailbox,folder,date,messageId,subject,categories,findings,highestConfidence,locator');
    expect(lines.length - 1).toBe(messages.length);
    for (const m of messages) expect(stdout).toContain(`,${String(m.messageId)},`);
    expect(stdout).toMatch(/SSN •••-••-\d{4}/);
  });

  it('json: one document whose findings explain themselves', async () => {
    const doc = JSON.parse((await runCli(['scan', source, '--format', 'json'])).stdout) as {
      summary: { messages: number; messagesWithPhi: number };
      mailboxes: unknown[];
      messages: { findingDetails: { why: { pattern: string; verdict: string } }[] }[];
    };
    expect(doc.mailboxes).toEqual(mailboxes);
    expect(doc.messages.length).toBe(messages.length);
    expect(doc.summary.messagesWithPhi).toBe(messages.length);
    for (const m of doc.messages) for (const f of m.findingDetails) expect(f.why).toMatchObject({ pattern: expect.any(String), verdict: 'valid' });
  });

  it('html: self-contained (no scripts, no external resources), names every mailbox', async () => {
    const { stdout } = await runCli(['scan', source, '--format', 'html']);
    expect(stdout.startsWith('<!doctype html>')).toBe(true);
    expect(stdout).not.toMatch(/<script|<link|src=|https?:\/\//i);
    for (const m of mailboxes) expect(stdout).toContain(`<td>${m.mailbox}</td>`);
  });

  it('csv fields are quoted and neutralized for spreadsheets', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(null)).toBe('');
  });
});
