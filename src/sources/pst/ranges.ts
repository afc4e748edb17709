/**
 * A large PST as several units (sources/pst.ts): like an mbox's byte ranges, each unit holds a
 * range [start, end) of the file's nominal bytes. readpst cannot expand part of a file, so the
 * items of the whole expansion are laid out over the file's size in proportion to their own
 * expanded sizes (item i sits at nominal position size × bytes before it / all bytes), and a
 * range holds the items whose position falls in it. The layout depends only on the expansion,
 * which is the same for an unchanged file on every machine, so the ranges of one listing
 * partition the items exactly: each item is read by one unit, in the order of a one-piece read.
 */

/** The ranges of a file of `size` bytes cut every `bytes` (one range, no cut, when it fits or `bytes` is 0). */
export function pstRanges(size: number, bytes: number): { start: number; end?: number }[] {
  if (bytes <= 0 || size <= bytes) return [{ start: 0 }];
  const out: { start: number; end?: number }[] = [];
  for (let start = 0; start < size; start += bytes) out.push(start + bytes < size ? { start, end: start + bytes } : { start });
  return out;
}

/**
 * The indexes [from, to) of the items (given their expanded sizes, in listing order) that range
 * [start, end) of a file of `fileSize` bytes holds. Exact integer arithmetic: every process
 * cuts at the same item. Items of size 0 (and an all-empty expansion) are laid out by count.
 */
export function itemsInRange(sizes: readonly number[], fileSize: number, range: { start: number; end?: number }): { from: number; to: number } {
  const n = sizes.length;
  const total = sizes.reduce((a, b) => a + b, 0);
  const weight = (i: number): bigint => BigInt(total > 0 ? (sizes[i] ?? 0) : 1);
  const all = BigInt(total > 0 ? total : n);
  const size = BigInt(Math.max(1, fileSize));
  let before = 0n;
  let from = n;
  let to = n;
  for (let i = 0; i < n; i++) {
    // floor(size × before / all): non-decreasing in i, so the held items are contiguous.
    const position = all === 0n ? 0n : (size * before) / all;
    if (from === n && position >= BigInt(range.start)) from = i;
    if (range.end !== undefined && position >= BigInt(range.end)) {
      to = i;
      break;
    }
    before += weight(i);
  }
  return { from, to: Math.max(from, to) };
}
