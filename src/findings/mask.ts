/** Masking: what of an identifier may be shown. At most the last 4 characters (CONTRACT.md). */

const MASK = '•';

/** Every letter or digit but the last `keep` becomes •; separators stay so the shape is recognizable. */
export function maskKeepLast(value: string, keep = 4): string {
  let alnum = 0;
  for (const ch of value) if (/[\p{L}\p{N}]/u.test(ch)) alnum++;
  let seen = 0;
  let out = '';
  for (const ch of value) {
    if (/[\p{L}\p{N}]/u.test(ch)) {
      seen++;
      out += seen > alnum - keep ? ch : MASK;
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
