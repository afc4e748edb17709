/** Text facts the engine consults: blobs that are never identifiers, and boilerplate footers. */

const MAX_REACH = 256;

const EMAIL = /[\w.+-]@[\w-]+\.[\w.-]/;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xa0;
}

/** Characters of a base64/hex/URL-safe blob. */
function isBlobChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61 || c === 95 || c === 45;
}

/**
 * A candidate inside a longer token that is a URL, an e-mail address or Message-ID, or a
 * base64/hex blob is not an identifier (`https://x.example/items/536904399`,
 * `536904399@fax.example.com`, DKIM and inline base64 runs). Looks at most MAX_REACH
 * characters each way with plain character tests, so dense input stays cheap.
 */
export function isInsideBlob(text: string, start: number, end: number): boolean {
  let s = start;
  let e = end;
  const minS = Math.max(0, start - MAX_REACH);
  const maxE = Math.min(text.length, end + MAX_REACH);
  while (s > minS && !isSpace(text.charCodeAt(s - 1))) s--;
  while (e < maxE && !isSpace(text.charCodeAt(e))) e++;
  if (s === start && e === end) return false;
  // The token is searched with string methods, not a loop over its characters: in a CSV roster
  // the token of every value is its whole row.
  const token = text.slice(s, e);
  if (token.includes('@') && EMAIL.test(token)) return true;
  // `://` starting inside the token (its slashes may lie past a token cut at MAX_REACH).
  if (text.slice(s, Math.min(text.length, e + 2)).includes('://')) return true;
  if (/^www\./i.test(token.slice(0, 4))) return true;
  if (e - s < 40) return false;
  for (let i = s; i < e; i++) if (!isBlobChar(text.charCodeAt(i))) return false;
  return true;
}

/**
 * What a text must hold for disclaimerSpans to find anything: one of these words, or a word
 * starting with `recipien` (from `intended recipient`, which the regex does not bound on the
 * right). The prescan looks for them among the words it hashes anyway, so most items never run
 * the regexes below.
 */
export const DISCLAIMER_TRIGGERS = { words: ['confidential', 'privileged', 'confidentiality'], prefix: 'recipien' } as const;

const CONFIDENTIAL = new RegExp(`\\b(?:${DISCLAIMER_TRIGGERS.words.join('|')})\\b`, 'i');
const DISCLAIMER_MARKERS =
  /\b(?:intended (?:solely |only )?for|intended recipient|if you (?:have )?received this|notify the sender|delete (?:this|the) (?:e-?mail|message)|unauthorized (?:use|review|disclosure)|HIPAA|protected health information)\b/i;

/**
 * Confidentiality footers ("This e-mail may contain protected health information ... if you are
 * not the intended recipient ..."): paragraphs that say so. Words in them (patient, HIPAA,
 * Medicare) must not count as health context, or every message of a clinic looks like PHI.
 */
export function disclaimerSpans(text: string): { start: number; end: number }[] {
  if (!CONFIDENTIAL.test(text) && !/intended recipient/i.test(text)) return [];
  const spans: { start: number; end: number }[] = [];
  // Paragraphs are separated by blank lines (found with a linear regex; no nested quantifiers).
  const blank = /\n[ \t\r]*\n/g;
  let start = 0;
  for (;;) {
    const m = blank.exec(text);
    const end = m ? m.index : text.length;
    const p = text.slice(start, end);
    if ((CONFIDENTIAL.test(p) || /intended recipient/i.test(p)) && DISCLAIMER_MARKERS.test(p)) spans.push({ start, end });
    if (!m) break;
    start = m.index + m[0].length;
  }
  return spans;
}
