/**
 * OCR through the built CLI: a faxed TIFF's planted identifiers are findings at the attachment
 * with the page in the json detail, no planted raw value appears in any output, and `--no-ocr`
 * gives the record an image got before OCR.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../fixtures/generate.js';
import { encodePng, encodeTiff, faxed, noise, patient, referralPage } from '../../fixtures/ocr.js';
import { jsonLines, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { AnyRecord } from '../helpers/records.js';

const rng = new Rng('ocr-cli');
const person = patient(rng);
const { page, planted } = referralPage(person, 200, 'strip');
const tiff = Buffer.from(encodeTiff([{ ...faxed(page, rng, 1), compression: 4, dpi: 200 }]));
const twoPages = Buffer.from(encodeTiff([0, 1].map(() => ({ ...faxed(page, rng, 0.5), compression: 4 as const, dpi: 200 }))));
const mbox = `From a@example.org Mon Mar  4 09:15:00 2024\nMessage-ID: <fax@ocr.test>\nSubject: referral\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nReferral attached.\n--b\nContent-Type: image/tiff; name="fax.tif"\nContent-Disposition: attachment; filename="fax.tif"\nContent-Transfer-Encoding: base64\n\n${tiff.toString('base64').replace(/.{76}/g, '$&\n')}\n--b--\n\n`;

describe('OCR through the CLI', () => {
  let json: CliResult;
  let jsonl: CliResult;
  let off: CliResult;
  let limited: CliResult;
  let late: CliResult;
  /** The working folder and home of the page-limit run: OCR must write nothing there. */
  const cwd = tempDir();
  const home = tempDir();
  beforeAll(async () => {
    const file = path.join(tempDir(), 'fax.mbox');
    writeFileSync(file, mbox);
    const two = path.join(tempDir(), 'two.mbox');
    writeFileSync(two, mbox.replace(tiff.toString('base64').replace(/.{76}/g, '$&\n'), twoPages.toString('base64').replace(/.{76}/g, '$&\n')));
    // a whole letter page at 300 dpi with specks: several seconds of OCR on any machine
    const full = Buffer.from(encodePng(noise(referralPage(patient(rng), 300, 'page').page, rng, 0.01)));
    const slow = path.join(tempDir(), 'slow.mbox');
    writeFileSync(slow, mbox.replace(tiff.toString('base64').replace(/.{76}/g, '$&\n'), full.toString('base64').replace(/.{76}/g, '$&\n')).replaceAll('image/tiff', 'image/png').replaceAll('fax.tif', 'slow.png'));
    [json, jsonl, off, limited, late] = await Promise.all([
      runCli(['scan', `mbox:${file}`, '--format', 'json']),
      runCli(['scan', `mbox:${file}`, '--format', 'jsonl', '--threads', '0']),
      runCli(['scan', `mbox:${file}`, '--format', 'jsonl', '--no-ocr']),
      runCli(['scan', `mbox:${two}`, '--format', 'jsonl', '--max-ocr-pages', '1', '--ocr-timeout', '120'], { cwd, env: { HOME: home } }),
      runCli(['scan', `mbox:${slow}`, '--format', 'jsonl', '--ocr-timeout', '1']),
    ]);
  }, 180_000);

  it('finds the planted identifiers at the attachment, page 1', () => {
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { messages: { findingDetails: { location: string; part?: string; category: string }[] }[] };
    const found = report.messages.flatMap((m) => m.findingDetails).filter((f) => f.location === 'attachment:fax.tif' && f.part === 'page 1').map((f) => f.category);
    for (const v of planted.values.filter((x) => x.category === 'ssn' || x.category === 'medical-record-number')) expect(found).toContain(v.category);
    const records = jsonLines(jsonl.stdout).map((x) => AnyRecord.parse(x));
    expect(records.filter((r) => r.type === 'finding' && r.location === 'attachment:fax.tif').length).toBeGreaterThanOrEqual(3);
    expect(records.filter((r) => r.type === 'error')).toEqual([]);
  });

  it('--max-ocr-pages: pages past the limit are one error record; the first page is read', () => {
    expect(limited.stderr).toBe('');
    const records = jsonLines(limited.stdout);
    expect(records.filter((r) => r.type === 'error')).toEqual([expect.objectContaining({ location: 'attachment:fax.tif', code: 'attachment-limit', error: 'tiff: 2 pages, only the first 1 read by OCR (page limit)' })]);
    expect(records.filter((r) => r.type === 'finding' && r.location === 'attachment:fax.tif').length).toBeGreaterThanOrEqual(3);
  });

  it('--ocr-timeout: a page over it is an error record naming the page', () => {
    expect(late.stderr).toBe('');
    const errors = jsonLines(late.stdout).filter((r) => r.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ location: 'attachment:slow.png', code: 'attachment-limit', error: 'png page 1: OCR time limit of 1 s per page reached; page not read', severity: 'failed' })]);
  });

  it('OCR downloads and writes nothing: no language data cache in the working folder or home', () => {
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
  });

  it('no planted raw value in any output', () => {
    for (const out of [json, jsonl, off, limited, late]) for (const v of planted.values) {
      expect(out.stdout).not.toContain(v.value);
      expect(out.stderr).not.toContain(v.value);
    }
    expect(jsonl.stderr).toBe('');
  });

  it('--no-ocr: the image is reported as not read, as before OCR', () => {
    expect(off.code).toBe(0);
    const errors = jsonLines(off.stdout).filter((r) => r.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ location: 'attachment:fax.tif', code: 'no-text', error: 'image/tiff: image without text: not read', severity: 'skipped' })]);
  });
});
