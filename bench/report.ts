/** Markdown output for the bench, and the small figures helpers its scripts share. */

export type Verdict = 'pass' | 'FAIL' | '—';

export interface Row {
  readonly metric: string;
  readonly value: string;
  readonly target: string;
  readonly result: Verdict;
}

export function row(metric: string, value: string, target = '—', ok?: boolean): Row {
  return { metric, value, target, result: ok === undefined ? '—' : ok ? 'pass' : 'FAIL' };
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function rowsTable(rows: readonly Row[]): string {
  return markdownTable(
    ['Metric', 'Value', 'Target', 'Result'],
    rows.map((r) => [r.metric, r.value, r.target, r.result]),
  );
}

/** Fixed decimals for figures: 1234.5 → "1,234.5". */
export function num(value: number | null | undefined, decimals = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function int(value: number): string {
  return value.toLocaleString('en-US');
}

/** CPU seconds of this process so far (on a shared machine, wall time measures the others too). */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The middle value (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
}
