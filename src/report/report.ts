/**
 * `phi-scan report` and the rendered formats of `scan`: every format (table, json, csv, html)
 * is rendered from one report model (sinks/model.ts) built from the state store, for a run's
 * messages or the store's current picture; jsonl is the contract's record stream.
 */
import path from 'node:path';
import { csvHeader, csvLine } from '../sinks/csv.js';
import { renderHtml } from '../sinks/html.js';
import { writeJson, type JsonMessage } from '../sinks/json.js';
import type { FindingDetail, RemediationRow, ReportModel, ReportScope, ScanFacts } from '../sinks/model.js';
import type { TextOutput } from '../sinks/output.js';
import { renderTable, type TableOptions } from '../sinks/table.js';
import { errorRecords, messageFindings, pictureRecords, remediationEntries, remediationRows, reportModel } from './picture.js';
import type { StateDb } from '../state/store.js';

export const REPORT_FORMATS = ['jsonl', 'json', 'csv', 'html', 'table'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The remediation list's columns (the csv format's). */
export { CSV_COLUMNS as REMEDIATION_COLUMNS } from '../sinks/csv.js';
export const remediationCsvLine = csvLine;

export interface ReportOptions {
  readonly table?: TableOptions;
  /** What the scan rendering the report knows beyond the store: --strict, mailboxes it stopped in. */
  readonly scan?: ScanFacts;
  /**
   * The model, when the caller renders several reports of one scope (a scan's `outputs`): made
   * once, by the first format that needs it (counting people takes minutes on a large picture).
   * Without it, each report makes its own from `scope` and `scan`.
   */
  readonly model?: () => ReportModel;
}

export async function writeReport(db: StateDb, format: ReportFormat, out: TextOutput, scope?: number | ReportScope, options: ReportOptions = {}): Promise<void> {
  const modelOf = (): ReportModel => options.model?.() ?? reportModel(db, scope, options.scan);
  switch (format) {
    case 'jsonl':
      for (const r of pictureRecords(db, scope)) await out.write(`${JSON.stringify(r)}\n`);
      return;
    case 'csv':
      await out.write(csvHeader());
      for (const r of remediationRows(db, scope)) await out.write(csvLine(r));
      return;
    case 'table':
      await out.write(renderTable(modelOf(), options.table ?? { width: 100, color: false }));
      return;
    case 'html': {
      const model = modelOf();
      await out.write(renderHtml(model, remediationRows(db, model.scope)));
      return;
    }
    case 'json': {
      const model = modelOf();
      const errors = errorRecords(db, model.scope);
      const entries = remediationEntries(db, model.scope);
      const findings = messageFindings(db);
      const messages = (function* (): Generator<JsonMessage> {
        for (const { row: r, message, run } of entries) yield { ...r, findingDetails: findings(message, run) };
      })();
      await writeJson(model, messages, errors, out);
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
      await csv.write(csvHeader());
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
