/**
 * `--format csv`: a remediation list, one row per message with PHI, ready for a spreadsheet
 * or a ticket system. The subject is included only with every candidate identifier masked.
 */
import { confidenceRank, type Confidence } from '../model/finding.js';
import type { Sink } from './types.js';
import type { TextOutput } from './output.js';

export const CSV_COLUMNS = [
  'source',
  'mailbox',
  'folder',
  'date',
  'messageId',
  'subject',
  'categories',
  'findings',
  'highestConfidence',
  'locator',
] as const;

/** RFC 4180 quoting; a leading =,+,-,@ is prefixed with ' so spreadsheets do not run it as a formula. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvSink(out: TextOutput): Sink {
  let headerWritten = false;
  const header = async (): Promise<void> => {
    if (headerWritten) return;
    headerWritten = true;
    await out.write(`${CSV_COLUMNS.join(',')}\r\n`);
  };
  return {
    async write(event) {
      await header();
      if (event.type !== 'message' || event.outcome.findings.length === 0) return;
      const { context, outcome } = event;
      const highest = outcome.findings.reduce<Confidence>(
        (best, f) => (confidenceRank(f.confidence) > confidenceRank(best) ? f.confidence : best),
        'low',
      );
      const row = [
        context.source,
        context.mailbox,
        context.folder,
        outcome.date,
        outcome.messageId,
        outcome.maskedSubject,
        [...new Set(outcome.findings.map((f) => f.category))].sort().join(';'),
        outcome.findings.length,
        highest,
        context.locator,
      ];
      await out.write(`${row.map(csvField).join(',')}\r\n`);
    },
    async close() {
      await header();
      await out.end();
    },
  };
}
