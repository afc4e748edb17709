/**
 * HTML → text for scanning: what a person sees, with line and table structure kept
 * (a table row stays one line, cells separated by ` | `), entities decoded, and no URLs,
 * images or `data:` URIs (base64 blobs are noise that only costs time and false positives).
 */
import { compile, type FormatCallback } from 'html-to-text';

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

export function htmlToText(html: string): string {
  // &nbsp; becomes a plain space: people read it as one, and numbers split by it must still match.
  return convert(html).replace(DATA_URI, ' ').replace(/\u00a0/g, ' ');
}
