/**
 * RTF → text: control words dropped, \par/\line as new lines, \cell as tab, \'hh decoded in
 * the document's code page, \uN as Unicode; font tables, pictures, objects and other
 * destinations skipped. Also Outlook's compressed RTF (LZFu, MS-OXRTFCP), used by TNEF and .msg.
 */
import { ExtractError, type ExtractContext } from './context.js';

/** Destinations whose content is not document text. */
const SKIP = new Set(['fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'object', 'themedata', 'colorschememapping', 'datastore', 'latentstyles', 'listtable', 'listoverridetable', 'rsidtbl', 'generator', 'xmlnstbl', 'filetbl', 'revtbl', 'pgdsctbl', 'header', 'footer', 'headerl', 'headerr', 'footerl', 'footerr', 'fldinst', 'bkmkstart', 'bkmkend', 'mmathPr', 'wgrffmtfilter', 'objdata']);

function decoderFor(codepage: number): InstanceType<typeof TextDecoder> {
  try {
    return new TextDecoder(codepage === 65001 ? 'utf-8' : `windows-${codepage}`);
  } catch {
    return new TextDecoder('windows-1252');
  }
}

/** Groups nested deeper than this share the state of the deepest one (Word stops far earlier). */
export const MAX_RTF_DEPTH = 10_000;

/** Plain-text characters end at a group, a control word or a line end. */
const SPECIAL = /[{}\\\r\n]/g;

/**
 * RTF → text, linear in time and memory whatever the nesting: groups past MAX_RTF_DEPTH are
 * counted, not stacked (30 MB of `{` held 2.4 GB of group objects before); runs of plain text
 * are pushed as slices, not character by character. With a context, the attachment's time limit
 * is checked as it goes and the problems are recorded.
 */
export function rtfToText(rtf: string, ctx?: Pick<ExtractContext, 'inTime' | 'problem'>): string {
  const out: string[] = [];
  let bytes: number[] = [];
  let decoder = decoderFor(1252);
  const flushBytes = (): void => {
    if (bytes.length > 0) out.push(decoder.decode(new Uint8Array(bytes))), (bytes = []);
  };
  interface Group { skip: boolean; uc: number }
  const stack: Group[] = [];
  let overflow = 0; // groups opened past MAX_RTF_DEPTH and not closed yet
  let group: Group = { skip: false, uc: 1 };
  let pendingSkip = 0; // characters to drop after \uN (its ANSI fallback)
  let starred = false;
  let steps = 0;
  const special = new RegExp(SPECIAL);
  let i = 0;
  while (i < rtf.length) {
    if ((++steps & 0xffff) === 0 && ctx && !ctx.inTime('rtf')) break;
    const ch = rtf[i] as string;
    if (ch === '{') {
      flushBytes();
      if (stack.length < MAX_RTF_DEPTH) stack.push(group), (group = { ...group });
      else if (overflow++ === 0) ctx?.problem('attachment-limit', `rtf: groups nested deeper than ${MAX_RTF_DEPTH} levels; read as if at that level`);
      i++;
      continue;
    }
    if (ch === '}') {
      flushBytes();
      if (overflow > 0) overflow--;
      else group = stack.pop() ?? { skip: false, uc: 1 };
      pendingSkip = 0;
      i++;
      continue;
    }
    if (ch === '\\') {
      const next = rtf[i + 1] ?? '';
      if (next === '\\' || next === '{' || next === '}') {
        if (!group.skip && !consume()) (flushBytes(), out.push(next));
        i += 2;
        continue;
      }
      if (next === "'") {
        const code = parseInt(rtf.slice(i + 2, i + 4), 16);
        if (!group.skip && !consume() && Number.isFinite(code)) {
          bytes.push(code);
          if (bytes.length >= 65_536) out.push(decoder.decode(new Uint8Array(bytes), { stream: true })), (bytes = []);
        }
        i += 4;
        continue;
      }
      if (next === '*') {
        starred = true;
        i += 2;
        continue;
      }
      const m = /^([a-zA-Z]{1,32})(-?\d{1,10})? ?/.exec(rtf.slice(i + 1, i + 50));
      if (!m) {
        // control symbol: \~ non-breaking space, \- optional hyphen, \_ hyphen, newline = \par
        if (!group.skip) {
          if (next === '~') (flushBytes(), out.push(' '));
          else if (next === '_') (flushBytes(), out.push('-'));
          else if (next === '\n' || next === '\r') (flushBytes(), out.push('\n'));
        }
        i += 2;
        continue;
      }
      i += 1 + m[0].length;
      const word = m[1] as string;
      const param = m[2] === undefined ? undefined : Number(m[2]);
      if (starred || SKIP.has(word)) {
        starred = false;
        group.skip = true;
        continue;
      }
      if (group.skip) continue;
      switch (word) {
        case 'ansicpg':
          if (param !== undefined) flushBytes(), (decoder = decoderFor(param));
          break;
        case 'uc':
          group.uc = param ?? 1;
          break;
        case 'u':
          if (param !== undefined) {
            flushBytes();
            out.push(String.fromCharCode(param < 0 ? param + 65536 : param));
            pendingSkip = group.uc;
          }
          break;
        case 'par':
        case 'line':
        case 'row':
        case 'sect':
        case 'page':
          flushBytes();
          out.push('\n');
          break;
        case 'tab':
        case 'cell':
          flushBytes();
          out.push('\t');
          break;
        default:
      }
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      i++;
      continue;
    }
    // a run of plain text, up to the next special character
    special.lastIndex = i;
    const end = special.exec(rtf)?.index ?? rtf.length;
    let from = i;
    if (pendingSkip > 0) {
      const dropped = Math.min(pendingSkip, end - from);
      pendingSkip -= dropped;
      from += dropped;
    }
    if (!group.skip && from < end) {
      flushBytes();
      out.push(rtf.slice(from, end));
    }
    i = end;
  }
  flushBytes();
  return out.join('');

  function consume(): boolean {
    if (pendingSkip > 0) {
      pendingSkip--;
      return true;
    }
    return false;
  }
}

const LZFU_DICT =
  '{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx';

/** PidTagRtfCompressed → RTF bytes (MS-OXRTFCP). Output is bounded by the header's raw size. */
export function decompressRtf(data: Uint8Array, maxBytes: number): Uint8Array {
  if (data.length < 16) throw new ExtractError('corrupt-attachment', 'compressed rtf: truncated');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const rawSize = view.getUint32(4, true);
  const magic = view.getUint32(8, true);
  if (magic === 0x414c454d) return data.subarray(16, 16 + Math.min(rawSize, maxBytes)); // "MELA": stored
  if (magic !== 0x75465a4c) throw new ExtractError('corrupt-attachment', 'compressed rtf: unknown format');
  if (rawSize > maxBytes) throw new ExtractError('attachment-limit', `compressed rtf: ${rawSize} bytes, over the limit`);
  const dict = new Uint8Array(4096);
  for (let k = 0; k < LZFU_DICT.length; k++) dict[k] = LZFU_DICT.charCodeAt(k);
  let write = LZFU_DICT.length;
  const out = new Uint8Array(rawSize);
  let o = 0;
  let p = 16;
  while (p < data.length && o < rawSize) {
    const control = data[p++] as number;
    for (let bit = 0; bit < 8 && p < data.length && o < rawSize; bit++) {
      if ((control & (1 << bit)) === 0) {
        const b = data[p++] as number;
        out[o++] = b;
        dict[write] = b;
        write = (write + 1) & 4095;
        continue;
      }
      if (p + 1 >= data.length) return out.subarray(0, o);
      const ref = ((data[p] as number) << 8) | (data[p + 1] as number);
      p += 2;
      let offset = ref >> 4;
      const length = (ref & 15) + 2;
      if (offset === write) return out.subarray(0, o);
      for (let k = 0; k < length && o < rawSize; k++) {
        const b = dict[offset] as number;
        out[o++] = b;
        dict[write] = b;
        write = (write + 1) & 4095;
        offset = (offset + 1) & 4095;
      }
    }
  }
  return out.subarray(0, o);
}
