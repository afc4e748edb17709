/**
 * The report formats of `scan` over the demo archive: every rendered format comes from one model,
 * so `scan --format X` on a fresh store answers what `report --format X --run 1` answers, and
 * each agrees with the JSONL contract records. Scans run as scan sessions in this process (the
 * library; what `scan` runs), `report` as the CLI.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { scanInProcess } from '../helpers/session.js';
import { DEMO, leakNeedles } from '../helpers/demo.js';
import { csvField } from '../../src/sinks/csv.js';
import type { Format } from '../../src/sinks/index.js';
import type { ScanSettingsInput } from '../../src/index.js';

const source = `mbox:${path.join(DEMO, 'mbox')}`;

interface JsonDoc {
  version: number;
  scope: { kind: string; run?: number; asOf?: number };
  title: string;
  totals: Record<string, number>;
  completeness: { complete: boolean; errors: number; skipped: number; byCode: { code: string; count: number }[]; firstErrors: unknown[]; minConfidence: string[] };
  actions: { action: string; messages: number; owners: number }[];
  categories: { category: string; findings: number }[];
  mailboxes: { mailbox: string; messages: number; messagesWithPhi: number; byCategory: Record<string, number>; errors: number }[];
  messages: { messageId: string; action: string; findingDetails: { why?: { pattern: string; verdict: string }; score?: number; masked: string }[] }[];
  errors: { code: string }[];
}

/** A scan into a fresh store, then the report of that store. */
async function scanThenReport(format: Format, env: NodeJS.ProcessEnv = {}): Promise<{ scan: string; report: string; code: number | null }> {
  const state = tempDir('phi-state-');
  const s = await scanInProcess({ sources: [source], format }, { PHI_SCAN_STATE: state, ...env });
  const r = await runCli(['report', '--format', format, '--run', '1'], { env: { PHI_SCAN_STATE: state, ...env } });
  expect(r.code).toBe(0);
  return { scan: s.stdout, report: r.stdout, code: s.code };
}

describe('report formats', async () => {
  const jsonl = jsonLines((await scanInProcess({ sources: [source], format: 'jsonl' })).stdout);
  const mailboxes = jsonl.filter((r) => r.type === 'mailbox') as { mailbox: string; messages: number; messagesWithPhi: number; byCategory: Record<string, number>; errors: number }[];
  const messages = jsonl.filter((r) => r.type === 'message');
  const needles = leakNeedles();

  it('json: scan and report give the same answer (one model), and it matches the contract records', async () => {
    const { scan, report, code } = await scanThenReport('json');
    expect(code).toBe(3);
    const a = JSON.parse(scan) as JsonDoc;
    const b = JSON.parse(report) as JsonDoc;
    expect(a.version).toBe(2);
    expect(a.scope).toEqual({ kind: 'run', run: 1 });
    expect(b.scope).toEqual({ kind: 'picture', asOf: 1 });
    expect(a.title).toMatch(/^Run #1 .*: the messages this run scanned$/);
    expect(b.title).toMatch(/^State picture as of run #1 /);
    for (const key of ['totals', 'completeness', 'actions', 'categories', 'mailboxes', 'errors'] as const) expect(a[key], key).toEqual(b[key]);
    expect(a.messages.map((m) => m.messageId)).toEqual(b.messages.map((m) => m.messageId));
    // The contract records say the same.
    const pick = (m: JsonDoc['mailboxes'][number]) => [m.mailbox, m.messages, m.messagesWithPhi, m.byCategory, m.errors];
    expect(a.mailboxes.map(pick).sort()).toEqual(mailboxes.map(pick).sort());
    expect(a.totals.messagesWithPhi).toBe(messages.length);
    expect(a.messages.length).toBe(messages.length);
    // `errors` counts failed items and `skipped` the ones not read by design, as the records do.
    expect(a.completeness.errors).toBe(jsonl.filter((r) => r.type === 'error' && r.severity === 'failed').length);
    expect(a.completeness.skipped).toBe(jsonl.filter((r) => r.type === 'error' && r.severity === 'skipped').length);
    expect(a.completeness.complete).toBe(false);
    expect(a.completeness.byCode).toEqual([{ code: 'corrupt-attachment', severity: 'failed', count: 1 }]);
    expect(a.completeness.minConfidence).toEqual(['medium']);
    expect(a.actions.reduce((n, x) => n + x.messages, 0)).toBe(messages.length);
    // Scan-time json explains each finding (the engine's why); the store keeps the explanations
    // of a run whose report was json (not the scan's memory), so the later report gives them too.
    for (const m of a.messages) for (const f of m.findingDetails) expect(f.why).toMatchObject({ pattern: expect.any(String), verdict: 'valid' });
    expect(b.messages.map((m) => m.findingDetails)).toEqual(a.messages.map((m) => m.findingDetails));
    expect(needles.filter((n) => scan.includes(n) || report.includes(n))).toEqual([]);
  });

  it('json of a run scanned with jsonl: the findings without explanations (the store kept none)', async () => {
    const state = tempDir('phi-state-');
    await scanInProcess({ sources: [source], format: 'jsonl' }, { PHI_SCAN_STATE: state });
    const r = await runCli(['report', '--format', 'json', '--run', '1'], { env: { PHI_SCAN_STATE: state } });
    const details = (JSON.parse(r.stdout) as JsonDoc).messages.flatMap((m) => m.findingDetails);
    expect(details.length).toBeGreaterThan(0);
    expect(details.every((f) => f.why === undefined && f.score === undefined)).toBe(true);
  });

  it('csv: one remediation list, the same rows from scan and report', async () => {
    const { scan, report } = await scanThenReport('csv');
    const lines = scan.trimEnd().split('\r\n');
    expect(lines[0]).toBe('source,mailbox,folder,date,messageId,maskedSubject,categories,findings,individuals,action,locator,remediation');
    expect(lines.length - 1).toBe(messages.length);
    for (const m of messages) expect(scan).toContain(`,${String(m.messageId)},`);
    expect(scan).toMatch(/SSN •••-••-\d{4}/);
    expect(scan).toBe(report);
  });

  it('table: one row per mailbox, most people first, the same counts as the records and as report', async () => {
    const { scan, report, code } = await scanThenReport('table');
    expect(code).toBe(3);
    const lines = scan.split('\n');
    expect(lines[0]).toMatch(/^Run #1 \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): the messages this run scanned$/);
    expect(lines[2]).toMatch(/^Mailbox\s+Messages\s+With PHI\s+%\s+People\s+SSN\s+.*Errors$/);
    const rows = lines.slice(4, 4 + mailboxes.length).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => [r[0], Number(r[1]), Number(r[2])]).sort()).toEqual(mailboxes.map((m) => [m.mailbox, m.messages, m.messagesWithPhi]).sort());
    const people = rows.map((r) => Number(r[4]));
    expect(people).toEqual([...people].sort((x, y) => y - x));
    // The report of the same store prints the same table under its own title.
    expect(report.split('\n').slice(1)).toEqual(lines.slice(1));
    const total = mailboxes.reduce((n, m) => n + m.messages, 0);
    expect(scan).toContain(`${total} messages in ${mailboxes.length} mailboxes;`);
    // What is incomplete, named: the first errors, not only a pointer to jsonl.
    expect(scan).toContain('Incomplete: 1 item failed to read.');
    expect(scan).toMatch(/^The error:\n {2}intake\/INBOX attachment:cmn-signed\.pdf \[corrupt-attachment\]: pdf: /m);
    expect(scan).toMatch(/To do: move to the secure portal, then delete from mail: \d+ messages \(2 owners\)/);
  });

  it('table: fits 80 columns; per-category columns when there is room', { timeout: 120_000 }, async () => {
    const wide = await scanInProcess({ sources: [source], format: 'table' }, { COLUMNS: '200' });
    const narrow = await scanInProcess({ sources: [source, 'maildir:' + path.join(DEMO, 'maildir', 'intake')], mailbox: 'a-rather-long-mailbox-name-for-the-intake-archive', format: 'table' }, { COLUMNS: '80' });
    expect(wide.stdout).toMatch(/People\s+SSN\s+Medicare\s+Insurance\s+MRN\s+DOB/);
    for (const l of narrow.stdout.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(narrow.stdout).toMatch(/Errors {2}Categories/);
    // Names cut in the middle: the source kind that tells the two apart stays visible.
    expect(narrow.stdout).toMatch(/^a-rather-\S*….*\(mbox\) /m);
    expect(narrow.stdout).toMatch(/^a-rather-\S*….*\(maildir\) /m);
  });

  it('table colour: on with FORCE_COLOR, off with --no-color or NO_COLOR, off in a pipe', { timeout: 180_000 }, async () => {
    const esc = '\x1b[';
    const table: ScanSettingsInput = { sources: [source], format: 'table' };
    const forced = await scanInProcess(table, { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(`${esc}1m`);
    const plain = (await scanInProcess(table)).stdout;
    expect(forced.stdout.replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(1)).toEqual(plain.split('\n').slice(1));
    // --no-color is the setting `color: false`.
    expect((await scanInProcess({ ...table, color: false }, { FORCE_COLOR: '1' })).stdout).not.toContain(esc);
    expect((await scanInProcess(table, { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain(esc);
    expect(plain).not.toContain(esc);
  });

  it('html: self-contained (no scripts, no external resources), names every mailbox and the scope', async () => {
    const { stdout } = await scanInProcess({ sources: [source], format: 'html' });
    expect(stdout.startsWith('<!doctype html>')).toBe(true);
    expect(stdout).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(stdout.match(/https?:\/\/[^\s"'<>]+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    for (const m of mailboxes) expect(stdout).toContain(`>${m.mailbox}</a>`);
    expect(stdout).toMatch(/Run #1 \([^)]*\): the messages this run scanned/);
    expect(needles.filter((n) => stdout.includes(n))).toEqual([]);
  });

  it('csv fields are quoted and neutralized for spreadsheets', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(null)).toBe('');
  });
});
