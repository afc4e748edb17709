/** Suppression by an ignore file (fingerprint and/or message, with a reason), as gitleaks users know it. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSuppressions } from '../../src/findings/suppress.js';
import type { Finding } from '../../src/model/finding.js';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

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
