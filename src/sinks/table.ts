/**
 * `--format table`: the per-mailbox summary a person takes in at a glance, worst first.
 * Counts only: no identifiers, masked or not.
 */
import { CATEGORIES, type Category } from '../model/finding.js';
import type { MailboxRecord, Sink, ScanSummary } from './types.js';
import type { TextOutput } from './output.js';

const CATEGORY_HEADINGS: Record<Category, string> = {
  ssn: 'SSN',
  'medicare-id': 'Medicare',
  'date-of-birth': 'DOB',
  'date-of-death': 'DOD',
  insurance: 'Insurance',
  'medical-record-number': 'MRN',
  'health-condition': 'Health',
};

function totalFindings(m: MailboxRecord): number {
  return Object.values(m.byCategory).reduce((a, b) => a + (b ?? 0), 0);
}

/** Worst first: most messages with PHI, then most findings, then name. */
export function rankMailboxes(mailboxes: readonly MailboxRecord[]): MailboxRecord[] {
  return [...mailboxes].sort(
    (a, b) =>
      b.messagesWithPhi - a.messagesWithPhi ||
      totalFindings(b) - totalFindings(a) ||
      (a.mailbox < b.mailbox ? -1 : a.mailbox > b.mailbox ? 1 : 0),
  );
}

export function renderTable(summary: ScanSummary): string {
  const rows = rankMailboxes(summary.mailboxes);
  const shownCategories = CATEGORIES.filter((c) => rows.some((r) => (r.byCategory[c] ?? 0) > 0));
  const header = ['Mailbox', 'Messages', 'With PHI', '%', ...shownCategories.map((c) => CATEGORY_HEADINGS[c]), 'Errors'];
  const body = rows.map((r) => [
    summary.sources.length > 1 && new Set(summary.mailboxes.map((m) => m.mailbox)).size < summary.mailboxes.length ? `${r.mailbox} (${r.source})` : r.mailbox,
    String(r.messages),
    String(r.messagesWithPhi),
    r.messages > 0 ? `${Math.round((100 * r.messagesWithPhi) / r.messages)}%` : '-',
    ...shownCategories.map((c) => String(r.byCategory[c] ?? 0)),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];

  const withPhi = rows.filter((r) => r.messagesWithPhi > 0).length;
  const pct = summary.messages > 0 ? ` (${((100 * summary.messagesWithPhi) / summary.messages).toFixed(1)}%)` : '';
  out.push('');
  out.push(
    `${summary.messages} messages in ${rows.length} mailbox${rows.length === 1 ? '' : 'es'} scanned; ` +
      `${summary.messagesWithPhi} hold PHI at ${summary.minConfidence} confidence or above${pct}, in ${withPhi} mailbox${withPhi === 1 ? '' : 'es'}.`,
  );
  if (summary.errors > 0) {
    out.push(`${summary.errors} item${summary.errors === 1 ? '' : 's'} could not be read: the scan is incomplete (see --format jsonl for the error records).`);
  }
  out.push('Category columns count findings: distinct identifiers per message location.');
  return `${out.join('\n')}\n`;
}

export function tableSink(out: TextOutput): Sink {
  return {
    write() {
      // The table is a summary: everything it needs arrives in close().
    },
    async close(summary) {
      await out.write(renderTable(summary));
      await out.end();
    },
  };
}
