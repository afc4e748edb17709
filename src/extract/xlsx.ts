/**
 * XLSX: every sheet, as tab-separated rows in sheet order, so the engine's table logic sees a
 * column header ("SSN", "Member ID") above its cells. Shared strings, inline strings and
 * numbers are kept; numbers in a date format become dates (a DOB column is serial numbers
 * otherwise).
 */
import type { ExtractContext } from './context.js';
import { attr, xmlTokens, type InTime } from './xml.js';
import type { ZipArchive } from './zip.js';

/** Built-in number formats that are dates (ECMA-376 18.8.30). */
const DATE_FORMAT_IDS = new Set([14, 15, 16, 17, 22, 27, 30, 36, 50, 57]);

/** Excel's last column (XFD): a cell reference past it is damage, not a reason to pad a row. */
const MAX_COLUMNS = 16_384;

function sharedStrings(xml: string | undefined, inTime: InTime): string[] {
  if (!xml) return [];
  const out: string[] = [];
  let current: string[] | null = null;
  let inT = false;
  let inPhonetic = false;
  for (const t of xmlTokens(xml, inTime)) {
    if (t.tag === 'si') {
      if (t.kind === 'open') current = [];
      else if (t.kind === 'close' && current) out.push(current.join('')), (current = null);
      else if (t.kind === 'empty') out.push('');
    } else if (t.tag === 'rPh') inPhonetic = t.kind === 'open';
    else if (t.tag === 't') inT = t.kind === 'open';
    else if (t.kind === 'text' && inT && !inPhonetic && current) current.push(t.value);
  }
  return out;
}

/** Style index → is a date format. */
function dateStyles(xml: string | undefined, inTime: InTime): boolean[] {
  if (!xml) return [];
  const customDates = new Set<number>();
  const styles: boolean[] = [];
  let inCellXfs = false;
  for (const t of xmlTokens(xml, inTime)) {
    if (t.tag === 'numFmt' && t.kind !== 'close') {
      const id = Number(attr(t.value, 'numFmtId'));
      // a format code with day/month/year letters outside quotes and brackets is a date
      const code = unquoted(attr(t.value, 'formatCode') ?? '');
      if (/[dmy]/i.test(code) && !/^[#0.,%]/.test(code)) customDates.add(id);
    } else if (t.tag === 'cellXfs') inCellXfs = t.kind === 'open';
    else if (inCellXfs && t.tag === 'xf' && t.kind !== 'close') {
      const id = Number(attr(t.value, 'numFmtId') ?? 0);
      styles.push(DATE_FORMAT_IDS.has(id) || customDates.has(id));
    }
  }
  return styles;
}

/** A format code without its "quoted" and [bracketed] runs (linear: a regex backtracks on `[[[[`). */
function unquoted(code: string): string {
  let out = '';
  for (let i = 0; i < code.length; ) {
    const c = code[i] as string;
    const close = c === '"' ? code.indexOf('"', i + 1) : c === '[' ? code.indexOf(']', i + 1) : -1;
    if (close < 0) (out += c), i++;
    else i = close + 1;
  }
  return out;
}

/** Excel serial day (1900 system) → MM/DD/YYYY, the way US forms write dates. */
function serialDate(value: string): string {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 2958465) return value;
  // Excel counts a 29 Feb 1900 that never was (Lotus 1-2-3 compatibility): serials before it start a day later
  const d = new Date(Date.UTC(1899, 11, n < 61 ? 31 : 30) + Math.floor(n) * 86_400_000);
  const pad = (x: number): string => String(x).padStart(2, '0');
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`;
}

function columnIndex(ref: string | undefined): number | undefined {
  const letters = ref ? /^[A-Z]+/.exec(ref)?.[0] : undefined;
  if (!letters) return undefined;
  let n = 0;
  for (const ch of letters) if ((n = n * 26 + (ch.charCodeAt(0) - 64)) > MAX_COLUMNS) return undefined;
  return n - 1;
}

const cellText = (s: string): string => s.replace(/[\t\r\n]+/g, ' ');

/**
 * One sheet's XML → tab-separated rows (blank rows dropped, column positions kept). Stops once
 * the rows hold more than `maxChars` (one shared string can be referenced by a million cells).
 */
export function sheetRows(xml: string, strings: readonly string[], dates: readonly boolean[], maxChars = Infinity, inTime?: InTime): string {
  const lines: string[] = [];
  let chars = 0;
  let row: string[] = [];
  let col = 0;
  let type = '';
  let style = 0;
  let value: string[] = [];
  let inValue = false;
  let cellCol = 0;
  for (const t of xmlTokens(xml, inTime)) {
    if (chars > maxChars) break;
    switch (t.tag) {
      case 'row':
        if (t.kind === 'open') (row = []), (col = 0);
        else if (t.kind === 'close' && row.some((c) => c !== '')) lines.push(row.join('\t'));
        break;
      case 'c':
        if (t.kind === 'close' || t.kind === 'empty') {
          if (t.kind === 'empty') cellCol = columnIndex(attr(t.value, 'r')) ?? col;
          const raw = value.join('');
          let text = raw;
          if (type === 's') text = strings[Number(raw)] ?? '';
          else if (type === 'b') text = raw === '1' ? 'TRUE' : 'FALSE';
          else if ((type === '' || type === 'n') && raw !== '' && dates[style]) text = serialDate(raw);
          if (t.kind === 'close' || text !== '') {
            while (row.length < cellCol) row.push('');
            row[cellCol] = cellText(text);
            chars += text.length + 1;
          }
          col = cellCol + 1;
        } else {
          cellCol = columnIndex(attr(t.value, 'r')) ?? col;
          type = attr(t.value, 't') ?? '';
          style = Number(attr(t.value, 's') ?? 0);
          value = [];
        }
        break;
      case 'v':
      case 't':
        inValue = t.kind === 'open';
        break;
      case '':
        if (inValue) value.push(t.value);
        break;
      default:
    }
  }
  if (chars > maxChars && row.some((c) => c !== '')) lines.push(row.join('\t'));
  return lines.join('\n');
}

export async function extractXlsx(zip: ZipArchive, ctx: ExtractContext): Promise<void> {
  const workbook = zip.text('xl/workbook.xml') ?? '';
  const rels = new Map<string, string>();
  const inTime = (): boolean => ctx.inTime('xlsx');
  for (const t of xmlTokens(zip.text('xl/_rels/workbook.xml.rels') ?? '', inTime)) {
    if (t.tag === 'Relationship' && t.kind !== 'close') {
      const id = attr(t.value, 'Id');
      const target = attr(t.value, 'Target');
      if (id && target) rels.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target}`);
    }
  }
  const strings = sharedStrings(zip.text('xl/sharedStrings.xml'), inTime);
  const dates = dateStyles(zip.text('xl/styles.xml'), inTime);
  for (const t of xmlTokens(workbook, inTime)) {
    if (t.tag !== 'sheet' || t.kind === 'close') continue;
    const name = attr(t.value, 'name') ?? '';
    const target = rels.get(attr(t.value, 'r:id') ?? '');
    if (!target) continue;
    if (!ctx.inTime('xlsx')) return;
    const xml = zip.text(target);
    if (xml !== undefined) ctx.text('tsv', sheetRows(xml, strings, dates, ctx.limits.maxTextChars, inTime), `sheet ${name}`);
    await Promise.resolve(); // let a pool's timeout message through between sheets
  }
}
