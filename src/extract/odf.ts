/**
 * OpenDocument (ODT, ODS, ODP): content.xml. Paragraphs become lines; table rows become
 * tab-separated lines, so a spreadsheet's (or a text table's) header is context for its cells.
 * Each ODS sheet and each ODP page is a part of its own.
 */
import type { ExtractContext } from './context.js';
import { attr, xmlTokens } from './xml.js';
import type { ZipArchive } from './zip.js';

/** Repeated empty cells/rows (a sheet padded to column AMJ) are not materialised past this. */
const MAX_REPEAT = 256;

export async function extractOdf(zip: ZipArchive, ctx: ExtractContext, kind: 'odt' | 'ods' | 'odp'): Promise<void> {
  const xml = zip.text('content.xml');
  if (xml === undefined) {
    ctx.problem('corrupt-attachment', `${kind}: no content.xml`);
    return;
  }
  let out: string[] = [];
  let part: string | undefined;
  const flush = (): void => {
    ctx.text(kind === 'ods' ? 'tsv' : 'text', out.join('').replace(/\n{3,}/g, '\n\n'), part);
    out = [];
  };
  let cells: string[] | null = null;
  let cell: string[] = [];
  let cellRepeat = 1;
  let inCell = false;
  let inPara = 0;
  // repeated cells multiply text: stop building once past the text cap (ctx.text then reports it)
  let chars = 0;
  for (const t of xmlTokens(xml, () => ctx.inTime(kind))) {
    if (chars > ctx.limits.maxTextChars) break;
    if (kind !== 'odt' && (t.tag === 'table:table' || t.tag === 'draw:page') && t.kind === 'open' && !(kind === 'ods' && t.tag === 'draw:page')) {
      if (out.length > 0) flush();
      const name = attr(t.value, t.tag === 'table:table' ? 'table:name' : 'draw:name') ?? '';
      part = t.tag === 'table:table' ? `sheet ${name}` : `slide ${name.replace(/^page/, '')}`;
      if (!ctx.inTime(kind)) return;
      continue;
    }
    switch (t.tag) {
      case 'table:table-row':
        if (t.kind === 'open') cells = [];
        else if (t.kind === 'close' && cells) {
          while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
          if (cells.length > 0) out.push(`${cells.join('\t')}\n`);
          cells = null;
        }
        break;
      case 'table:table-cell':
      case 'table:covered-table-cell':
        if (t.kind === 'open') (inCell = true), (cell = []), (cellRepeat = Math.min(MAX_REPEAT, Number(attr(t.value, 'table:number-columns-repeated') ?? 1) || 1));
        else if (cells) {
          const text = t.kind === 'empty' ? '' : cell.join(' ').replace(/[\t\r\n]+/g, ' ').trim();
          const repeat = t.kind === 'empty' ? Math.min(MAX_REPEAT, Number(attr(t.value, 'table:number-columns-repeated') ?? 1) || 1) : cellRepeat;
          for (let i = 0; i < repeat && chars <= ctx.limits.maxTextChars; i++) cells.push(text), (chars += text.length + 1);
          inCell = false;
        }
        break;
      case 'text:p':
      case 'text:h':
        if (t.kind === 'open') inPara++;
        else if (t.kind === 'close') {
          inPara = Math.max(0, inPara - 1);
          if (inCell) cell.push('\n');
          else out.push('\n');
        }
        break;
      case 'text:tab':
        (inCell ? cell : out).push('\t');
        break;
      case 'text:s':
        (inCell ? cell : out).push(' ');
        break;
      case 'text:line-break':
        (inCell ? cell : out).push('\n');
        break;
      case '':
        if (inPara > 0) (inCell ? cell : out).push(t.value), (chars += t.value.length);
        break;
      default:
    }
  }
  if (cells && cells.length > 0) out.push(cells.join('\t'));
  flush();
  await Promise.resolve();
}
