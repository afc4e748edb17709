/**
 * Tokens with a digit longer than 4 characters (`512-84-3921`, `abc12345`), and runs of numbers
 * split by spaces or punctuation that together hold more than 4 digits (`512 84 3921`,
 * full-width digits, a zero-width space inside): what an identifier quoted by a parser can look like.
 */
const TOKEN = /[\p{L}\p{N}._-]*\p{N}[\p{L}\p{N}._-]*/gu;
const RUN = /[\p{L}\p{N}]*\p{N}[\p{L}\p{N}]*(?:[^\p{L}\p{N}\n]{1,2}[\p{L}\p{N}]*\p{N}[\p{L}\p{N}]*)*/gu;
const DIGIT = /\p{N}/gu;

/** An error's message, cut to one line; parser errors describe structure, never content. */
export function safeReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // Parser errors describe structure, but may quote a header; numbers that could be an identifier are masked.
  return (text.split('\n')[0] ?? 'unknown error')
    .slice(0, 200)
    .replace(TOKEN, (t) => (t.length > 4 ? '…' : t))
    .replace(RUN, (run) => ((run.match(DIGIT)?.length ?? 0) > 4 ? '…' : run));
}
