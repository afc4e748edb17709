/** An error's message, cut to one line; parser errors describe structure, never content. */
export function safeReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // Parser errors describe structure, but may quote a header; tokens with digits are masked.
  return (text.split('\n')[0] ?? 'unknown error').slice(0, 200).replace(/[\p{L}\p{N}._-]*\p{N}[\p{L}\p{N}._-]*/gu, (t) => (t.length > 4 ? '…' : t));
}
