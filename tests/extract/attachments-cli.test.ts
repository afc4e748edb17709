/**
 * The attachment archive end to end through a scan session (the library's runScanSession, what
 * `phi-scan scan` runs): every planted identifier is found at its attachment location (and
 * page/sheet/slide part in the json detail), every unreadable file is an error record with its
 * code, JSONL records keep the contract's shape (no `part`), and no planted raw value appears in
 * any output format. Two scans in all, each writing several reports (OCR makes a scan costly).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentPlanted } from '../../fixtures/attachments.js';
import { jsonLines, ROOT, tempDir, type CliResult } from '../helpers/cli.js';
import { AnyRecord } from '../helpers/records.js';
import { scanInProcess } from '../helpers/session.js';

const DIR = path.join(ROOT, 'fixtures', 'attachments');
const MBOX = `mbox:${path.join(DIR, 'attachments.mbox')}`;
const planted = JSON.parse(readFileSync(path.join(DIR, 'planted.json'), 'utf8')) as AttachmentPlanted;

interface JsonReport {
  messages: { messageId: string; findingDetails: { location: string; part?: string; category: string; rule: string }[] }[];
  errors: { messageId?: string; location?: string; code: string; error: string }[];
}

describe('attachments archive through the CLI', () => {
  let jsonl: CliResult;
  let report: JsonReport;
  beforeAll(async () => {
    // One scan, two reports: the records on stdout, the json report in a file.
    const json = path.join(tempDir(), 'report.json');
    jsonl = await scanInProcess({ sources: [MBOX], outputs: [{ format: 'jsonl' }, { format: 'json', out: json }] });
    report = JSON.parse(readFileSync(json, 'utf8')) as JsonReport;
  }, 120_000);

  it('exits 3 (some attachments unreadable) and every JSONL record has the contract shape', () => {
    expect(jsonl.code).toBe(3);
    const records = jsonLines(jsonl.stdout);
    for (const r of records) expect(() => AnyRecord.parse(r), JSON.stringify(r)).not.toThrow();
    const mailbox = records.find((r) => r.type === 'mailbox');
    // Every planted error is counted once: `skipped` (not read by design) or `errors` (failed).
    const planted_ = planted.messages.flatMap((m) => m.errors);
    const byDesign = planted_.filter((e) => e.code === 'no-text' || e.code === 'unsupported-attachment').length;
    expect(mailbox).toMatchObject({ messages: planted.messages.length, errors: planted_.length - byDesign, skipped: byDesign });
  });

  it.each(planted.messages.filter((m) => m.findings.length > 0).map((m) => [m.subject, m] as const))('finds what is planted: %s', (_subject, m) => {
    const found = report.messages.find((x) => x.messageId === m.messageId)?.findingDetails ?? [];
    // each planted identifier is one finding with its location, part and category
    const key = (f: { location: string; part?: string; category: string }): string => `${f.location} | ${f.part ?? ''} | ${f.category}`;
    const counts = (list: readonly { location: string; part?: string; category: string }[]): Map<string, number> => {
      const c = new Map<string, number>();
      for (const f of list) c.set(key(f), (c.get(key(f)) ?? 0) + 1);
      return c;
    };
    const got = counts(found);
    for (const [k, n] of counts(m.findings)) expect(got.get(k) ?? 0, k).toBeGreaterThanOrEqual(n);
  });

  it.each(planted.messages.filter((m) => m.errors.length > 0).map((m) => [m.subject, m] as const))('reports what it cannot read: %s', (_subject, m) => {
    const errors = report.errors.filter((e) => e.messageId === m.messageId).map((e) => ({ location: e.location, code: e.code }));
    expect(errors).toEqual(m.errors);
  });

  it('names the type in every attachment error message', () => {
    for (const e of report.errors) expect(e.error).toMatch(/^(pdf|zip|xlsx|docx|msg|tnef|image\/\w+|legacy \w+ \.\w+|attachment type)\b/);
  });

  it('reads the malformed messages to the end: their other attachments and bodies are scanned', () => {
    expect(report.errors.map((e) => e.messageId)).toContain(planted.messages.at(-1)?.messageId);
    const last = jsonLines(jsonl.stdout).filter((r) => r.type === 'error' && r.messageId === planted.messages.at(-1)?.messageId);
    expect(last.length).toBe(planted.messages.at(-1)?.errors.length);
  });

  /** One scan at the lowest threshold writing every format to a file (made once, for the five tests below). */
  let everyFormat: Promise<{ result: CliResult; dir: string }> | undefined;
  const FORMATS = ['jsonl', 'json', 'csv', 'table', 'html'] as const;
  const scanEveryFormat = (): Promise<{ result: CliResult; dir: string }> =>
    (everyFormat ??= (async () => {
      const dir = tempDir();
      const result = await scanInProcess({ sources: [MBOX], minConfidence: 'low', outputs: FORMATS.map((format) => ({ format, out: path.join(dir, `report.${format}`) })) });
      return { result, dir };
    })());

  it.each(FORMATS)('no planted raw value in --format %s (stdout, stderr, the report file)', async (format) => {
    const { result: r, dir } = await scanEveryFormat();
    const texts = [r.stdout, r.stderr, readFileSync(path.join(dir, `report.${format}`), 'utf8')];
    expect(texts[2]?.length).toBeGreaterThan(100);
    const leaked = planted.rawValues.filter((v) => texts.some((t) => t.includes(v)));
    expect(leaked).toEqual([]);
  }, 60_000);

  it('the needles are really in the documents (so the leak search can fail)', async () => {
    // Extract the text without masking through the library and look for the values.
    const { parseMessage } = await import('../../src/parse/mime.js');
    const raw = readFileSync(path.join(DIR, 'attachments.mbox'), 'utf8');
    const messages = raw.split(/^From .*\n/m).filter((m) => m.trim() !== '');
    const texts: string[] = [];
    for (const m of messages) texts.push(...(await parseMessage(Buffer.from(m), { maxNestingDepth: 5 })).segments.map((s) => s.text));
    const all = texts.join('\n');
    const present = planted.rawValues.filter((v) => all.includes(v));
    expect(present.length).toBeGreaterThan(planted.rawValues.length / 2);
  }, 60_000);
});
