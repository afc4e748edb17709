/**
 * HTML → text for scanning: what a person sees, with line and table structure kept
 * (a table row stays one line, cells separated by ` | `), entities decoded, and no URLs,
 * images or `data:` URIs (base64 blobs are noise that only costs time and false positives).
 */
import { compile, type FormatCallback } from 'html-to-text';
import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';

/** One table row per line, cells separated by ` | `: a header row stays above its values. */
const formatTableAsRows: FormatCallback = (elem, walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 1 });
  const rows: typeof elem.children = [];
  const collect = (nodes: typeof elem.children): void => {
    for (const node of nodes ?? []) {
      if (node.type !== 'tag') continue;
      if (node.name === 'tr') rows.push(node);
      else if (node.name === 'thead' || node.name === 'tbody' || node.name === 'tfoot') collect(node.children);
    }
  };
  collect(elem.children);
  for (const row of rows) {
    const cells = (row.children ?? []).filter((c) => c.type === 'tag' && (c.name === 'td' || c.name === 'th'));
    cells.forEach((cell, i) => {
      if (i > 0) builder.addLiteral(' | ');
      builder.pushWordTransform((w: string) => w);
      walk(cell.children, builder);
      builder.popWordTransform();
    });
    builder.addLineBreak();
  }
  builder.closeBlock({ trailingLineBreaks: 1 });
};

const convert = compile({
  wordwrap: false,
  preserveNewlines: false,
  limits: { maxInputLength: Number.MAX_SAFE_INTEGER, ellipsis: '' },
  formatters: { tableAsRows: formatTableAsRows },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'head', format: 'skip' },
    { selector: 'table', format: 'tableAsRows' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
  ],
});

const DATA_URI = /data:[\w.+-]+\/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/=\r\n]*/g;

/**
 * html-to-text walks the DOM recursively (several stack frames per level): 3,000 nested
 * `<font>` or ~900 nested lists overflow the stack. Deeper than this, the flat reader below is
 * used instead. Far below what overflows (~1,900 levels on a main thread), far above real mail
 * (a long Gmail reply chain nests ~4 levels a reply).
 */
export const MAX_HTML_DEPTH = 256;

export function htmlToText(html: string): string {
  let text: string;
  if (htmlDepthOver(html, MAX_HTML_DEPTH)) text = flatHtmlToText(html);
  else {
    try {
      text = convert(html);
    } catch (err) {
      // Only a stack overflow is worth a second reader; anything else is the caller's to report.
      if (!(err instanceof RangeError)) throw err;
      text = flatHtmlToText(html);
    }
  }
  // &nbsp; becomes a plain space: people read it as one, and numbers split by it must still match.
  return text.replace(DATA_URI, ' ').replace(/\u00a0/g, ' ');
}

/**
 * True when elements may nest deeper than `limit`: open tags minus close tags, straight from
 * the tokenizer (a full parse costs a quarter of a conversion). Void elements do not nest; an
 * element closed only by implication (a sloppy `<p>` or `<li>`) counts as still open, so the
 * estimate errs on the deep side, where the flat reader still reads every word.
 */
export function htmlDepthOver(html: string, limit: number): boolean {
  // Depth can never exceed the number of tags: most bodies are decided without tokenizing.
  let tags = 0;
  for (let i = html.indexOf('<'); i !== -1 && tags <= limit; i = html.indexOf('<', i + 1)) tags++;
  if (tags <= limit) return false;
  let depth = 0;
  let opened = '';
  let over = false;
  const opens = (): void => {
    if (VOID.has(opened)) return;
    if (++depth > limit && !over) {
      over = true;
      tokenizer.pause();
    }
  };
  const tokenizer: Tokenizer = new Tokenizer(
    { xmlMode: false, decodeEntities: false },
    {
      ...IGNORE,
      onopentagname(start, end) {
        opened = html.slice(start, end).toLowerCase();
      },
      onopentagend: opens,
      // `<font/>` opens a font in HTML: self-closing counts as open too (only SVG really closes)
      onselfclosingtag: opens,
      onclosetag(start, end) {
        if (!VOID.has(html.slice(start, end).toLowerCase())) depth = Math.max(0, depth - 1);
      },
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  return over;
}

/** Elements that never hold content (HTML living standard, as htmlparser2 lists them). */
const VOID = new Set(['area', 'base', 'basefont', 'br', 'col', 'command', 'embed', 'frame', 'hr', 'img', 'input', 'isindex', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

const IGNORE: TokenizerCallbacks = {
  onattribdata: () => undefined,
  onattribentity: () => undefined,
  onattribend: () => undefined,
  onattribname: () => undefined,
  oncdata: () => undefined,
  onclosetag: () => undefined,
  oncomment: () => undefined,
  ondeclaration: () => undefined,
  onend: () => undefined,
  onopentagend: () => undefined,
  onopentagname: () => undefined,
  onprocessinginstruction: () => undefined,
  onselfclosingtag: () => undefined,
  ontext: () => undefined,
  ontextentity: () => undefined,
};

const SKIPPED = new Set(['head', 'style', 'script', 'title', 'template']);
const BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'center', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section',
  'table', 'tbody', 'thead', 'tfoot', 'tr', 'ul',
]);

/**
 * HTML → text without recursion, for HTML nested too deep for html-to-text: every text node in
 * order (entities decoded), a line break around block elements, table cells of a row joined
 * by ` | ` as above. Straight from the tokenizer: htmlparser2's Parser keeps its open elements
 * with Array.unshift, quadratic in the depth (100,000 nested `<div>`: 10 s); this is linear,
 * and its memory is the text plus one counter per open table row.
 */
export function flatHtmlToText(html: string): string {
  const out: string[] = [];
  let skipping = 0;
  const cellsInRow: number[] = [];
  const tagName = (start: number, end: number): string => html.slice(start, end).toLowerCase();
  const callbacks: TokenizerCallbacks = {
    ...IGNORE,
    onopentagname(start, end) {
      const name = tagName(start, end);
      if (SKIPPED.has(name)) skipping++;
      else if (name === 'body') skipping = 0; // a <head> that is never closed ends here
      if (name === 'tr') cellsInRow.push(0);
      else if (name === 'td' || name === 'th') {
        const last = cellsInRow.length - 1;
        if (last >= 0) {
          if ((cellsInRow[last] ?? 0) > 0) out.push(' | ');
          cellsInRow[last] = (cellsInRow[last] ?? 0) + 1;
        }
      } else if (BLOCKS.has(name)) out.push('\n');
    },
    onclosetag(start, end) {
      const name = tagName(start, end);
      if (SKIPPED.has(name)) skipping = Math.max(0, skipping - 1);
      if (name === 'tr') {
        cellsInRow.pop();
        out.push('\n');
      } else if (BLOCKS.has(name)) out.push('\n');
    },
    ontext(start, end) {
      if (skipping === 0) out.push(html.slice(start, end).replace(/[ \t\r\n\f]+/g, ' '));
    },
    ontextentity(codepoint) {
      if (skipping === 0) out.push(String.fromCodePoint(codepoint));
    },
  };
  const tokenizer = new Tokenizer({ xmlMode: false, decodeEntities: true }, callbacks);
  tokenizer.write(html);
  tokenizer.end();
  return out
    .join('')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
