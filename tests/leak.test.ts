/**
 * Non-negotiable: no raw identifier leaves the process. Every output format, stdout and
 * stderr, of every form of the demo archive, at the lowest threshold, is searched for every
 * planted raw value (as printed and without separators). Any hit fails.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { DEMO, leakNeedles } from './helpers/demo.js';

const needles = leakNeedles();

function leaks(text: string): string[] {
  return needles.filter((n) => text.includes(n));
}

describe('no raw identifier in any output', () => {
  it('has needles to look for, and they are really in the archive (the search below can fail)', () => {
    expect(needles.length).toBeGreaterThan(50);
    const referral = readFileSync(path.join(DEMO, 'eml', 'intake', '0001-fax-oxygen-referral.eml'), 'latin1');
    expect(leaks(referral).length).toBeGreaterThan(2);
  });

  const sources = [`mbox:${path.join(DEMO, 'mbox')}`, `maildir:${path.join(DEMO, 'maildir', 'intake')}`, `maildir:${path.join(DEMO, 'maildir', 'billing')}`, `eml:${path.join(DEMO, 'eml')}`];

  it.each(['jsonl', 'json', 'csv', 'table', 'html'])('--format %s, stdout and --out file', async (format) => {
    const out = path.join(tempDir(), `report.${format}`);
    const toStdout = await runCli(['scan', ...sources, '--format', format, '--min-confidence', 'low']);
    const toFile = await runCli(['scan', ...sources, '--format', format, '--min-confidence', 'low', '--out', out]);
    expect(toStdout.code).toBe(3);
    expect(toFile.code).toBe(3);
    const written = readFileSync(out, 'utf8');
    expect(written.length).toBeGreaterThan(100);
    // Run times differ between the two scans (ISO in json, readable in the table and page).
    const withoutTimes = (t: string): string => t.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z|\d{4}-\d\d-\d\d \d\d:\d\d UTC|>\d\d-\d\d</g, 'TIME');
    expect(withoutTimes(toStdout.stdout)).toBe(withoutTimes(written));
    for (const text of [toStdout.stdout, toStdout.stderr, written, toFile.stdout, toFile.stderr]) expect(leaks(text)).toEqual([]);
  });

  it('rules test prints masked values only', async () => {
    // Every raw value with a label for each category, so the rules see the most they can.
    const labels = ['SSN:', 'MBI:', 'DOB:', 'Member ID:', 'MRN:', 'Date of death:'];
    const input = needles.flatMap((n) => labels.map((l) => `${l} ${n}`)).join('\n');
    expect(leaks(input).length).toBe(needles.length);
    const r = await runCli(['rules', 'test', '-'], { input });
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(leaks(r.stdout + r.stderr)).toEqual([]);
  });
});
