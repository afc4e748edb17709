/**
 * Tables in text: CSV/TSV attachments, HTML tables (rows as `a | b | c` lines, see parse/html.ts)
 * and pasted rows. A column header is context for every value under it (Macie does this for
 * CSV/XLSX; Google suggests hotword rules for whole columns): an `SSN` column of bare numbers
 * is a column of SSNs.
 */

export interface TableBlock {
  /** Offset of the first row under the header, and of the end of the last row. */
  readonly rowsStart: number;
  readonly end: number;
  readonly delimiter: string;
  readonly header: readonly string[];
}

const DELIMITERS = ['|', '\t', ','] as const;

/** Longer than this, a first-row cell is text, not a column label. */
const MAX_HEADER_CELL = 48;

/**
 * Where the cells of the row at [start, end) of `text` start, relative to `start`: after each
 * delimiter outside double quotes. (A value's column, for every value of a roster: no cell is cut out.)
 */
export function cellStarts(text: string, start: number, end: number, delimiter: string): number[] {
  const starts: number[] = [0];
  const d = delimiter.charCodeAt(0);
  let quoted = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) quoted = !quoted;
    else if (c === d && !quoted) starts.push(i + 1 - start);
  }
  return starts;
}

/** Splits a row on a delimiter outside double quotes; returns cells and the offsets where each starts. */
export function splitRow(line: string, delimiter: string): { cells: string[]; starts: number[] } {
  const starts = cellStarts(line, 0, line.length, delimiter);
  const cells = starts.map((from, i) => line.slice(from, i + 1 < starts.length ? (starts[i + 1] as number) - 1 : line.length));
  return { cells: cells.map((c) => c.trim().replace(/^"|"$/g, '').trim()), starts };
}

function delimiterCount(line: string, delimiter: string): number {
  if (!line.includes(delimiter)) return 0;
  if (!line.includes('"')) return line.split(delimiter).length - 1; // the common case, native speed
  return splitRow(line, delimiter).cells.length - 1;
}

/** The line that starts at `start` (up to its newline or the end), without a trailing CR; and where the next line starts. */
function lineFrom(text: string, start: number): { text: string; next: number } {
  const nl = text.indexOf('\n', start);
  let end = nl === -1 ? text.length : nl;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return { text: text.slice(start, end), next: nl === -1 ? text.length + 1 : nl + 1 };
}

/** The delimiter a first row uses and its number of delimiters, if it has any. */
function rowDelimiter(line: string): { delimiter: string; count: number } | undefined {
  // ' | ' is what our HTML conversion writes; a lone '|' elsewhere is prose or HL7.
  const delimiter = DELIMITERS.find((d) => (d === '|' ? line.includes(' | ') : line.includes(d)));
  const count = delimiter ? delimiterCount(line, delimiter) : 0;
  return delimiter && count > 0 ? { delimiter, count } : undefined;
}

/** A header row is labels: at least two of them, each short (a sentence ending in a tab is not). */
function looksLikeHeader(cells: readonly string[]): boolean {
  return cells.filter((c) => c !== '').length >= 2 && cells.every((c) => c.length <= MAX_HEADER_CELL);
}

/**
 * Could the line starting at `start` be the header of a block `findTables` finds? True for
 * every header it finds (it is a delimited line that looks like a header, followed by a row
 * with as many delimiters), so when no keyword's line passes, the tables need not be found.
 */
export function couldBeHeader(text: string, start: number): boolean {
  const line = lineFrom(text, start);
  const shape = rowDelimiter(line.text);
  if (!shape || line.next > text.length) return false;
  const row = lineFrom(text, line.next);
  if (row.text.trim() === '' || delimiterCount(row.text, shape.delimiter) !== shape.count) return false;
  return looksLikeHeader(splitRow(line.text, shape.delimiter).cells);
}

/**
 * Blocks of two or more consecutive lines with the same number (≥ 1) of one delimiter;
 * the first line of a block is its header. Linear in the text; lines without any delimiter
 * are skipped by one native search instead of being cut out one by one.
 */
export function findTables(text: string): TableBlock[] {
  const blocks: TableBlock[] = [];
  const anyDelimiter = /[|\t,]/g;
  let from = 0;
  for (;;) {
    anyDelimiter.lastIndex = from;
    const hit = anyDelimiter.exec(text);
    if (!hit) break;
    const start = text.lastIndexOf('\n', hit.index) + 1;
    const line = lineFrom(text, start);
    const shape = rowDelimiter(line.text);
    if (!shape) {
      from = line.next;
      continue;
    }
    const { delimiter, count } = shape;
    let rows = 1;
    let rowsStart = -1;
    let last = { start, text: line.text };
    let next = line.next;
    while (next <= text.length) {
      const row = lineFrom(text, next);
      if (row.text.trim() === '' || delimiterCount(row.text, delimiter) !== count) break;
      if (rowsStart === -1) rowsStart = next;
      rows++;
      last = { start: next, text: row.text };
      next = row.next;
    }
    const header = splitRow(line.text, delimiter).cells;
    if (rows >= 2 && looksLikeHeader(header)) blocks.push({ rowsStart, end: last.start + last.text.length, delimiter, header });
    from = next;
  }
  return blocks;
}
