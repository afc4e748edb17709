/**
 * Text normalization before matching: Unicode dashes → `-`, Unicode spaces → ` `, zero-width
 * characters and soft hyphens removed, so `536–90–4399` (en dashes) or a number with a
 * zero-width space inside is seen as typed. ASCII-only text (most mail) is returned as is.
 */
const NEEDS_WORK = /[\u00a0\u00ad\u2000-\u200f\u2010-\u2015\u2028\u2029\u202f\u205f\u2060\u2212\u3000\ufe58\ufe63\ufeff\uff0d]/;
const DASHES = /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/g;
const SPACES = /[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;
const LINE_BREAKS = /[\u2028\u2029]/g;
const INVISIBLE = /[\u00ad\u200b-\u200f\u2060\ufeff]/g;

const NON_ASCII = /[^\x00-\x7f]/;

export function normalizeText(text: string): string {
  // Most mail is ASCII: one cheap test before the precise one.
  if (!NON_ASCII.test(text) || !NEEDS_WORK.test(text)) return text;
  return text.replace(DASHES, '-').replace(SPACES, ' ').replace(LINE_BREAKS, '\n').replace(INVISIBLE, '');
}
