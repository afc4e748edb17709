/**
 * Just enough XML for Office and ODF part files: a tag/text tokenizer and entity decoding.
 * No DTDs, no external entities (nothing is ever fetched or expanded beyond the five named ones).
 *
 * The tokenizer is an `indexOf`-driven scanner, linear in the input whatever it holds: every
 * search either consumes what it scanned or, when nothing further can close (no `>` left, an
 * attribute quote never closed), switches to reading the rest as text. (A backtracking regular
 * expression took minutes on 200,000 unclosed `<a`.) Malformed markup is read, never dropped:
 * a `<` that starts no tag is skipped and what follows it is text.
 */

export interface XmlToken {
  /** Tag name with prefix (`w:t`, `table:table-cell`), or '' for text. */
  readonly tag: string;
  readonly kind: 'open' | 'close' | 'empty' | 'text';
  /** Raw attribute source of an open/empty tag, or the decoded text. */
  readonly value: string;
}

/** Called every few thousand tokens; returning false ends the token stream (the caller's time is up). */
export type InTime = () => boolean;

const isNameStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57) || c === 58 || c === 46 || c === 45;

/** `xml.indexOf(what, from)`, remembered: a later search from before the last hit reuses it, so unclosed `<!--` runs stay linear. */
function searcher(xml: string, what: string): (from: number) => number {
  let hit = -2;
  let searchedFrom = Infinity;
  return (from) => {
    if (hit === -1 && from >= searchedFrom) return -1;
    if (hit >= from && from >= searchedFrom) return hit;
    searchedFrom = from;
    hit = xml.indexOf(what, from);
    return hit;
  };
}

export function* xmlTokens(xml: string, inTime?: InTime): Generator<XmlToken> {
  const n = xml.length;
  const lastGt = xml.lastIndexOf('>');
  const cdataEnd = searcher(xml, ']]>');
  const commentEnd = searcher(xml, '-->');
  let textOnly = false; // nothing after here can close a tag: the rest is text between `<`s
  let pos = 0;
  let count = 0;
  while (pos < n) {
    if (inTime && (++count & 2047) === 0 && !inTime()) return;
    const lt = xml.indexOf('<', pos);
    if (lt !== pos) {
      const end = lt < 0 ? n : lt;
      yield { tag: '', kind: 'text', value: decodeEntities(xml.slice(pos, end)) };
      pos = end;
      continue;
    }
    if (textOnly || pos > lastGt) {
      textOnly = true;
      pos++;
      continue;
    }
    const c1 = xml.charCodeAt(pos + 1);
    if (c1 === 33 /* ! */ || c1 === 63 /* ? */) {
      if (xml.startsWith('<![CDATA[', pos)) {
        const end = cdataEnd(pos + 9);
        if (end >= 0) {
          yield { tag: '', kind: 'text', value: xml.slice(pos + 9, end) };
          pos = end + 3;
          continue;
        }
      } else if (xml.startsWith('<!--', pos)) {
        const end = commentEnd(pos + 4);
        if (end >= 0) {
          pos = end + 3;
          continue;
        }
      }
      // a declaration, processing instruction, or an unclosed comment/CDATA: up to the next `>`
      pos = xml.indexOf('>', pos) + 1; // pos <= lastGt: there is one
      continue;
    }
    let p = pos + 1;
    const close = c1 === 47; /* / */
    if (close) p++;
    if (!isNameStart(xml.charCodeAt(p))) {
      pos++; // a stray `<`
      continue;
    }
    const nameStart = p;
    while (p < n && isNameChar(xml.charCodeAt(p))) p++;
    // the tag ends at the first `>` outside quotes
    let q = p;
    let end = -1;
    while (q < n) {
      const c = xml.charCodeAt(q);
      if (c === 62) {
        end = q;
        break;
      }
      if (c === 34 || c === 39) {
        const closing = xml.indexOf(c === 34 ? '"' : "'", q + 1);
        if (closing < 0) break;
        q = closing + 1;
      } else q++;
    }
    if (end < 0) {
      // an attribute quote that never closes: no tag from here on can be told apart
      textOnly = true;
      pos++;
      continue;
    }
    const empty = !close && end > p && xml.charCodeAt(end - 1) === 47;
    yield { tag: xml.slice(nameStart, p), kind: close ? 'close' : empty ? 'empty' : 'open', value: xml.slice(p, empty ? end - 1 : end) };
    pos = end + 1;
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

export function paragraphText(xml: string, dialect: TextDialect, inTime?: InTime): string {
  const out: string[] = [];
  let inText = 0;
  for (const t of xmlTokens(xml, inTime)) {
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
