/**
 * Text normalization before matching: Unicode dashes → `-`, Unicode spaces → ` `, line and
 * paragraph separators → newline, zero-width characters and soft hyphens removed, full-width
 * ASCII (`５１２-８４-３９２１`, U+FF01–FF5E) → ASCII, so `536–90–4399` (en dashes), a number
 * with a zero-width space inside or one typed on a CJK keyboard is seen as typed.
 * ASCII-only text (most mail) is returned as is; otherwise one replace pass.
 */
const NON_ASCII = /[^\x00-\x7f]/;
export const SPECIAL = /[\u00a0\u00ad\u2000-\u200f\u2010-\u2015\u2028\u2029\u202f\u205f\u2060\u2212\u3000\ufe58\ufe63\ufeff\uff01-\uff5e]/g;

/** What one special character becomes: `-`, a space, a newline, an ASCII character, or nothing. */
export function replacement(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c >= 0xff01 && c <= 0xff5e && c !== 0xff0d) return String.fromCharCode(c - 0xfee0); // full-width ASCII
  if ((c >= 0x2010 && c <= 0x2015) || c === 0x2212 || c === 0xfe58 || c === 0xfe63 || c === 0xff0d) return '-';
  if (c === 0x00a0 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000) return ' ';
  if (c === 0x2028 || c === 0x2029) return '\n';
  return ''; // soft hyphen, zero-width and bidi marks, word joiner, BOM
}

export function normalizeText(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  return text.replace(SPECIAL, replacement);
}
