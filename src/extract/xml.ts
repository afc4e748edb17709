/**
 * Just enough XML for Office and ODF part files: a tag/text tokenizer and entity decoding.
 * No DTDs, no external entities (nothing is ever fetched or expanded beyond the five named ones).
 */

export interface XmlToken {
  /** Tag name with prefix (`w:t`, `table:table-cell`), or '' for text. */
  readonly tag: string;
  readonly kind: 'open' | 'close' | 'empty' | 'text';
  /** Raw attribute source of an open/empty tag, or the decoded text. */
  readonly value: string;
}

const TOKEN = /<(\/?)([A-Za-z_][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>|<!\[CDATA\[([\s\S]*?)\]\]>|<[?!][\s\S]*?>|([^<]+)/g;

export function* xmlTokens(xml: string): Generator<XmlToken> {
  const token = new RegExp(TOKEN); // own lastIndex: tokenizers nest (a workbook, then each sheet)
  for (let m = token.exec(xml); m !== null; m = token.exec(xml)) {
    if (m[2] !== undefined) {
      const kind = m[1] ? 'close' : m[4] ? 'empty' : 'open';
      yield { tag: m[2], kind, value: m[3] ?? '' };
    } else if (m[5] !== undefined) yield { tag: '', kind: 'text', value: m[5] };
    else if (m[6] !== undefined) yield { tag: '', kind: 'text', value: decodeEntities(m[6]) };
  }
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return NAMED[e] ?? whole;
  });
}

/** An attribute's decoded value from a tag's attribute source. */
const ATTR_PATTERNS = new Map<string, RegExp>();

export function attr(source: string, name: string): string | undefined {
  let pattern = ATTR_PATTERNS.get(name);
  if (!pattern) ATTR_PATTERNS.set(name, (pattern = new RegExp(`(?:^|\\s)${name.replace(/[.:]/g, '\\$&')}\\s*=\\s*("([^"]*)"|'([^']*)')`)));
  const m = pattern.exec(source);
  return m ? decodeEntities(m[2] ?? m[3] ?? '') : undefined;
}

/**
 * Paragraph text of a WordprocessingML/DrawingML/ODF part: text runs joined, a line per
 * paragraph, tabs and breaks kept. `paragraph` and `run` name the elements of the dialect.
 */
export interface TextDialect {
  readonly paragraph: ReadonlySet<string>;
  /** Elements whose text content is document text. */
  readonly text: ReadonlySet<string>;
  readonly tab: ReadonlySet<string>;
  readonly lineBreak: ReadonlySet<string>;
  readonly space?: ReadonlySet<string>;
}

export function paragraphText(xml: string, dialect: TextDialect): string {
  const out: string[] = [];
  let inText = 0;
  for (const t of xmlTokens(xml)) {
    if (t.kind === 'text') {
      if (inText > 0) out.push(t.value);
      continue;
    }
    if (dialect.text.has(t.tag)) {
      if (t.kind === 'open') inText++;
      else if (t.kind === 'close') inText = Math.max(0, inText - 1);
    }
    if (t.kind === 'close') {
      if (dialect.paragraph.has(t.tag)) out.push('\n');
    } else if (dialect.tab.has(t.tag)) out.push('\t');
    else if (dialect.lineBreak.has(t.tag)) out.push('\n');
    else if (dialect.space?.has(t.tag)) out.push(' ');
    else if (t.kind === 'empty' && dialect.paragraph.has(t.tag)) out.push('\n');
  }
  return out.join('');
}
