/**
 * `--format table`: the per-mailbox summary a person takes in at a glance, worst first.
 * Counts only: no identifiers, masked or not.
 */
import { CATEGORIES, type Category } from '../model/finding.js';
import { SKIPPED_DESCRIPTION } from '../model/problem.js';
import type { MailboxRecord, Sink, ScanSummary } from './types.js';
import type { TextOutput } from './output.js';
import { stripControls } from '../findings/names.js';

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

/** Distinct individuals (breach sizing, see state/picture.ts): per `source\0mailbox`, and overall. */
export interface Individuals {
  readonly byMailbox: ReadonlyMap<string, number>;
  readonly overall: number;
}

/** HHS breach notification threshold (45 CFR 164.408(b)). */
const HHS_THRESHOLD = 500;

export function renderTable(summary: ScanSummary, individuals?: Individuals): string {
  const rows = rankMailboxes(summary.mailboxes);
  const shownCategories = CATEGORIES.filter((c) => rows.some((r) => (r.byCategory[c] ?? 0) > 0));
  const people = (r: MailboxRecord): number => individuals?.byMailbox.get(`${r.source}\0${r.mailbox}`) ?? 0;
  const showSkipped = summary.skipped > 0;
  const header = [
    'Mailbox',
    'Messages',
    'With PHI',
    '%',
    ...shownCategories.map((c) => CATEGORY_HEADINGS[c]),
    ...(individuals ? ['People'] : []),
    'Errors',
    ...(showSkipped ? ['Not read'] : []),
  ];
  const body = rows.map((r) => [
    // Names from files and folders (a state database of an earlier version too): no control sequences on a terminal.
    // Partly read mailboxes are marked with * (the line below the table says why).
    `${stripControls(summary.sources.length > 1 && new Set(summary.mailboxes.map((m) => m.mailbox)).size < summary.mailboxes.length ? `${r.mailbox} (${r.source})` : r.mailbox)}${r.interrupted ? ' *' : ''}`,
    String(r.messages),
    String(r.messagesWithPhi),
    r.messages > 0 ? `${Math.round((100 * r.messagesWithPhi) / r.messages)}%` : '-',
    ...shownCategories.map((c) => String(r.byCategory[c] ?? 0)),
    ...(individuals ? [`${people(r)}${people(r) >= HHS_THRESHOLD ? '!' : ''}`] : []),
    String(r.errors),
    ...(showSkipped ? [String(r.skipped)] : []),
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
  if (summary.status === 'interrupted') {
    out.push(
      `INTERRUPTED: the scan was stopped (${summary.stoppedBy === 'output-closed' ? 'its output was closed' : 'SIGINT/SIGTERM'}) before it ended; ` +
        'these counts cover only what was read (mailboxes marked * were partly read). Run it again with --since-last to finish.',
    );
  }
  if (summary.errors > 0) {
    out.push(`${summary.errors} item${summary.errors === 1 ? '' : 's'} could not be read: the scan is incomplete (see --format jsonl for the error records).`);
  }
  if (summary.skipped > 0) {
    out.push(
      `${summary.skipped} item${summary.skipped === 1 ? '' : 's'} ${SKIPPED_DESCRIPTION}` +
        (summary.strict ? ': with --strict, the scan is incomplete.' : '; not an error (--strict makes them one).'),
    );
  }
  out.push('Category columns count findings: distinct identifiers per message location.');
  if (individuals) {
    const over = rows.filter((r) => people(r) >= HHS_THRESHOLD).length;
    out.push(
      `People: distinct individuals by SSN, Medicare ID or member ID; ${individuals.overall} across all mailboxes. ` +
        `${over} mailbox${over === 1 ? '' : 'es'} at or over the HHS ${HHS_THRESHOLD}-individual threshold (marked !).`,
    );
  }
  return `${out.join('\n')}\n`;
}

export function tableSink(out: TextOutput): Sink {
  // Only the fingerprints of direct identifiers are kept (16 hex characters each), to count people.
  const byMailbox = new Map<string, Set<string>>();
  const overall = new Set<string>();
  return {
    write(event) {
      if (event.type !== 'message') return;
      for (const f of event.outcome.findings) {
        if (!(f.category === 'ssn' || f.category === 'medicare-id' || (f.category === 'insurance' && f.rule.includes('member')))) continue;
        const key = `${event.context.source}\0${event.context.mailbox}`;
        let set = byMailbox.get(key);
        if (!set) byMailbox.set(key, (set = new Set()));
        set.add(`${f.category}:${f.fingerprint}`);
        overall.add(`${f.category}:${f.fingerprint}`);
      }
    },
    async close(summary) {
      const counts = new Map([...byMailbox].map(([k, v]) => [k, v.size]));
      await out.write(renderTable(summary, { byMailbox: counts, overall: overall.size }));
      await out.end();
    },
  };
}
