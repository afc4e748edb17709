/**
 * `phi-scan report`: the state store's picture written as jsonl (CONTRACT.md record types),
 * json (totals, breach sizing, mailboxes ranked by exposure, runs, remediation list) or csv
 * (the remediation list, one row per message holding PHI).
 */
import path from 'node:path';
import { csvField } from '../sinks/csv.js';
import type { TextOutput } from '../sinks/output.js';
import { HHS_THRESHOLD, listRuns, pictureRecords, remediationRows, summarize, unfinishedRun, type RemediationRow } from './picture.js';
import type { StateDb } from './store.js';

export const REPORT_FORMATS = ['jsonl', 'json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const REMEDIATION_COLUMNS = [
  'source',
  'mailbox',
  'folder',
  'date',
  'messageId',
  'maskedSubject',
  'categories',
  'findings',
  'individuals',
  'action',
  'locator',
] as const;

export function remediationCsvLine(r: RemediationRow): string {
  const cells: (string | number | null)[] = [
    r.source,
    r.mailbox,
    r.folder,
    r.date,
    r.messageId,
    r.maskedSubject,
    r.categories.join(';'),
    r.findings,
    r.individuals,
    r.action,
    r.locator,
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}

export async function writeReport(db: StateDb, format: ReportFormat, out: TextOutput, asOf?: number): Promise<void> {
  switch (format) {
    case 'jsonl':
      for (const r of pictureRecords(db, asOf)) await out.write(`${JSON.stringify(r)}\n`);
      return;
    case 'csv':
      await out.write(`${REMEDIATION_COLUMNS.join(',')}\r\n`);
      for (const r of remediationRows(db, asOf)) await out.write(remediationCsvLine(r));
      return;
    case 'json': {
      const picture = summarize(db, asOf);
      const head = {
        generatedAt: new Date().toISOString(),
        run: picture.asOf ?? null,
        threshold: HHS_THRESHOLD,
        // The as-of run when it was interrupted or never finished (else null): the picture is partial.
        interrupted: unfinishedRun(db, asOf) ?? null,
        totals: picture.totals,
        mailboxes: picture.mailboxes,
        runs: listRuns(db).filter((r) => picture.asOf === undefined || r.id <= picture.asOf),
      };
      // The remediation list is streamed row by row: memory stays bounded however many there are.
      const text = JSON.stringify(head, null, 2);
      await out.write(`${text.slice(0, -2)},\n  "remediation": [`);
      let first = true;
      for (const r of remediationRows(db, asOf)) {
        await out.write(`${first ? '' : ','}\n    ${JSON.stringify(r)}`);
        first = false;
      }
      await out.write(`${first ? '' : '\n  '}]\n}\n`);
      return;
    }
    case 'html': {
      const { renderHtmlReport } = await import('./html-report.js');
      await out.write(renderHtmlReport(db, asOf));
      return;
    }
  }
}

/** A mailbox name as a file name: anything but letters, digits, `.`, `_`, `@`, `-` becomes `_`. */
export function ownerFileName(mailbox: string, taken: Set<string>): string {
  const base = mailbox.replace(/[^A-Za-z0-9._@-]/g, '_').replace(/^\.+/, '_') || '_';
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base}-${i}`;
  taken.add(name.toLowerCase());
  return name;
}

/**
 * `phi-scan remediate --out-dir DIR`: the remediation list split per mailbox owner, one
 * `NAME.csv` and one `NAME.json` (an array of rows) per mailbox holding PHI, for a ticket each.
 * Rows arrive sorted by source and mailbox, so one pair of files is open at a time.
 */
export async function writeRemediationPerOwner(
  db: StateDb,
  dir: string,
  open: (file: string) => Promise<TextOutput>,
  asOf?: number,
): Promise<{ mailbox: string; source: string; file: string; rows: number }[]> {
  const written: { mailbox: string; source: string; file: string; rows: number }[] = [];
  const taken = new Set<string>();
  let current: { key: string; csv: TextOutput; json: TextOutput; rows: number } | undefined;
  const finish = async (): Promise<void> => {
    if (!current) return;
    await current.csv.end();
    await current.json.write('\n]\n');
    await current.json.end();
    (written[written.length - 1] as { rows: number }).rows = current.rows;
  };
  for (const r of remediationRows(db, asOf)) {
    const key = `${r.source}\0${r.mailbox}`;
    if (current?.key !== key) {
      await finish();
      const name = ownerFileName(r.mailbox, taken);
      const csv = await open(path.join(dir, `${name}.csv`));
      const json = await open(path.join(dir, `${name}.json`));
      await csv.write(`${REMEDIATION_COLUMNS.join(',')}\r\n`);
      await json.write('[');
      current = { key, csv, json, rows: 0 };
      written.push({ mailbox: r.mailbox, source: r.source, file: name, rows: 0 });
    }
    await current.csv.write(remediationCsvLine(r));
    await current.json.write(`${current.rows === 0 ? '\n' : ',\n'}  ${JSON.stringify(r)}`);
    current.rows++;
  }
  await finish();
  return written;
}
