/**
 * `--format table`: the per-mailbox summary a person takes in at a glance, worst first, fitted
 * to the terminal's width (80 columns too), then what to do and whether the picture is complete.
 * Counts only: no identifiers, masked or not.
 */
import {
  CATEGORY_SHORT,
  HHS_THRESHOLD,
  peopleSentence,
  thresholdSentence,
  completenessSentence,
  interruptedSentence,
  percent,
  plural,
  type MailboxSummary,
  type ReportModel,
  skippedSentence,
  suppressedSentence,
  remediationSentence,
} from './model.js';
import { stripControls } from '../findings/names.js';

export interface TableOptions {
  /** Columns available (a terminal's width; 100 when not a terminal). */
  readonly width: number;
  readonly color: boolean;
}

/** Errors named one by one under the table; the rest are counted. */
const ERRORS_LISTED = 5;

/**
 * Colour on a terminal unless NO_COLOR is set (no-color.org) or --no-color was given;
 * FORCE_COLOR (not 0/false) turns it on for pipes.
 */
/** The table fitted to the terminal it goes to (COLUMNS, else the tty's width; 100 in a file or pipe). */
export function tableOptions(stream: { readonly isTTY?: boolean; readonly columns?: number } | undefined, env: NodeJS.ProcessEnv, colorFlag: boolean | undefined): TableOptions {
  const tty = stream?.isTTY === true;
  const columns = Number(env.COLUMNS);
  const width = Number.isInteger(columns) && columns > 0 ? columns : tty ? stream?.columns || 80 : 100;
  return { width, color: useColor(env, tty, colorFlag) };
}

export function useColor(env: NodeJS.ProcessEnv, isTTY: boolean, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return !['0', 'false'].includes(env.FORCE_COLOR);
  return isTTY;
}

const SGR = { bold: '1', red: '31', yellow: '33', green: '32', dim: '2' } as const;
type Style = keyof typeof SGR;

/** Cuts a string to `n` characters, marking the cut with `…`. */
function fit(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`;
}

/** Cuts the middle out, so a distinguishing end (`… (mbox)`, a domain) stays visible. */
function fitMiddle(s: string, n: number): string {
  if (s.length <= n) return s;
  const head = Math.ceil((n - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (n - 1 - head))}`;
}

/** Words wrapped to `width`, continuation lines indented by `indent`. */
function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

interface Column {
  readonly head: string;
  readonly left?: boolean;
  readonly cell: (m: MailboxSummary) => string;
  readonly style?: (m: MailboxSummary) => Style | undefined;
}

export function renderTable(model: ReportModel, options: TableOptions): string {
  const width = Math.max(40, options.width);
  const paint = (s: string, style: Style | undefined): string => (options.color && style ? `\x1b[${SGR[style]}m${s}\x1b[0m` : s);
  const rows = model.mailboxes;
  const shown = model.categories.map((c) => c.category);
  // A mailbox name shared by two sources is told apart by the source kind, else the whole source.
  const count = (f: (m: MailboxSummary) => string): Map<string, number> => {
    const n = new Map<string, number>();
    for (const r of rows) n.set(f(r), (n.get(f(r)) ?? 0) + 1);
    return n;
  };
  const byName = count((m) => m.mailbox);
  const kind = (m: MailboxSummary): string => `${m.mailbox} (${m.source.split(':')[0]})`;
  const byKind = count(kind);
  // Names from files and folders (a state database of an earlier version too): no control
  // sequences on a terminal. Partly read mailboxes are marked * (the banner says why).
  const name = (m: MailboxSummary): string =>
    stripControls((byName.get(m.mailbox) ?? 0) < 2 ? m.mailbox : (byKind.get(kind(m)) ?? 0) < 2 ? kind(m) : `${m.mailbox} (${m.source})`) +
    (m.interrupted ? ' *' : '');
  // The HHS marker has its own character after the number, so numbers stay right-aligned.
  const people: Column = {
    head: 'People ',
    cell: (m) => `${m.estimatedIndividuals}${m.overThreshold ? '!' : ' '}`,
    style: (m) => (m.overThreshold ? 'red' : undefined),
  };
  const base: Column[] = [
    { head: 'Mailbox', left: true, cell: name },
    { head: 'Messages', cell: (m) => String(m.messages) },
    { head: 'With PHI', cell: (m) => String(m.messagesWithPhi), style: (m) => (m.messagesWithPhi > 0 ? 'red' : undefined) },
    { head: '%', cell: (m) => percent(m.messagesWithPhi, m.messages) },
    people,
  ];
  // Errors: items that failed; Not read: items not read by design (a column only when there are some).
  const failedCol: Column = { head: 'Errors', cell: (m) => String(m.errors), style: (m) => (m.errors > 0 ? 'yellow' : undefined) };
  const skippedCol: Column = { head: 'Not read', cell: (m) => String(m.skipped) };
  const errorCols: Column[] = rows.some((m) => m.skipped > 0) ? [failedCol, skippedCol] : [failedCol];
  const perCategory: Column[] = shown.map((c) => ({ head: CATEGORY_SHORT[c], cell: (m) => String(m.byCategory[c] ?? 0) }));
  const compact: Column = {
    head: 'Categories',
    left: true,
    cell: (m) =>
      shown
        .filter((c) => (m.byCategory[c] ?? 0) > 0)
        .map((c) => CATEGORY_SHORT[c])
        .join(' '),
  };
  const layout = (cols: Column[], maxFirst = Infinity, maxCompact = Infinity): { cols: Column[]; widths: number[] } => {
    const widths = cols.map((c, i) => {
      const w = Math.max(c.head.length, ...rows.map((r) => c.cell(r).length));
      return i === 0 ? Math.min(w, Math.max(c.head.length, maxFirst)) : c === compact ? Math.min(w, Math.max(c.head.length, maxCompact)) : w;
    });
    return { cols, widths };
  };
  const total = (l: { widths: number[] }): number => l.widths.reduce((a, b) => a + b, 0) + 2 * (l.widths.length - 1);
  // Widest first: a column per category; else one column naming them; then shorter names.
  let l = layout([...base, ...perCategory, ...errorCols]);
  if (total(l) > width) {
    l = layout([...base, ...errorCols, compact]);
    if (total(l) > width) {
      const over = total(l) - width;
      const compactW = l.widths[l.widths.length - 1] ?? 0;
      const cut = Math.min(over, Math.max(0, compactW - 10));
      l = layout(l.cols, Infinity, compactW - cut);
      const rest = total(l) - width;
      if (rest > 0) l = layout(l.cols, Math.max(10, (l.widths[0] ?? 0) - rest), compactW - cut);
      // Very narrow: the categories go (the summary below names them).
      if (total(l) > width) {
        const bare = layout([...base, ...errorCols]);
        l = layout(bare.cols, Math.max(10, (bare.widths[0] ?? 0) - (total(bare) - width)));
      }
    }
  }
  const { cols, widths } = l;
  const line = (cells: string[], styles: (Style | undefined)[] = []): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        const col = cols[i] as Column;
        const text = i === 0 ? fitMiddle(c, w) : fit(c, w);
        const padded = col.left ? text.padEnd(i === cells.length - 1 ? 0 : w) : text.padStart(w);
        return paint(padded, styles[i]);
      })
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  out.push(paint(fit(model.title, width), 'bold'));
  out.push('');
  const say = (text: string, style?: Style): void => {
    for (const w of wrap(text, width, '  ')) out.push(paint(w, style));
  };
  // First, when the run did not end: every figure below is partial.
  if (model.interrupted) {
    say(interruptedSentence(model.interrupted, rows.some((m) => m.interrupted)), 'yellow');
    out.push('');
  }
  out.push(paint(line(cols.map((c) => c.head)).padEnd(0), 'bold'));
  out.push(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) out.push(line(cols.map((c) => c.cell(r)), cols.map((c) => c.style?.(r))));
  if (rows.length === 0) out.push('(no mailboxes)');
  out.push('');

  const t = model.totals;
  const threshold = model.completeness.minConfidence.join('/') || 'the';
  say(
    `${plural(t.messages, 'message')} in ${plural(t.mailboxes, 'mailbox', 'mailboxes')}; ` +
      `${plural(t.messagesWithPhi, 'message')} ${t.messagesWithPhi === 1 ? 'holds' : 'hold'} PHI (${percent(t.messagesWithPhi, t.messages)}) ` +
      `in ${plural(t.mailboxesWithPhi, 'mailbox', 'mailboxes')}, at ${threshold} confidence or above.`,
  );
  say(
    peopleSentence(t),
    t.overThreshold ? 'red' : undefined,
  );
  say(
    `${thresholdSentence(t)}${t.mailboxesOverThreshold > 0 ? ' (marked !)' : ''}.`,
    t.mailboxesOverThreshold > 0 || t.overThreshold ? 'red' : undefined,
  );
  const todo = model.actions.filter((a) => a.messages > 0);
  if (todo.length > 0) {
    say(`To do: ${todo.map((a) => `${a.label.toLowerCase()}: ${plural(a.messages, 'message')} (${plural(a.owners, 'owner')})`).join('; ')}.`);
  }
  if (model.remediation && model.remediation.length > 0) {
    say('Remediation progress per mailbox (owner), messages holding PHI:');
    for (const r of model.remediation) say(stripControls(`  ${r.mailbox} (${r.source}): ${remediationSentence(r)}`));
  }
  const c = model.completeness;
  say(completenessSentence(c), c.complete ? 'green' : 'yellow');
  if (c.skipped > 0) say(skippedSentence(c), c.strict ? 'yellow' : undefined);
  if (model.suppressed && model.suppressed.findings > 0) say(stripControls(suppressedSentence(model.suppressed)));
  const unread = c.errors + c.skipped;
  if (unread > 0) {
    say(`Errors by kind: ${c.byCode.map((b) => `${b.code} ${b.count}${b.severity === 'skipped' ? ' (by design)' : ''}`).join(', ')}.`);
    out.push(unread > ERRORS_LISTED ? `First ${ERRORS_LISTED} errors:` : unread === 1 ? 'The error:' : 'Errors:');
    for (const e of c.firstErrors.slice(0, ERRORS_LISTED)) {
      const where = [e.mailbox, e.folder].filter((x) => x !== undefined).join('/');
      out.push(fit(stripControls(`  ${where || e.source}${e.location ? ` ${e.location}` : ''} [${e.code}]: ${e.error}`), width));
    }
    if (unread > ERRORS_LISTED) say(`  …and ${plural(unread - ERRORS_LISTED, 'more error')}: every one in --format json or jsonl.`, 'dim');
  }
  say('Category columns count findings: distinct identifiers per message location.', 'dim');
  return `${out.join('\n')}\n`;
}
