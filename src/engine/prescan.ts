/**
 * The engine's first look at a segment, in one WebAssembly pass per step (wasm/prescan.wat):
 * normalization (normalize.ts), which pattern shapes occur (shapes.ts), and the keywords
 * (keywords.ts): those of letters and digits are confirmed there, those with punctuation
 * (`s.s.n.`, `group #`) by JavaScript at the words where they may start. The engine then runs
 * only the patterns whose shape occurs, and nothing at all where only negative labels are.
 *
 * Each engine has its own instance and memory: nothing is shared between engines, threads or
 * queue workers. Where WebAssembly is unavailable (node --jitless), the same results come from
 * the JavaScript functions, slower.
 */
import { bucketOf, findKeywords, hashWord, hitList, keywordIn, slotOf, type Candidate, type HitList, type KeywordHit, type KeywordIndex } from './keywords.js';
import { DISCLAIMER_TRIGGERS } from './text.js';
import { normalizeText, replacement, SPECIAL } from './normalize.js';
import { shapesIn, type ShapeAutomaton } from './shapes.js';
import { PRESCAN_LAYOUT } from './wasm/layout.js';
import { PRESCAN_WASM } from './wasm/prescan-binary.js';

export interface Prescan {
  /** The normalized text (the same string when nothing changed). */
  readonly text: string;
  /** Keyword hits in `text`, in order, none overlapping: what `findKeywords` returns. */
  readonly hits: KeywordHit[];
  /** The same hits, as arrays (what the engine reads). */
  readonly keywords: HitList;
  /**
   * False when no keyword but negative labels and words of rules that do not gate (`Name:`,
   * `Mr.`, `Re:`) can be in `text` (most items of a mailbox hold `call`, `price`, `fax`, and no
   * context word): then no rule that could report has a label, a nearby keyword or a dictionary
   * term, and `hits` need not be confirmed at all.
   */
  readonly maybePositive: boolean;
  /** Did any shape occur? */
  readonly anyShape: boolean;
  /** False when none of the words a disclaimer needs is in `text` (see DISCLAIMER_TRIGGERS). */
  readonly maybeDisclaimer: boolean;
  /** Did the shape with this bit (see ShapeAutomaton.included) occur? */
  hasShape(bit: number): boolean;
}

/** Why the WebAssembly pass could not be used and the JavaScript one runs instead (same answers, slower). */
export type PrescanFallback =
  | 'no-webassembly' // the runtime has none (node --jitless)
  | 'module-failed' // the module did not compile or instantiate
  | 'marker-prefix' // DISCLAIMER_TRIGGERS' prefix is not eight characters long
  | 'too-many-keyword-lists' // more first words of keywords than half the word slots
  | 'long-first-word' // a keyword's first word of 64 characters or more
  | 'unicode-spaces'; // normalization keeps more than one Unicode space

export interface Prescanner {
  scan(text: string): Prescan;
  /** Whether the WebAssembly pass is in use (false: the JavaScript fallback). */
  readonly native: boolean;
  /** Why the JavaScript pass runs though it was not asked for; undefined when it was, or when WebAssembly runs. */
  readonly fallback?: PrescanFallback;
  /** Bytes of WebAssembly memory held now (0 for the fallback). */
  memoryBytes(): number;
}

/** The part of the WebAssembly API used here (the ES lib this project compiles against has no types for it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

interface Exports {
  readonly memory: WasmMemory;
  normalize(text: number, n: number): number;
  shapes(text: number, n: number, transitions: number, classCount: number, accept: number, gated: number, reach: number, digitReach: number): void;
  words(text: number, from: number, n: number, hits: number, cap: number, digitWords: number): void;
}

// Memory layout (bytes, wasm/layout.ts, the table prescan.wat is assembled with): the tables at
// fixed offsets, then the automaton and the word hits, then the text, last so it can grow with
// the memory.
const L = PRESCAN_LAYOUT;
const { INFO_AT, ANCHORS_AT, ANCHOR_NIBBLES_AT, BYTE_MASKS_AT, WORDS_AT, WORD_SLOTS, BUCKETS_AT, SHARED_BUCKET, MAP_AT, LISTS_AT, LIST_BYTES } = L;
const PROGRAMS_AT = LISTS_AT + LIST_BYTES * (WORD_SLOTS / 2);
/** An i32 result of prescan.wat, read through an Int32Array of the memory. */
const i32 = (at: number): number => at >> 2;
/** Word hits handed over per call; a text with more goes on from where the call stopped. */
const HIT_CAP = 8192;
const PAGE = 65536;
/** Zeros after the text: the SIMD loops read up to 128 characters past where they stop. */
const PADDING = 320;
/** A memory grown past this for one huge text (a 20 M-character attachment) is given back after it. */
const KEEP_TEXT_BYTES = 32 * 1024 * 1024;

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/** Each code unit ≥ 128 → what normalization makes of it (0: dropped). */
function normalizationMap(): Uint16Array {
  const map = new Uint16Array(65536);
  for (let c = 128; c < 65536; c++) {
    const ch = String.fromCharCode(c);
    SPECIAL.lastIndex = 0;
    map[c] = SPECIAL.test(ch) ? (replacement(ch).charCodeAt(0) || 0) : c;
  }
  SPECIAL.lastIndex = 0;
  return map;
}

class Prescanned implements Prescan {
  private confirmed: HitList | undefined;

  constructor(
    readonly text: string,
    private readonly confirm: () => HitList,
    readonly maybePositive: boolean,
    private readonly low: number,
    private readonly high: number,
    readonly maybeDisclaimer = true,
  ) {}

  /** Confirmed when first asked for. */
  get keywords(): HitList {
    this.confirmed ??= this.confirm();
    return this.confirmed;
  }

  get hits(): KeywordHit[] {
    const { starts, ends, words } = this.keywords;
    return words.map((word, i) => ({ start: starts[i] as number, end: ends[i] as number, word }));
  }

  get anyShape(): boolean {
    return (this.low | this.high) !== 0;
  }

  hasShape(bit: number): boolean {
    return bit < 32 ? ((this.low >>> bit) & 1) === 1 : ((this.high >>> (bit - 32)) & 1) === 1;
  }
}

const DISCLAIMER_MARKER = 1;

/**
 * The hashes (keywords.ts) of the words disclaimerSpans needs one of: its words, and every
 * length of a word starting with its prefix (a word is hashed by its first eight characters and
 * its length; longer words than the prescan hashes set every marker). Undefined when the
 * prefix is not eight characters long.
 */
function disclaimerKeys(): number[] | undefined {
  const { words, prefix } = DISCLAIMER_TRIGGERS;
  if (prefix.length !== 8) return undefined;
  const keys = words.map(hashWord);
  // Any word of this length that starts with the prefix has the hash of this one.
  for (let length = 9; length < 64; length++) keys.push(hashWord(prefix.padEnd(length, 'x')));
  return keys;
}

/** The same answers without WebAssembly. */
function javascriptPrescanner(index: KeywordIndex, automaton: ShapeAutomaton, fallback?: PrescanFallback): Prescanner {
  return {
    native: false,
    ...(fallback ? { fallback } : {}),
    memoryBytes: () => 0,
    scan(input: string): Prescan {
      const text = normalizeText(input);
      const mask = shapesIn(automaton, text);
      const low = Number(mask & 0xffffffffn);
      const high = Number(mask >> 32n);
      const hits = findKeywords(index, text);
      return new Prescanned(text, () => hitList(hits, index), hits.some((h) => index.gating.has(h.word)), low, high);
    },
  };
}

/**
 * What may come after a list's first word for one of its keywords to match (prescan.wat's
 * `follows`, a necessary condition of what keywordIn checks): a whole-word keyword takes
 * anything; `date of birth` needs separators then `o`; `s.s.n.` needs `.` at once; `id #`
 * needs `#` at once or after separators.
 */
function writeFollowers(memory: Buffer, at: number, candidates: readonly Candidate[]): void {
  const set = (offset: number, code: number): void => {
    const codes = code >= 97 && code <= 122 ? [code, code - 32] : code >= 65 && code <= 90 ? [code, code + 32] : [code];
    for (const c of codes) if (c < 128) memory[at + offset + (c >> 3)] = (memory[at + offset + (c >> 3)] as number) | (1 << (c & 7));
  };
  for (const cand of candidates) {
    if (cand.parts?.length === 1) memory.writeUInt32LE(1, at + L.LIST_WHOLE_WORD);
    else if (cand.parts !== undefined) set(L.LIST_FOLLOWS_SEPARATED, (cand.parts[1] as string).charCodeAt(0));
    else if (cand.follow === -1) {
      set(L.LIST_FOLLOWS, cand.followSpace as number);
      set(L.LIST_FOLLOWS_SEPARATED, cand.followSpace as number);
    } else if (cand.follow !== undefined) set(L.LIST_FOLLOWS, cand.follow);
    else memory.writeUInt32LE(1, at + L.LIST_WHOLE_WORD); // not described: anything may follow
  }
}

export function createPrescanner(index: KeywordIndex, automaton: ShapeAutomaton, options: { javascript?: boolean } = {}): Prescanner {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (options.javascript) return javascriptPrescanner(index, automaton);
  if (!wasm) return javascriptPrescanner(index, automaton, 'no-webassembly');
  let module: object;
  let exports: Exports;
  try {
    module = new wasm.Module(Buffer.from(PRESCAN_WASM, 'base64'));
    exports = new wasm.Instance(module, {}).exports as Exports;
  } catch {
    return javascriptPrescanner(index, automaton, 'module-failed');
  }
  // Keywords of letters and digits, by list, as the programs prescan.wat confirms them with.
  // The words the engine asks about without keywords (disclaimers'), as marker bits of lists.
  const markerKeys = disclaimerKeys();
  if (!markerKeys) return javascriptPrescanner(index, automaton, 'marker-prefix');
  const entries = new Map<number, { candidates: readonly Candidate[]; markers: number }>();
  for (const [key, candidates] of index.byFirstWord) entries.set(key, { candidates, markers: 0 });
  for (const key of markerKeys) entries.set(key, { candidates: entries.get(key)?.candidates ?? [], markers: DISCLAIMER_MARKER });
  // Words starting with a digit need hashing only if a keyword does (none of ours).
  const digitWords = [...index.byFirstWord.values()].some((cs) => cs.some((c) => /^[0-9]/.test(c.word))) || DISCLAIMER_TRIGGERS.words.some((w) => /^[0-9]/.test(w)) ? 1 : 0;
  const keywords: string[] = [];
  const programs: (Buffer | undefined)[] = [];
  /** By list: its one keyword of one short word, matched by prescan.wat at a glance. */
  const fast = new Map<number, { id: number; word: string }>();
  for (const { candidates } of entries.values()) {
    if (candidates.some((c) => c.parts === undefined)) {
      programs.push(undefined); // punctuation: JavaScript confirms the list
      continue;
    }
    const only = candidates.length === 1 ? candidates[0] : undefined;
    if (only?.parts?.length === 1 && (only.parts[0] as string).length <= 8) fast.set(programs.length, { id: keywords.length, word: only.parts[0] as string });
    const records = candidates.map((c) => {
      const bytes = Buffer.from(`${(c.parts as readonly string[]).join('\u0001')}\u0000`, 'latin1');
      const head = Buffer.alloc(L.PROGRAM_HEAD_BYTES);
      head.writeInt32LE(keywords.push(c.word) - 1, 0);
      head.writeInt32LE(index.gating.has(c.word) ? 1 : 0, L.PROGRAM_POSITIVE);
      head.writeInt32LE(bytes.length, L.PROGRAM_LENGTH);
      return Buffer.concat([head, bytes]);
    });
    programs.push(Buffer.concat([...records, Buffer.from([0xff, 0xff, 0xff, 0xff])]));
  }
  const positiveKeyword = Uint8Array.from(keywords, (w) => (index.positive.has(w) ? 1 : 0));
  const programBytes = programs.reduce((sum, p) => sum + (p?.length ?? 0), 0);
  const acceptAt = align(PROGRAMS_AT + programBytes, 8);
  const states = automaton.acceptLow.length;
  const transitionsAt = acceptAt + 8 * states;
  const hitsAt = align(transitionsAt + 2 * automaton.transitions.length, 8);
  const textAt = align(hitsAt + L.HIT_BYTES * HIT_CAP, 16);

  // Views of the memory, made again only when it grows (growing replaces its buffer).
  let memory = Buffer.from(exports.memory.buffer);
  let words32 = new Int32Array(memory.buffer);
  const ensure = (bytes: number): void => {
    const needed = textAt + bytes + PADDING;
    if (memory.length >= needed) return;
    exports.memory.grow(Math.ceil((needed - memory.length) / PAGE));
    memory = Buffer.from(exports.memory.buffer);
    words32 = new Int32Array(memory.buffer);
  };
  ensure(0);
  // The tables, written once.
  const { classOf, classCount, transitions, acceptLow, acceptHigh } = automaton;
  for (let c = 0; c < 128; c++) memory.writeUInt16LE(2 * (classOf[c] as number), INFO_AT + 2 * c);
  // Every non-ASCII character: class 0 (entry 128 is already 0).
  // The anchors by their two nibbles (prescan.wat's anchorBits): per low nibble, the high ones in the set.
  for (let c = 0; c < 128; c++) if (automaton.anchors[c]) memory[ANCHORS_AT + (c & 15)] = (memory[ANCHORS_AT + (c & 15)] as number) | (1 << (c >> 4));
  for (let high = 0; high < 8; high++) memory[ANCHOR_NIBBLES_AT + high] = 1 << high;
  // Per length 0-8, the mask of that many low bytes (a word's first eight characters).
  for (let length = 0; length <= 8; length++) memory.writeBigUInt64LE((1n << BigInt(8 * length)) - 1n, BYTE_MASKS_AT + 8 * length);
  // Keywords' first words: hash → list, in the open-addressing table prescan.wat probes.
  const lists: (readonly Candidate[])[] = [];
  let programAt = PROGRAMS_AT;
  for (const [key, { candidates, markers }] of entries) {
    if (lists.length >= WORD_SLOTS / 2) return javascriptPrescanner(index, automaton, 'too-many-keyword-lists'); // keep probes short
    // prescan.wat skips words of 64 characters or more
    if (candidates.some((c) => (c.parts?.[0]?.length ?? c.firstEnd ?? 0) >= 64)) return javascriptPrescanner(index, automaton, 'long-first-word');
    lists.push(candidates);
    let slot = slotOf(key);
    while (memory.readUInt32LE(WORDS_AT + 8 * slot) !== 0) slot = (slot + 1) % WORD_SLOTS;
    memory.writeUInt32LE(key + 1, WORDS_AT + 8 * slot);
    memory.writeUInt32LE(lists.length, L.WORD_LIST_AT + 8 * slot);
    const bucket = BUCKETS_AT + 2 * bucketOf(key);
    memory.writeUInt16LE(memory.readUInt16LE(bucket) === 0 ? lists.length : SHARED_BUCKET, bucket);
    const entry = LISTS_AT + LIST_BYTES * (lists.length - 1);
    writeFollowers(memory, entry, candidates);
    if (candidates.some((c) => index.gating.has(c.word))) memory.writeUInt32LE(1, entry + L.LIST_POSITIVE);
    memory.writeUInt32LE(markers, entry + L.LIST_MARKERS);
    const one = fast.get(lists.length - 1);
    if (one) {
      Buffer.from(one.word, 'latin1').copy(memory, entry + L.LIST_FAST_WORD);
      memory.writeUInt32LE(one.word.length, entry + L.LIST_FAST_LENGTH);
      memory.writeUInt32LE(one.id, entry + L.LIST_FAST_ID);
    }
    const program = programs[lists.length - 1];
    if (program) {
      memory.writeUInt32LE(programAt, entry + L.LIST_PROGRAM);
      program.copy(memory, programAt);
      programAt += program.length;
    }
  }
  const map = normalizationMap();
  Buffer.from(map.buffer).copy(memory, MAP_AT);
  // The Unicode spaces normalization leaves as they are: keywords' words may be separated by
  // them (keywords.ts's maybeSeparator), which prescan.wat checks against the one it is given.
  const keptSpaces: number[] = [];
  for (let c = 128; c < 65536; c++) if (map[c] === c && /\s/.test(String.fromCharCode(c))) keptSpaces.push(c);
  if (keptSpaces.length > 1) return javascriptPrescanner(index, automaton, 'unicode-spaces');
  memory.writeUInt32LE(keptSpaces[0] ?? 0x10000, L.KEPT_SPACE_AT); // 0x10000: no character
  for (let s = 0; s < states; s++) {
    memory.writeUInt32LE(acceptLow[s] as number, acceptAt + 8 * s);
    memory.writeUInt32LE(acceptHigh[s] as number, acceptAt + 8 * s + 4);
  }
  // Each transition as where the next state's row starts (state × classes × 2 bytes, below
  // 65,536: shapes.ts), plus 1 when it completes shapes.
  for (let t = 0; t < transitions.length; t++) {
    const next = transitions[t] as number;
    const completes = acceptLow[next] !== 0 || acceptHigh[next] !== 0 ? 1 : 0;
    memory.writeUInt16LE(next * classCount * 2 + completes, transitionsAt + 2 * t);
  }

  /** A fresh instance with the same tables: WebAssembly memory cannot shrink, so it is replaced. */
  const shrink = (): void => {
    const tables = Buffer.from(memory.subarray(0, textAt));
    exports = new wasm.Instance(module, {}).exports as Exports;
    memory = Buffer.from(exports.memory.buffer);
    words32 = new Int32Array(memory.buffer);
    ensure(0);
    tables.copy(memory, 0);
  };

  let scans = 0;
  /** The keywords at the words the last `words` call wrote (and the calls after it, when it was full). */
  const confirmHits = (text: string, n: number): HitList => {
    const starts: number[] = [];
    const ends: number[] = [];
    const found: string[] = [];
    const positives: number[] = [];
    let lastEnd = 0;
    for (;;) {
      const count = words32[i32(L.WORDS_WRITTEN_AT)] as number;
      for (let k = 0, at = i32(hitsAt); k < count; k++, at += L.HIT_BYTES >> 2) {
        const start = words32[at] as number;
        if (start < lastEnd) continue; // inside the keyword just found, as the JavaScript walk skips it
        const code = words32[at + (L.HIT_CODE >> 2)] as number;
        // < 0: found by prescan.wat; > 0: a list with punctuation for keywordIn
        if (code < 0) {
          lastEnd = words32[at + (L.HIT_END >> 2)] as number;
          if (positiveKeyword[-1 - code] === 1) positives.push(found.length);
          starts.push(start);
          ends.push(lastEnd);
          found.push(keywords[-1 - code] as string);
        } else {
          const hit = keywordIn(lists[code - 1] as readonly Candidate[], text, start);
          if (!hit) continue;
          lastEnd = hit.end;
          if (index.positive.has(hit.word)) positives.push(found.length);
          starts.push(start);
          ends.push(hit.end);
          found.push(hit.word);
        }
      }
      const resume = words32[i32(L.RESUME_AT)] as number;
      if (resume >= n) return { starts, ends, words: found, positives };
      exports.words(textAt, resume, n, hitsAt, HIT_CAP, digitWords);
    }
  };

  return {
    native: true,
    memoryBytes: () => memory.length,
    scan(input: string): Prescan {
      let n = input.length;
      ensure(2 * n);
      memory.write(input, textAt, 'utf16le');
      memory.fill(0, textAt + 2 * n, textAt + 2 * n + PADDING);
      let text = input;
      n = exports.normalize(textAt, n);
      // Dashes, spaces, zero-width characters normalized: the text the patterns see changed too.
      if (words32[i32(L.TEXT_CHANGED_AT)] === 1) {
        text = memory.toString('utf16le', textAt, textAt + 2 * n);
        memory.fill(0, textAt + 2 * n, textAt + 2 * n + PADDING);
      }
      exports.shapes(textAt, n, transitionsAt, classCount, acceptAt, automaton.gated ? 1 : 0, automaton.reach, automaton.digitReach);
      exports.words(textAt, 0, n, hitsAt, HIT_CAP, digitWords);
      const low = (words32[i32(L.SHAPES_SEEN_AT)] as number) >>> 0;
      const high = (words32[i32(L.SHAPES_SEEN_AT) + 1] as number) >>> 0;
      const complete = (words32[i32(L.RESUME_AT)] as number) >= n;
      const maybePositive = !complete || (words32[i32(L.POSITIVE_WORDS_AT)] as number) > 0;
      const maybeDisclaimer = !complete || ((words32[i32(L.MARKERS_SEEN_AT)] as number) & DISCLAIMER_MARKER) !== 0;
      const scan = ++scans;
      // The word hits stay in memory until the next scan; asked for later, they are found again.
      const confirm = (): HitList => (scan === scans ? confirmHits(text, n) : hitList(findKeywords(index, text), index));
      if (memory.length > textAt + KEEP_TEXT_BYTES) {
        const hits = confirmHits(text, n);
        shrink();
        return new Prescanned(text, () => hits, maybePositive, low, high, maybeDisclaimer);
      }
      return new Prescanned(text, confirm, maybePositive, low, high, maybeDisclaimer);
    },
  };
}
