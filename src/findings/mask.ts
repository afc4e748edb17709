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

const isAsciiAlnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Every letter or digit but the last few becomes •; separators stay so the shape is
 * recognizable. Shown: the last `keep` (default 4), but never more than half of the value.
 */
export function maskKeepLast(value: string, keep = 4): string {
  // Nearly every value is ASCII (a roster's thousands): counted and masked by char code, the
  // shown tail copied as is; any other letter or digit takes the Unicode path below.
  let alnum = 0;
  let ascii = true;
  for (let i = 0; i < value.length && ascii; i++) {
    const c = value.charCodeAt(i);
    if (c > 127) ascii = false;
    else if (isAsciiAlnum(c)) alnum++;
  }
  if (ascii) {
    let hide = alnum - shownCharacters(alnum, keep);
    let out = '';
    let i = 0;
    for (; i < value.length && hide > 0; i++) {
      if (isAsciiAlnum(value.charCodeAt(i))) {
        out += MASK;
        hide--;
      } else out += value[i];
    }
    return out + value.slice(i);
  }
  return maskUnicode(value, keep);
}

function maskUnicode(value: string, keep: number): string {
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
