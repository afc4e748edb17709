/**
 * `phi-scan report`: the state store's picture written as jsonl (CONTRACT.md record types),
 * json (totals, breach sizing, mailboxes ranked by exposure, runs, remediation list) or csv
 * (the remediation list, one row per message holding PHI).
 */
import { csvField } from '../sinks/csv.js';
import type { TextOutput } from '../sinks/output.js';
import { HHS_THRESHOLD, listRuns, pictureRecords, remediationRows, summarize, type RemediationRow } from './picture.js';
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
