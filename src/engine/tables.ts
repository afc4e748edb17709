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

/** Splits a row on a delimiter outside double quotes; returns cells and the offsets where each starts. */
export function splitRow(line: string, delimiter: string): { cells: string[]; starts: number[] } {
  const cells: string[] = [];
  const starts: number[] = [0];
  let quoted = false;
  let cell = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '"') quoted = !quoted;
    if (ch === delimiter && !quoted) {
      cells.push(cell);
      cell = '';
      starts.push(i + 1);
    } else cell += ch;
  }
  cells.push(cell);
  return { cells: cells.map((c) => c.trim().replace(/^"|"$/g, '').trim()), starts };
}

function delimiterCount(line: string, delimiter: string): number {
  if (!line.includes(delimiter)) return 0;
  if (!line.includes('"')) return line.split(delimiter).length - 1; // the common case, native speed
  return splitRow(line, delimiter).cells.length - 1;
}

/**
 * Blocks of two or more consecutive lines with the same number (≥ 1) of one delimiter;
 * the first line of a block is its header. Linear in the text.
 */
export function findTables(text: string): TableBlock[] {
  const blocks: TableBlock[] = [];
  if (!/[|\t,]/.test(text)) return blocks;
  const lines: { start: number; text: string }[] = [];
  let pos = 0;
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    lines.push({ start: pos, text: text.slice(pos, end).replace(/\r$/, '') });
    if (nl === -1) break;
    pos = nl + 1;
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as { start: number; text: string };
    // ' | ' is what our HTML conversion writes; a lone '|' elsewhere is prose or HL7.
    const delimiter = DELIMITERS.find((d) => (d === '|' ? line.text.includes(' | ') : line.text.includes(d)));
    const count = delimiter ? delimiterCount(line.text, delimiter) : 0;
    if (!delimiter || count === 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < lines.length && (lines[j] as { text: string }).text.trim() !== '' && delimiterCount((lines[j] as { text: string }).text, delimiter) === count) j++;
    const header = splitRow(line.text, delimiter).cells;
    // A header row is labels: at least two of them, each short (a sentence ending in a tab is not).
    const looksLikeHeader = header.filter((c) => c !== '').length >= 2 && header.every((c) => c.length <= MAX_HEADER_CELL);
    if (j - i >= 2 && looksLikeHeader) {
      const last = lines[j - 1] as { start: number; text: string };
      blocks.push({ rowsStart: (lines[i + 1] as { start: number }).start, end: last.start + last.text.length, delimiter, header });
    }
    i = j;
  }
  return blocks;
}
