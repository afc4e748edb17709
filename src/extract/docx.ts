/**
 * DOCX: the text of word/document.xml, then of the footnotes, endnotes, comments, headers and
 * footers, read through the bounded ZIP reader and the linear XML scanner (as XLSX, PPTX and ODF
 * are). Paragraphs are lines; a table row is one line of tab-separated cells. Text deleted with
 * change tracking on is still in the file, so it is read too.
 *
 * mammoth was used before: its JSZip inflates every part before any size is checked, so a
 * 1.5 MB file whose parts lie about their sizes grew to 1.77 GB.
 */
import type { ExtractContext } from './context.js';
import { xmlTokens, type InTime } from './xml.js';
import type { ZipArchive } from './zip.js';

const TEXT = new Set(['w:t', 'w:delText']);
const OTHER_PARTS = /^word\/(footnotes|endnotes|comments|header\d*|footer\d*)\.xml$/;

/** One WordprocessingML part → text. */
export function wordText(xml: string, inTime?: InTime): string {
  const out: string[] = [];
  let row: string[] = [];
  let cell: string[] = [];
  let depth = 0; // table cells open (a nested table's cells go into the outer cell)
  let inText = 0;
  const put = (s: string): number => (depth > 0 ? cell : out).push(s);
  for (const t of xmlTokens(xml, inTime)) {
    if (t.kind === 'text') {
      if (inText > 0) put(t.value);
      continue;
    }
    if (TEXT.has(t.tag)) {
      if (t.kind === 'open') inText++;
      else if (t.kind === 'close') inText = Math.max(0, inText - 1);
      continue;
    }
    if (t.kind === 'close' || t.kind === 'empty') {
      if (t.tag === 'w:p') put(depth > 0 ? ' ' : '\n');
      else if (t.tag === 'w:tc' && depth > 0 && t.kind === 'close') {
        if (--depth === 0) row.push(cell.join('').trim()), (cell = []);
        else cell.push(' ');
      } else if (t.tag === 'w:tr' && depth === 0 && t.kind === 'close') {
        if (row.some((c) => c !== '')) out.push(`${row.join('\t')}\n`);
        row = [];
      }
    }
    if (t.kind === 'close') continue;
    if (t.tag === 'w:tc' && t.kind === 'open') depth++;
    else if (t.tag === 'w:tab') put(depth > 0 ? ' ' : '\t');
    else if (t.tag === 'w:br' || t.tag === 'w:cr') put(depth > 0 ? ' ' : '\n');
    else if (t.tag === 'w:noBreakHyphen') put('-');
  }
  if (cell.length > 0) row.push(cell.join('').trim());
  if (row.length > 0) out.push(row.join('\t'));
  return out.join('');
}

export async function extractDocx(zip: ZipArchive, ctx: ExtractContext): Promise<void> {
  const inTime = (): boolean => ctx.inTime('docx');
  const parts = ['word/document.xml', ...[...zip.entries.keys()].filter((n) => OTHER_PARTS.test(n)).sort()];
  const texts: string[] = [];
  for (const name of parts) {
    if (!inTime()) break;
    const xml = zip.text(name);
    if (xml !== undefined) texts.push(wordText(xml, inTime));
    await Promise.resolve(); // let a pool's timeout message through between parts
  }
  ctx.text('text', texts.join('\n'));
}
