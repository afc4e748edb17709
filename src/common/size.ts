/** Sizes as people write them (`50MB`, `512KiB`): settings and flags read them alike. */
/** `50MB`, `512k`, `1048576` → bytes; undefined when it is not a size of at least 1KB. */
export function sizeInBytes(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(m[1]) * factor);
  return bytes < 1024 ? undefined : bytes;
}
