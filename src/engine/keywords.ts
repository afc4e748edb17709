/**
 * All keywords of all rules (context words, weak words, negative labels, dictionary terms) in
 * one regex, matched in one pass per segment; each hit is then handed to the rules that own it.
 */
import type { Rule } from '../rules/compile.js';
import { canonicalWord, compileWords } from '../rules/compile.js';

export type KeywordKind = 'strong' | 'weak' | 'negative' | 'term';

export interface KeywordHit {
  readonly start: number;
  readonly end: number;
  /** Canonical form of what matched. */
  readonly word: string;
}

export interface KeywordIndex {
  readonly regex: RegExp;
  /** Canonical word → which rule lists contain it or a whole-word part of it. */
  readonly owners: ReadonlyMap<string, readonly { rule: number; kind: KeywordKind; word: string }[]>;
}

/** Does `outer` contain `inner` as whole words (`social security number` ⊇ `social security`)? */
function containsWords(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const i = ` ${outer} `.indexOf(` ${inner} `);
  return i !== -1;
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
  // The regex takes the longest keyword at a position; the shorter keywords inside it still
  // belong to their rules (a rule listing `social security` owns a hit on `social security number`).
  const owners = new Map<string, { rule: number; kind: KeywordKind; word: string }[]>();
  for (const w of all) {
    const entries: { rule: number; kind: KeywordKind; word: string }[] = [];
    for (const l of lists) {
      for (const v of l.words) if (containsWords(w, v)) entries.push({ rule: l.rule, kind: l.kind, word: v });
    }
    owners.set(w, entries);
  }
  return { regex: compileWords(all), owners };
}

export function findKeywords(index: KeywordIndex, text: string): KeywordHit[] {
  const hits: KeywordHit[] = [];
  const regex = index.regex;
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    hits.push({ start: m.index, end: m.index + m[0].length, word: canonicalWord(m[0]) });
  }
  return hits;
}
