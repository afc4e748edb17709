/**
 * `--format csv`: the remediation list, one row per message holding PHI, ready for a spreadsheet
 * or a ticket system — the same columns from `scan` (the run's messages) and `report` (the state
 * picture). The subject is included only as redacted by the engine. Its last column says where
 * remediation stands for the message; the per-mailbox progress (resolved included: those rows are
 * no longer in the list) is a table of its own, `remediate --status --format csv`: one
 * rectangular table per file, as a spreadsheet imports it.
 */
import type { RemediationRow, RemediationStatus } from './model.js';

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
  'remediation',
] as const;

/** `remediate --status --format csv`: remediation progress, one row per mailbox (owner). */
export const PROGRESS_COLUMNS = ['source', 'mailbox', 'remaining', 'quarantined', 'tagged', 'resolved'] as const;

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
    r.remediation,
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}

export const progressCsvHeader = (): string => `${PROGRESS_COLUMNS.join(',')}\r\n`;

export function progressCsvLine(r: RemediationStatus): string {
  return `${[r.source, r.mailbox, r.remaining, r.quarantined, r.tagged, r.resolved].map(csvField).join(',')}\r\n`;
}
