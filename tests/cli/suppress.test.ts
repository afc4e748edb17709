/** Suppression by an ignore file (fingerprint and/or message, with a reason), as gitleaks users know it. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSuppressions } from '../../src/findings/suppress.js';
import type { Finding } from '../../src/model/finding.js';
import { jsonLines, runCli, tempDir, type CliResult } from '../helpers/cli.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;
const finding = (fingerprint: string): Finding =>
  ({ rule: 'ssn', category: 'ssn', confidence: 'high', score: 0.9, location: 'body', masked: '•••-••-0000', fingerprint, why: { pattern: 'p', verdict: 'valid', baseScore: 0.5 } }) as Finding;

describe('parseSuppressions', () => {
  const s = parseSuppressions('ignore', [
    '# FINGERPRINT  MESSAGE-ID  REASON',
    '',
    'aaaaaaaaaaaaaaaa  *  QA patient in the training deck',
    '*\t<m2@x>\thandled in INC-1',
    'bbbbbbbbbbbbbbbb <m3@x> kept at the patient\'s request',
  ].join('\n'));
  it('drops by fingerprint anywhere, every finding of a named message, and a fingerprint in one message', () => {
    const fs = [finding('aaaaaaaaaaaaaaaa'), finding('bbbbbbbbbbbbbbbb'), finding('cccccccccccccccc')];
    expect(s.keep('<m1@x>', fs).map((f) => f.fingerprint)).toEqual(['bbbbbbbbbbbbbbbb', 'cccccccccccccccc']);
    expect(s.keep('<m2@x>', fs)).toEqual([]);
    expect(s.keep('<m3@x>', fs).map((f) => f.fingerprint)).toEqual(['cccccccccccccccc']);
    expect(s.suppressed()).toBe(1 + 3 + 2);
    expect(s.entries.map((e) => [e.line, e.reason])).toEqual([
      [3, 'QA patient in the training deck'],
      [4, 'handled in INC-1'],
      [5, "kept at the patient's request"],
    ]);
  });
  it.each([
    ['aaaaaaaaaaaaaaaa *', /line 1: a reason is required/],
    ['* * everything', /line 1: an entry must name a fingerprint or a message/],
    ['536-90-4399 * oops', /line 1: a fingerprint is 16 hex digits/],
    ['lonely', /line 1: /],
  ])('refuses %j', (line, error) => {
    expect(() => parseSuppressions('ignore', line)).toThrow(error);
  });
  it('never echoes a bad line back (it might be a raw value pasted by mistake)', () => {
    expect(() => parseSuppressions('ignore', '536-90-4399 * oops')).toThrow(/^(?!.*536-90-4399)/s);
  });
});

describe('scan --ignore-file', () => {
  it('leaves suppressed findings out of the report, the counts, the exit code and the state; says how many', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const state = tempDir();
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'SSN: 514-14-8905 and MBI: 1EG4-TE5-MK73'));
    const first = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(first.code).toBe(1);
    const findings = jsonLines(first.stdout).filter((r) => r.type === 'finding') as { messageId: string; fingerprint: string }[];
    const inA = findings.filter((f) => f.messageId === '<a@x>');
    expect(inA).toHaveLength(1);
    expect(findings.filter((f) => f.messageId === '<b@x>').length).toBeGreaterThan(0);

    // Fingerprint of <a>'s SSN anywhere, and all of <b>: nothing left.
    const ignore = path.join(dir, 'reviewed.ignore');
    writeFileSync(ignore, `# reviewed 2026-12-06\n${inA[0]?.fingerprint}  *  QA test patient\n*  <b@x>  handled in INC-4711\n`);
    const second = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl', '--ignore-file', ignore], { env: { PHI_SCAN_STATE: state } });
    expect(second.stderr).toBe(`phi-scan: ${findings.length} findings suppressed by ${ignore}\n`);
    expect(second.code).toBe(0);
    const records = jsonLines(second.stdout);
    expect(records.filter((r) => r.type === 'finding')).toEqual([]);
    expect(records.find((r) => r.type === 'mailbox')).toMatchObject({ messages: 2, messagesWithPhi: 0 });
    // The scan's own json says so too (the store never held them, so it is the scan's count).
    const asJson = await runCli(['scan', `mbox:${file}`, '--format', 'json', '--ignore-file', ignore], { env: { PHI_SCAN_STATE: tempDir() } });
    expect((JSON.parse(asJson.stdout) as { suppressed: unknown }).suppressed).toEqual({ file: ignore, findings: findings.length });
    // The state store holds what the scan reported: report after it shows no PHI.
    const report = await runCli(['report'], { env: { PHI_SCAN_STATE: state } });
    expect(jsonLines(report.stdout).filter((r) => r.type === 'finding')).toEqual([]);

    // ./.phi-scanignore is read without a flag (as .gitleaksignore is).
    writeFileSync(path.join(dir, '.phi-scanignore'), `${inA[0]?.fingerprint} <a@x> reviewed\n`);
    const third = await runCli(['scan', `mbox:${file}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir() }, cwd: dir });
    expect(third.code).toBe(1);
    expect(third.stderr).toBe('phi-scan: 1 findings suppressed by .phi-scanignore\n');
    expect(jsonLines(third.stdout).filter((r) => r.type === 'finding' && r.messageId === '<a@x>')).toEqual([]);

    // A bad line is a configuration error naming the file and line, exit 2.
    writeFileSync(ignore, 'not-a-fingerprint * x\n');
    const bad = await runCli(['scan', `mbox:${file}`, '--ignore-file', ignore], { env: { PHI_SCAN_STATE: state } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`phi-scan: ${ignore}: line 1: a fingerprint is 16 hex digits (the finding's "fingerprint" field), or *\n`);
    const missing = await runCli(['scan', `mbox:${file}`, '--ignore-file', path.join(dir, 'nope')], { env: { PHI_SCAN_STATE: state } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^phi-scan: --ignore-file .*nope: cannot read \(ENOENT\)/);
  });
});

describe('report and diff --ignore-file (an entry added after the scan takes effect at once)', () => {
  // Raw values planted in the mailbox: no output, and not the ignore file, may hold them.
  const RAW = ['489-36-8350', '489368350', '514-14-8905', '514148905', '03/14/1957'];
  const outputs: string[] = [];
  const cli = async (args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<CliResult> => {
    const r = await runCli(args, options);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  interface JsonReport {
    totals: { messages: number; messagesWithPhi: number; findings: number; individuals: number; dobOnlyIndividuals: number };
    categories: { category: string; findings: number; messages: number }[];
    mailboxes: { actions: Record<string, number>; byCategory: Record<string, number> }[];
    messages: { messageId: string; individuals: number; categories: string[]; findings: number; action: string; findingDetails: { category: string }[] }[];
    suppressed: { file: string; findings: number } | null;
  }
  const json = (stdout: string): JsonReport => JSON.parse(stdout) as JsonReport;

  it('leaves the entry\'s findings out of the picture and every count, in every format, and says how many', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const env = { PHI_SCAN_STATE: tempDir() };
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'SSN: 514-14-8905') + msg('c', 'nothing to see'));
    // Scanned without an ignore file (none in dir yet).
    const scan = await cli(['scan', `mbox:${file}`, '--format', 'jsonl'], { env, cwd: dir });
    expect(scan.code).toBe(1);
    const fpA = (jsonLines(scan.stdout).find((r) => r.type === 'finding' && r.messageId === '<a@x>') as { fingerprint: string }).fingerprint;
    const before = json((await cli(['report', '--format', 'json'], { env, cwd: dir })).stdout);
    expect(before.totals).toMatchObject({ messages: 3, messagesWithPhi: 2, findings: 2, individuals: 2 });
    expect(before.suppressed).toBeNull();

    // The reviewer adds one entry for <a>'s finding; report reads ./.phi-scanignore as scan does.
    const ignoreText = `# reviewed after the scan\n${fpA}  <a@x>  QA test patient\n`;
    writeFileSync(path.join(dir, '.phi-scanignore'), ignoreText);
    outputs.push(ignoreText);
    const after = await cli(['report', '--format', 'json'], { env, cwd: dir });
    expect(after.code).toBe(0);
    expect(after.stderr).toBe('phi-scan: 1 findings suppressed by .phi-scanignore\n');
    const r = json(after.stdout);
    expect(r.totals).toMatchObject({ messages: 3, messagesWithPhi: 1, findings: 1, individuals: 1 });
    expect(r.categories).toEqual([expect.objectContaining({ category: 'ssn', findings: 1, messages: 1 })]);
    expect(r.mailboxes[0]?.byCategory).toEqual({ ssn: 1 });
    expect(Object.values(r.mailboxes[0]?.actions ?? {}).reduce((n, x) => n + x, 0)).toBe(1);
    expect(r.messages.map((m) => m.messageId)).toEqual(['<b@x>']);
    expect(r.suppressed).toEqual({ file: '.phi-scanignore', findings: 1 });

    // jsonl picture records: no message or finding of <a>; the mailbox record counts without it.
    const jsonl = await cli(['report'], { env, cwd: dir });
    expect(jsonl.stderr).toBe('phi-scan: 1 findings suppressed by .phi-scanignore\n');
    const records = jsonLines(jsonl.stdout);
    expect(records.filter((x) => x.messageId === '<a@x>')).toEqual([]);
    expect(records.filter((x) => x.type === 'finding').map((x) => x.messageId)).toEqual(['<b@x>']);
    expect(records.find((x) => x.type === 'mailbox')).toMatchObject({ messages: 3, messagesWithPhi: 1, byCategory: { ssn: 1 } });
    // csv remediation rows, html page (rows by masked subject) and table: <a> is gone, the note is on stderr.
    const rowsOf = { csv: ['<b@x>', '<a@x>'], html: ['<td>b</td>', '<td>a</td>'], table: undefined } as const;
    for (const [format, rows] of Object.entries(rowsOf)) {
      const out = await cli(['report', '--format', format], { env, cwd: dir });
      expect(out.code).toBe(0);
      expect(out.stderr).toBe('phi-scan: 1 findings suppressed by .phi-scanignore\n');
      // The table and the page handed to people say it too, next to the figures.
      if (format !== 'csv') expect(out.stdout).toContain('Reviewed and suppressed: 1 finding listed in .phi-scanignore is left out of these figures.');
      if (rows) {
        expect(out.stdout).toContain(rows[0]);
        expect(out.stdout).not.toContain(rows[1]);
      }
    }

    // remediate (the remediation list per owner) is the same list: <a> is not in it.
    const outDir = path.join(dir, 'owners');
    const remediate = await cli(['remediate', '--out-dir', outDir], { env, cwd: dir });
    expect(remediate.code).toBe(0);
    expect(remediate.stderr).toBe('phi-scan: 1 findings suppressed by .phi-scanignore\n');
    expect(jsonLines(remediate.stdout)).toEqual([expect.objectContaining({ type: 'remediation', rows: 1 })]);
    const ownerCsv = readFileSync(path.join(outDir, 'box.csv'), 'utf8');
    outputs.push(ownerCsv);
    expect(ownerCsv).toContain('<b@x>');
    expect(ownerCsv).not.toContain('<a@x>');

    // --ignore-file names another file instead of the default: <b> all suppressed, <a> back.
    const other = path.join(dir, 'other.ignore');
    writeFileSync(other, '*  <b@x>  handled in INC-4711\n');
    const named = await cli(['report', '--format', 'json', '--ignore-file', other], { env, cwd: dir });
    expect(named.stderr).toBe(`phi-scan: 1 findings suppressed by ${other}\n`);
    expect(json(named.stdout).messages.map((m) => m.messageId)).toEqual(['<a@x>']);
    expect(json(named.stdout).totals).toMatchObject({ messagesWithPhi: 1, findings: 1, individuals: 1 });
    const missing = await cli(['report', '--ignore-file', path.join(dir, 'nope')], { env, cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^phi-scan: --ignore-file .*nope: cannot read \(ENOENT\)/);

    // The state store itself is unchanged: a report from a folder without the file counts both.
    expect(json((await cli(['report', '--format', 'json'], { env })).stdout).totals).toMatchObject({ messagesWithPhi: 2, findings: 2 });
  });

  it('diff: a message whose findings are all suppressed is not new PHI (exit 0)', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const env = { PHI_SCAN_STATE: tempDir() };
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350'));
    await cli(['scan', `mbox:${file}`], { env, cwd: dir });
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'SSN: 514-14-8905'));
    await cli(['scan', `mbox:${file}`], { env, cwd: dir });
    const plain = await cli(['diff', '1', '2', '--format', 'jsonl'], { env, cwd: dir });
    expect(plain.code).toBe(1);
    expect(jsonLines(plain.stdout).filter((x) => x.type === 'added').map((x) => x.messageId)).toEqual(['<b@x>']);
    writeFileSync(path.join(dir, '.phi-scanignore'), '*  <b@x>  handled in INC-4711\n');
    const reviewed = await cli(['diff', '1', '2', '--format', 'jsonl'], { env, cwd: dir });
    expect(reviewed.code).toBe(0);
    expect(jsonLines(reviewed.stdout).filter((x) => x.type === 'added')).toEqual([]);
    expect(reviewed.stderr).toBe('phi-scan: 1 findings of the picture as of run 2 suppressed by .phi-scanignore\n');
  });

  it('a message that keeps some findings: its categories, action and breach sizing are recomputed without the others', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const env = { PHI_SCAN_STATE: tempDir() };
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('d', 'Patient SSN: 489-36-8350, DOB: 03/14/1957'));
    const scan = await cli(['scan', `mbox:${file}`, '--format', 'jsonl'], { env, cwd: dir });
    const found = jsonLines(scan.stdout).filter((r) => r.type === 'finding') as { category: string; fingerprint: string }[];
    expect(found.map((f) => f.category).sort()).toEqual(['date-of-birth', 'ssn']);
    const before = json((await cli(['report', '--format', 'json'], { env, cwd: dir })).stdout);
    expect(before.totals).toMatchObject({ findings: 2, individuals: 1 });
    // The SSN's fingerprint anywhere: the DOB stays, so the message still holds PHI, as a DOB-only one.
    writeFileSync(path.join(dir, '.phi-scanignore'), `${found.find((f) => f.category === 'ssn')?.fingerprint}  *  QA test patient\n`);
    const r = json((await cli(['report', '--format', 'json'], { env, cwd: dir })).stdout);
    expect(r.totals).toMatchObject({ messagesWithPhi: 1, findings: 1, individuals: 0, dobOnlyIndividuals: 1 });
    expect(r.messages.map((m) => [m.categories, m.findings, m.action, m.findingDetails.map((f) => f.category)])).toEqual([[['date-of-birth'], 1, 'review', ['date-of-birth']]]);
    expect(r.suppressed).toEqual({ file: '.phi-scanignore', findings: 1 });
  });

  it('no output and no ignore file holds a planted raw value', () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const text of outputs) for (const raw of RAW) expect(text).not.toContain(raw);
  });
});
