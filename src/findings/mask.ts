/**
 * Masking: what of an identifier may be shown. At most half of its letters and digits, and never
 * more than the last 4 (CONTRACT.md; the hardening issue: `MRN 77321` → `•7321` showed 4 of 5).
 */

const MASK = '•';

/** The most a mask may show of a value of `alnum` letters and digits: half, rounded down, at most 4. */
export function shownCharacters(alnum: number, keep = 4): number {
  return Math.max(0, Math.min(keep, 4, Math.floor(alnum / 2)));
}

const ALNUM = /[\p{L}\p{N}]/u;

/**
 * Every letter or digit but the last few becomes •; separators stay so the shape is
 * recognizable. Shown: the last `keep` (default 4), but never more than half of the value.
 */
export function maskKeepLast(value: string, keep = 4): string {
  let alnum = 0;
  for (const ch of value) if (ALNUM.test(ch)) alnum++;
  const shown = shownCharacters(alnum, keep);
  let seen = 0;
  let out = '';
  for (const ch of value) {
    if (ALNUM.test(ch)) {
      seen++;
      out += seen > alnum - shown ? ch : MASK;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Dates: only the year may be shown. */
export function maskDateKeepYear(year: number | undefined): string {
  return year === undefined ? '••/••/••••' : `••/••/${year}`;
}
