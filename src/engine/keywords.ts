/**
 * All keywords of all rules (context words, weak words, negative labels, dictionary terms),
 * found in one pass per segment; each hit is then handed to the rules that own it.
 *
 * One regex alternation of ~900 keywords ran at 10 MB/s in V8 (too large to compile natively,
 * and tried at every position). Instead a tight loop walks the words of the text, hashes each
 * one without allocating, and only where a hash is the first word of some keyword does a small
 * sticky regex confirm the whole keyword (spaces, punctuation, boundaries) at that position.
 */
import type { Rule } from '../rules/compile.js';
import { wordSource } from '../rules/compile.js';
import { PRESCAN_LAYOUT } from './wasm/layout.js';

const { HASH_LOW_MULTIPLIER, HASH_HIGH_MULTIPLIER, BUCKET_SHIFT, WORD_SLOT_SHIFT } = PRESCAN_LAYOUT;

export type KeywordKind = 'strong' | 'weak' | 'negative' | 'term';

export interface KeywordHit {
  readonly start: number;
  readonly end: number;
  /** Canonical form of what matched. */
  readonly word: string;
}

/**
 * Keyword hits as parallel arrays: no object a hit, since most hits of a mailbox are negative
 * labels (`call`, `fax`) that no candidate ever asks about.
 */
export interface HitList {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Canonical form of what matched. */
  readonly words: readonly string[];
  /** Which hits (indices, in order) are more than a negative label: the few a candidate search reads. */
  readonly positives: readonly number[];
}

export function hitList(hits: readonly KeywordHit[], index: KeywordIndex): HitList {
  const positives: number[] = [];
  hits.forEach((h, i) => {
    if (index.positive.has(h.word)) positives.push(i);
  });
  return { starts: hits.map((h) => h.start), ends: hits.map((h) => h.end), words: hits.map((h) => h.word), positives };
}

export interface Candidate {
  readonly word: string;
  /** Sticky, case-insensitive: does the whole keyword start exactly here? */
  readonly verify: RegExp;
  /** The keyword is these words of letters and digits (one, for a glued form): matched without the regex. */
  readonly parts?: readonly string[];
  /**
   * Otherwise: where its first word ends, and the character the keyword has there (`.` in
   * `s.s.n.`); for a space (written `[\s_-]{0,3}`), -1 and the character after the space.
   */
  readonly firstEnd?: number;
  readonly follow?: number;
  readonly followSpace?: number;
}

export interface KeywordIndex {
  /** Hash of a keyword's first word (lower case letters and digits) → keywords starting with it, longest first. */
  readonly byFirstWord: ReadonlyMap<number, readonly Candidate[]>;
  /** One bit a hash bucket: most words of a text are no keyword's first word and skip the map. */
  readonly buckets: Uint8Array;
  /**
   * Canonical word → which rule lists contain it or a whole-word part of it: one entry per rule
   * and kind, named by the longest of that rule's words it contains.
   */
  readonly owners: ReadonlyMap<string, readonly { rule: number; kind: KeywordKind; word: string }[]>;
  /** The canonical words that are more than a negative label to some rule (a context word or a term). */
  readonly positive: ReadonlySet<string>;
  /** The positive words of rules that gate (`Rule.gate`): only these make an item worth reading. */
  readonly gating: ReadonlySet<string>;
  /** Canonical word → per rule (by index), the negative label of that rule it is, if any. */
  readonly negativeOf: ReadonlyMap<string, readonly (string | undefined)[]>;
}

/**
 * The keywords `outer` contains as whole words (`social security number` ⊇ `social security`,
 * `security`, itself): every run of its space-separated words. A keyword ` inner ` found in
 * ` outer ` starts and ends at spaces, so it is exactly such a run.
 */
function wordRuns(outer: string): Set<string> {
  const words = outer.split(' ');
  const runs = new Set<string>();
  for (let i = 0; i < words.length; i++) for (let j = i + 1; j <= words.length; j++) runs.add(words.slice(i, j).join(' '));
  return runs;
}


/** ASCII letters and digits, the characters a word is made of, upper case folded to lower; -1 otherwise. */
const FOLD = new Int16Array(128).fill(-1);
for (let c = 48; c <= 57; c++) FOLD[c] = c;
for (let c = 97; c <= 122; c++) FOLD[c] = c;
for (let c = 65; c <= 90; c++) FOLD[c] = c + 32;

function foldedCode(c: number): number {
  return c < 128 ? (FOLD[c] as number) : -1;
}

const BUCKETS = 65536;

/**
 * A word's hash from its first eight characters (lower case, one byte each: `low` holds
 * characters 0-3, `high` 4-7) and its length: the prescan reads those eight at once
 * (wasm/prescan.wat), not one by one. Longer words that share them and their length share a
 * hash; keywordIn tells them apart. 30 bits, so map keys stay small integers (V8 Smis).
 */
export function mixWord(low: number, high: number, length: number): number {
  return (Math.imul(low, HASH_LOW_MULTIPLIER) ^ Math.imul(high ^ length, HASH_HIGH_MULTIPLIER)) >>> 2;
}

/** The hash of a word of lower-case letters and digits (see `mixWord`). */
export function hashWord(word: string): number {
  let low = 0;
  let high = 0;
  for (let i = 0; i < word.length && i < 8; i++) {
    if (i < 4) low |= word.charCodeAt(i) << (8 * i);
    else high |= word.charCodeAt(i) << (8 * (i - 4));
  }
  return mixWord(low, high, word.length);
}

/** A hash's bucket: its top 16 bits, where the multiplies of `mixWord` have mixed every character. */
export function bucketOf(key: number): number {
  return key >>> (BUCKET_SHIFT - 2); // the key is the 32-bit hash shifted by 2
}

/** A hash's first slot in the prescan's table of WORD_SLOTS (see wasm/layout.ts). */
export function slotOf(key: number): number {
  return Math.imul(key, HASH_LOW_MULTIPLIER) >>> WORD_SLOT_SHIFT;
}

export function buildKeywordIndex(rules: readonly Rule[]): KeywordIndex {
  const lists: { rule: number; kind: KeywordKind; words: ReadonlySet<string> }[] = [];
  rules.forEach((r, i) => {
    if (r.context) lists.push({ rule: i, kind: 'strong', words: r.context.strong }, { rule: i, kind: 'weak', words: r.context.weak });
    if (r.negative) lists.push({ rule: i, kind: 'negative', words: r.negative.words });
    if (r.dictionary) lists.push({ rule: i, kind: 'term', words: r.dictionary.terms });
  });
  const all = new Set<string>();
  for (const l of lists) for (const w of l.words) all.add(w);

  const byFirstWord = new Map<number, Candidate[]>();
  const buckets = new Uint8Array(BUCKETS);
  const add = (first: string, candidate: Candidate): void => {
    const h = hashWord(first);
    buckets[bucketOf(h)] = 1;
    const list = byFirstWord.get(h) ?? [];
    list.push(candidate);
    byFirstWord.set(h, list);
  };
  for (const word of all) {
    const first = /^[a-z0-9]+/.exec(word)?.[0];
    if (!first) continue; // keywords start with a letter or digit (checked by the rule tests)
    const verify = new RegExp(wordSource(word), 'iy');
    const words = /^[a-z0-9]+(?: [a-z0-9]+)+$/.test(word);
    const follow = word.charCodeAt(first.length);
    const after = follow === 32 ? { follow: -1, followSpace: word.charCodeAt(first.length + 1) } : { follow };
    add(first, { word, verify, ...(words || word === first ? { parts: word.split(' ') } : { firstEnd: first.length, ...after }) });
    // Written glued (`SocialSecurity`, `MemberID`): the text's word is the words run together.
    if (words) add(word.replace(/ /g, ''), { word, verify, parts: [word.replace(/ /g, '')] });
  }
  for (const list of byFirstWord.values()) list.sort((a, b) => b.word.length - a.word.length);

  // A hit on a long keyword also belongs to the rules listing a shorter keyword inside it
  // (a rule listing `social security` owns a hit on `social security number`).
  // Looked up by word rather than compared pairwise: every keyword against every list's words
  // was a million string comparisons, a third of a second each time an engine is made.
  const listsOf = new Map<string, { list: number; at: number }[]>();
  lists.forEach((l, list) => {
    let at = 0;
    for (const v of l.words) listsOf.set(v, [...(listsOf.get(v) ?? []), { list, at: at++ }]);
  });
  const owners = new Map<string, { rule: number; kind: KeywordKind; word: string }[]>();
  for (const w of all) {
    const longest = new Map<string, { rule: number; kind: KeywordKind; word: string }>();
    const inside: { list: number; at: number; word: string }[] = [];
    for (const run of wordRuns(w)) for (const where of listsOf.get(run) ?? []) inside.push({ ...where, word: run });
    // In list order, and each list's words in its own order, as a pairwise walk meets them.
    inside.sort((a, b) => a.list - b.list || a.at - b.at);
    for (const { list, word: v } of inside) {
      const l = lists[list] as (typeof lists)[number];
      const key = `${l.rule}:${l.kind}`;
      const current = longest.get(key);
      if (!current || v.length > current.word.length) longest.set(key, { rule: l.rule, kind: l.kind, word: v });
    }
    owners.set(w, [...longest.values()]);
  }
  const positive = new Set([...owners].filter(([, os]) => os.some((o) => o.kind !== 'negative')).map(([w]) => w));
  const gating = new Set([...owners].filter(([, os]) => os.some((o) => o.kind !== 'negative' && (rules[o.rule] as Rule).gate)).map(([w]) => w));
  const negativeOf = new Map<string, (string | undefined)[]>();
  for (const [w, os] of owners) {
    const byRule = new Array<string | undefined>(rules.length);
    for (const o of os) if (o.kind === 'negative') byRule[o.rule] = o.word;
    if (os.some((o) => o.kind === 'negative')) negativeOf.set(w, byRule);
  }
  return { byFirstWord, buckets, owners, positive, gating, negativeOf };
}

/**
 * What `wordSource`'s regex does for a keyword of letters and digits, by hand: each word in any
 * case, up to three separators between them, a boundary after the last. Returns the end, or -1.
 */
function wordsAt(text: string, start: number, parts: readonly string[]): number {
  let pos = start;
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) {
      let separators = 0;
      while (separators < 3 && maybeSeparator(text.charCodeAt(pos))) {
        pos++;
        separators++;
      }
    }
    const part = parts[p] as string;
    if (pos + part.length > text.length) return -1;
    for (let i = 0; i < part.length; i++) if (foldedCode(text.charCodeAt(pos + i)) !== part.charCodeAt(i)) return -1;
    pos += part.length;
  }
  return pos === text.length || foldedCode(text.charCodeAt(pos)) < 0 ? pos : -1;
}

/** Could this character separate the words of a keyword (`[\s_-]`, as in `wordSource`)? */
function maybeSeparator(c: number): boolean {
  if (c === 32 || c === 95 || c === 45 || (c >= 9 && c <= 13)) return true;
  return c >= 128 && /\s/.test(String.fromCharCode(c));
}

/** The longest keyword starting at `start`, where a word with hash `key` starts (see `hashWord`); undefined when none does. */
function keywordAt(index: KeywordIndex, text: string, start: number, key: number): KeywordHit | undefined {
  const candidates = index.byFirstWord.get(key);
  return candidates ? keywordIn(candidates, text, start) : undefined;
}

/** The longest of these keywords (all starting with the word at `start`, longest first) found at `start`. */
export function keywordIn(candidates: readonly Candidate[], text: string, start: number): KeywordHit | undefined {
  for (const cand of candidates) {
    // The regex's answer, found without it where that is cheap: `start` is a word's start.
    if (cand.parts !== undefined) {
      const end = wordsAt(text, start, cand.parts);
      if (end >= 0) return { start, end, word: cand.word };
      continue;
    }
    if (cand.firstEnd !== undefined) {
      // The regex only where the character after the first word is the keyword's (most `s` in a text are `'s`).
      const after = text.charCodeAt(start + cand.firstEnd);
      if (cand.follow === -1 ? !maybeSeparator(after) && after !== cand.followSpace : after !== cand.follow) continue;
    }
    cand.verify.lastIndex = start;
    const m = cand.verify.exec(text);
    // What matched is this keyword, whatever its spacing or case.
    if (m) return { start, end: start + m[0].length, word: cand.word };
  }
  return undefined;
}

/** All keyword hits of a text, in order, none overlapping (the JavaScript walk; engine/prescan.ts has the fast one). */
export function findKeywords(index: KeywordIndex, text: string): KeywordHit[] {
  const hits: KeywordHit[] = [];
  const buckets = index.buckets;
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip to the start of a word (a letter or digit after something that is not one).
    const c = foldedCode(text.charCodeAt(i));
    if (c < 0) {
      i++;
      continue;
    }
    const start = i;
    let low = 0;
    let high = 0;
    let f = c;
    while (f >= 0) {
      const k = i - start;
      if (k < 4) low |= f << (8 * k);
      else if (k < 8) high |= f << (8 * (k - 4));
      i++;
      f = i < n ? foldedCode(text.charCodeAt(i)) : -1;
    }
    const key = mixWord(low, high, i - start);
    if (buckets[bucketOf(key)] === 0) continue;
    const hit = keywordAt(index, text, start, key);
    if (hit) {
      hits.push(hit);
      i = Math.max(i, hit.end); // like a regex scan: continue after the longest keyword found here
    }
  }
  return hits;
}
