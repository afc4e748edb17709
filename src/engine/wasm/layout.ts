/**
 * The WebAssembly prescan's memory layout and hashing constants: the one source of both sides.
 * prescan.ts imports it; `npm run wasm` (scripts/build-wasm.ts) substitutes each `{NAME}` of
 * prescan.wat with the value here before assembling. tests/engine/prescan-layout.test.ts fails
 * when the .wat holds a layout number of its own or the committed binary is stale.
 *
 * Tables at fixed offsets from address 0, written once per engine by prescan.ts:
 *   INFO_AT      per ASCII character, an i16: its class in the shape automaton × 2 (a byte offset
 *                in a row of transitions); entry 128 for every non-ASCII character (class 0)
 *   RESULTS_AT   what the exported functions found (the *_AT fields below it)
 *   ANCHORS_AT   the shape automaton's gate: 16 bytes, per low nibble of an ASCII character the
 *                high nibbles (as bits) whose characters are anchors; then ANCHOR_NIBBLES_AT: 16
 *                bytes, per high nibble 0-7 its bit, 0 for 8-15
 *   BYTE_MASKS_AT 9 i64: per length 0-8, the mask of that many low bytes
 *   WORDS_AT     WORD_SLOTS slots of (hash + 1, list), open addressing from slotOf(hash): the
 *                hashes of keywords' first words, and which list of keywords starts with it
 *   BUCKETS_AT   BUCKETS i16, by bucket (bucketOf): the list of keywords whose first word hashes
 *                there, 0 for none, SHARED_BUCKET when two lists share it (the slots tell them apart)
 *   MAP_AT       per UTF-16 code unit, what normalization makes of it (0: dropped)
 *   LISTS_AT     per list of keywords, LIST_BYTES bytes (the LIST_* fields)
 *   then         programs, the automaton, the word hits and the text (placed by prescan.ts)
 */
export const PRESCAN_LAYOUT = (() => {
  const WORD_SLOTS = 4096;
  const BUCKETS = 65536;
  const WORDS_AT = 1024;
  const BUCKETS_AT = WORDS_AT + 8 * WORD_SLOTS;
  const MAP_AT = BUCKETS_AT + 2 * BUCKETS;
  const LISTS_AT = MAP_AT + 2 * 65536;
  const LIST_BYTES = 64;
  const RESULTS_AT = 512;
  return {
    INFO_AT: 0,
    RESULTS_AT,
    /** i64: the shapes seen (bit per shape). */
    SHAPES_SEEN_AT: RESULTS_AT,
    /** i32: 1 when normalize changed the text. */
    TEXT_CHANGED_AT: RESULTS_AT + 8,
    /** i32: words written that are (or may be) more than a negative label. */
    POSITIVE_WORDS_AT: RESULTS_AT + 12,
    /** i32: words written. */
    WORDS_WRITTEN_AT: RESULTS_AT + 16,
    /** i32: where the first word left out starts (the text's length when none was). */
    RESUME_AT: RESULTS_AT + 20,
    /** i32: what $confirm found: the keyword's id, and 1 when it is more than a negative label. */
    CONFIRMED_ID_AT: RESULTS_AT + 24,
    CONFIRMED_POSITIVE_AT: RESULTS_AT + 28,
    /** i32: marker bits of the lists the text's words hashed to. */
    MARKERS_SEEN_AT: RESULTS_AT + 32,
    /** i32: the one non-ASCII space normalization leaves (a separator between keyword words). */
    KEPT_SPACE_AT: RESULTS_AT + 36,
    ANCHORS_AT: 576,
    ANCHOR_NIBBLES_AT: 592,
    BYTE_MASKS_AT: 608,
    WORDS_AT,
    /** The list of a word slot (after its hash + 1). */
    WORD_LIST_AT: WORDS_AT + 4,
    WORD_SLOTS,
    WORD_SLOT_MASK: WORD_SLOTS - 1,
    /** slotOf: the top bits of hash × HASH_LOW_MULTIPLIER, as many as WORD_SLOTS needs. */
    WORD_SLOT_SHIFT: 32 - Math.log2(WORD_SLOTS),
    BUCKETS_AT,
    BUCKETS,
    SHARED_BUCKET: 0xffff,
    /** The bucket of a 32-bit word hash (before the shift by 2 that makes a 30-bit key). */
    BUCKET_SHIFT: 32 - Math.log2(BUCKETS),
    MAP_AT,
    LISTS_AT,
    LIST_BYTES,
    /** Offsets in a list entry: i32 1 when a keyword of it is a whole word; 128 bits: ASCII characters that may follow its first word at once; 128 bits: after separators. */
    LIST_WHOLE_WORD: 0,
    LIST_FOLLOWS: 4,
    LIST_FOLLOWS_SEPARATED: 20,
    /** i32 1 when a keyword of it is more than a negative label; i32 where its program is (0: JavaScript confirms); i32 marker bits. */
    LIST_POSITIVE: 36,
    LIST_PROGRAM: 40,
    LIST_MARKERS: 44,
    /** A list of one keyword of one word of at most eight characters: i64 its characters, i32 its length, i32 its id. */
    LIST_FAST_WORD: 48,
    LIST_FAST_LENGTH: 56,
    LIST_FAST_ID: 60,
    /** The same fields as absolute offsets of the first list (the .wat adds the list's entry offset). */
    LISTS_POSITIVE_AT: LISTS_AT + 36,
    LISTS_PROGRAM_AT: LISTS_AT + 40,
    LISTS_MARKERS_AT: LISTS_AT + 44,
    LISTS_FAST_WORD_AT: LISTS_AT + 48,
    LISTS_FAST_LENGTH_AT: LISTS_AT + 56,
    LISTS_FAST_ID_AT: LISTS_AT + 60,
    /** A program record: i32 id, i32 positive, i32 n, then n bytes. */
    PROGRAM_POSITIVE: 4,
    PROGRAM_LENGTH: 8,
    PROGRAM_HEAD_BYTES: 12,
    /** A word hit: i32 start, i32 code, i32 end. */
    HIT_BYTES: 12,
    HIT_CODE: 4,
    HIT_END: 8,
    /** keywords.ts's mixWord and slotOf. */
    HASH_LOW_MULTIPLIER: 0x9e3779b1,
    HASH_HIGH_MULTIPLIER: 0x85ebca6b,
  } as const;
})();

export type PrescanLayoutName = keyof typeof PRESCAN_LAYOUT;

/** `{NAME}` in prescan.wat → its value (hex above 2^31: an unsigned i32 constant). */
export function substituteLayout(wat: string, layout: Readonly<Record<PrescanLayoutName, number>> = PRESCAN_LAYOUT): string {
  return wat.replace(/\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    if (!Object.hasOwn(layout, name)) throw new Error(`prescan.wat: {${name}} is not in the layout (src/engine/wasm/layout.ts)`);
    const value = layout[name as PrescanLayoutName];
    return value > 0x7fffffff ? `0x${value.toString(16)}` : String(value);
  });
}
