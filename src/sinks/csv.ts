/**
 * `--format csv`: the remediation list, one row per message holding PHI, ready for a spreadsheet
 * or a ticket system — the same columns from `scan` (the run's messages) and `report` (the state
 * picture). The subject is included only as redacted by the engine.
 */
import type { RemediationRow } from './model.js';

export const CSV_COLUMNS = [
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

/** RFC 4180 quoting; a leading =,+,-,@ is prefixed with ' so spreadsheets do not run it as a formula. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

export function csvLine(r: RemediationRow): string {
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
