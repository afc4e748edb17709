/** Text facts the engine consults: blobs that are never identifiers, and boilerplate footers. */

const MAX_REACH = 256;
const WHITESPACE = /\s/;

/**
 * A candidate inside a longer token that is a URL, an e-mail address or Message-ID, or a
 * base64/hex blob is not an identifier (`https://x.example/items/536904399`,
 * `536904399@fax.example.com`, DKIM and inline base64 runs).
 */
export function isInsideBlob(text: string, start: number, end: number): boolean {
  // Looks at most MAX_REACH characters each way, so a candidate in a 10 MB base64 line costs little.
  let s = start;
  let e = end;
  const minS = Math.max(0, start - MAX_REACH);
  const maxE = Math.min(text.length, end + MAX_REACH);
  while (s > minS && !WHITESPACE.test(text[s - 1] as string)) s--;
  while (e < maxE && !WHITESPACE.test(text[e] as string)) e++;
  if (s === start && e === end) return false;
  const token = text.slice(s, e);
  if (token.includes('://') || /^www\./i.test(token) || /[\w.+-]@[\w-]+\.[\w.-]/.test(token)) return true;
  return token.length >= 40 && /^[A-Za-z0-9+/=_-]+$/.test(token);
}

const CONFIDENTIAL = /\b(?:confidential|privileged|confidentiality)\b/i;
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
