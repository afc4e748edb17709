/**
 * Context of a candidate in its segment: labels just before it (or its column's header), keywords
 * within a window, negative labels, and the per-segment facts (keyword hits per rule, lines,
 * tables, disclaimers) computed at most once and only when a candidate asks.
 */
import type { Rule } from '../rules/compile.js';
import { findKeywords, type HitList, type KeywordHit, type KeywordIndex } from './keywords.js';
import { cellStarts, couldBeHeader, findTables, type TableBlock } from './tables.js';
import { disclaimerSpans, isInsideBlob } from './text.js';

/** How close a person's name must be to tie a value to them (about three lines of mail). */
export const PERSON_REACH = 250;

/** Is a keyword glued to URL or address punctuation (the cheap test before the exact one)? */
function gluedToToken(text: string, start: number, end: number): boolean {
  const before = start > 0 ? text[start - 1] : ' ';
  const after = end < text.length ? text[end] : ' ';
  return '/?&=.@:_'.includes(before as string) || '=/@'.includes(after as string);
}

/** A label on the line above: `SSN:` then the value on the next line (also in `> ` quoted replies). */
const LABEL_ON_LINE_ABOVE = /^[ \t]*[:#.-]?[ \t]*\r?\n[ \t>]*$/;

/** Per-segment facts computed at most once, and only when a candidate needs them. */
export class SegmentFacts {
  /**
   * Per rule, the starts of keywords that label a placeholder or invalid value ("Test record:
   * SSN 999-99-9999"): that keyword belongs to the placeholder and is no nearby keyword for a
   * control number on the next line.
   */
  readonly spent: (Set<number> | undefined)[] = [];
  private tablesCache: TableBlock[] | undefined;
  private disclaimersCache: { start: number; end: number }[] | undefined;
  private byRule: (RuleWords | undefined)[] | undefined;
  private negativesByRule: (KeywordHit[] | undefined)[] | undefined;

  constructor(
    readonly text: string,
    private readonly hits: HitList,
    private readonly index: KeywordIndex,
    private readonly maybeDisclaimer: boolean,
  ) {}

  /** A keyword inside a URL or an e-mail address (`cpn.cfm?grp=lb735`) labels nothing. */
  private labels(start: number, end: number): boolean {
    return !(gluedToToken(this.text, start, end) && isInsideBlob(this.text, start, end));
  }

  tables(): TableBlock[] {
    this.tablesCache ??= findTables(this.text);
    return this.tablesCache;
  }

  private delimiterByLine: Map<number, boolean> | undefined; // made when first needed: most segments never need it
  private cellStartsByLine: Map<number, number[]> | undefined;
  private lastLine = { index: -1, start: 0, end: -1 };

  /**
   * The line holding `pos` (index: its start offset). Found around `pos`, not from a table of
   * all lines: few are ever asked about. Queries come in text order, so the last line found is
   * kept: a text that is one long line is searched once, not once per keyword.
   */
  private lineAt(pos: number): { index: number; start: number; end: number } {
    const last = this.lastLine;
    if (pos >= last.start && pos <= last.end) return last;
    const start = pos === 0 ? 0 : this.text.lastIndexOf('\n', pos - 1) + 1;
    const next = this.text.indexOf('\n', pos);
    this.lastLine = { index: start, start, end: next === -1 ? this.text.length : next };
    return this.lastLine;
  }

  private onHeaderLine: Map<readonly KeywordHit[], boolean> | undefined;
  private headerByLine: Map<number, boolean> | undefined;

  /**
   * Is any of these keyword hits on a line that could be a table header? (memoized per list)
   * Only then can a column be labelled by them, and only then are the tables looked for.
   */
  anyOnHeaderLine(hits: readonly KeywordHit[]): boolean {
    if (hits.length === 0) return false;
    let found = (this.onHeaderLine ??= new Map()).get(hits);
    if (found === undefined) {
      found = hits.some((h) => this.lineCouldBeHeader(h.start));
      this.onHeaderLine.set(hits, found);
    }
    return found;
  }

  private lineCouldBeHeader(pos: number): boolean {
    if (!this.lineHasDelimiter(pos)) return false;
    const line = this.lineAt(pos);
    let could = (this.headerByLine ??= new Map()).get(line.index);
    if (could === undefined) {
      could = couldBeHeader(this.text, line.start);
      this.headerByLine.set(line.index, could);
    }
    return could;
  }

  /** Could the line holding `pos` be a table row? (Only then are tables looked for.) */
  lineHasDelimiter(pos: number): boolean {
    const line = this.lineAt(pos);
    let has = (this.delimiterByLine ??= new Map()).get(line.index);
    if (has === undefined) {
      has = false;
      for (let i = line.start; i < line.end && !has; i++) {
        const c = this.text.charCodeAt(i);
        has = c === 44 || c === 9 || c === 124; // , tab |
      }
      this.delimiterByLine.set(line.index, has);
    }
    return has;
  }

  /** The header cell above the value at `pos`, if `pos` is inside a table row. */
  headerCell(pos: number): string | undefined {
    if (!this.lineHasDelimiter(pos)) return undefined;
    const block = this.tables().find((b) => pos >= b.rowsStart && pos <= b.end);
    if (!block) return undefined;
    const line = this.lineAt(pos);
    let starts = (this.cellStartsByLine ??= new Map()).get(line.index);
    if (!starts) {
      starts = cellStarts(this.text, line.start, line.end, block.delimiter);
      this.cellStartsByLine.set(line.index, starts);
    }
    let column = 0;
    for (let c = 0; c < starts.length; c++) if ((starts[c] as number) <= pos - line.start) column = c;
    return block.header[column];
  }

  disclaimers(): { start: number; end: number }[] {
    this.disclaimersCache ??= this.maybeDisclaimer ? disclaimerSpans(this.text) : [];
    return this.disclaimersCache;
  }

  inDisclaimer(pos: number): boolean {
    return this.disclaimers().some((d) => pos >= d.start && pos < d.end);
  }

  /** The context words and terms that belong to one rule (computed for all rules in one pass). */
  words(ruleIndex: number): RuleWords {
    if (!this.byRule) {
      const byRule: (RuleWords | undefined)[] = [];
      const { starts, ends, words, positives } = this.hits;
      for (const i of positives) {
        const word = words[i] as string;
        const start = starts[i] as number;
        const end = ends[i] as number;
        if (!this.labels(start, end)) continue;
        for (const o of this.index.owners.get(word) ?? []) {
          if (o.kind === 'negative') continue;
          let found = byRule[o.rule];
          if (!found) {
            found = { strong: [], weak: [], term: [] };
            byRule[o.rule] = found;
          }
          found[o.kind].push({ start, end, word: o.word });
        }
      }
      this.byRule = byRule;
    }
    return this.byRule[ruleIndex] ?? NO_WORDS;
  }

  /**
   * The negative labels of one rule: sorted out only when a candidate of the rule asks, since
   * most keywords of a mailbox (`call`, `price`, `fax`) are negative labels and most items have
   * no candidate.
   */
  negatives(ruleIndex: number): KeywordHit[] {
    const byRule = (this.negativesByRule ??= []);
    let found = byRule[ruleIndex];
    if (!found) {
      found = [];
      const { starts, ends, words } = this.hits;
      for (let i = 0; i < words.length; i++) {
        const word = this.index.negativeOf.get(words[i] as string)?.[ruleIndex];
        if (word === undefined || !this.labels(starts[i] as number, ends[i] as number)) continue;
        found.push({ start: starts[i] as number, end: ends[i] as number, word });
      }
      byRule[ruleIndex] = found;
    }
    return found;
  }
}

export type RuleWords = { readonly strong: KeywordHit[]; readonly weak: KeywordHit[]; readonly term: KeywordHit[] };
const NO_WORDS: RuleWords = { strong: [], weak: [], term: [] };

/** Index of the last hit ending at or before `pos` (hits are in text order and do not overlap), or -1. */
function lastEndingBefore(hits: readonly KeywordHit[], pos: number): number {
  let lo = 0;
  let hi = hits.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((hits[mid] as KeywordHit).end <= pos) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * LABEL: the closest keyword ending at most `window` characters before the value, on its line or
 * alone on the line above. Only the closest can qualify: an earlier one's gap holds the closer one.
 */
export function labelBefore(hits: readonly KeywordHit[], text: string, start: number, window: number): KeywordHit | undefined {
  const h = hits[lastEndingBefore(hits, start)];
  if (!h || start - h.end > window) return undefined;
  // A label names the first value after it: in "MRN 00123456, phone 5125550100" the phone
  // number is not a second MRN. (The gap is read in place: a roster asks this of every value.)
  let newline = false;
  for (let i = h.end; i < start; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) return undefined;
    if (c === 10) newline = true;
  }
  return !newline || LABEL_ON_LINE_ABOVE.test(text.slice(h.end, start)) ? h : undefined;
}

function nearby(hits: readonly KeywordHit[], start: number, end: number, window: number, spent: ReadonlySet<number> | undefined): KeywordHit | undefined {
  // The first hit that ends at or after start - window, if it starts before end + window, and
  // is not spent on a placeholder of its own.
  for (let i = lastEndingBefore(hits, start - window - 1) + 1; i < hits.length; i++) {
    const h = hits[i] as KeywordHit;
    if (h.start > end + window) return undefined;
    if (!spent?.has(h.start)) return h;
  }
  return undefined;
}

/** How far from a value a `sameLine` negative label is looked for (on its line). */
const SAME_LINE_REACH = 120;

/** A negative label of `sameLine` on the line of [start, end), at most SAME_LINE_REACH away. */
function negativeOnLine(hits: readonly KeywordHit[], words: ReadonlySet<string>, text: string, start: number, end: number): KeywordHit | undefined {
  if (words.size === 0) return undefined;
  const from = Math.max(0, start - SAME_LINE_REACH);
  const to = Math.min(text.length, end + SAME_LINE_REACH);
  const before = text.lastIndexOf('\n', start - 1);
  const lineStart = before < from ? from : before + 1;
  let lineEnd = text.indexOf('\n', end);
  if (lineEnd === -1 || lineEnd > to) lineEnd = to;
  for (let i = lastEndingBefore(hits, lineStart) + 1; i < hits.length; i++) {
    const h = hits[i] as KeywordHit;
    if (h.start >= lineEnd) break;
    if (words.has(h.word)) return h;
  }
  return undefined;
}

/**
 * A term written in Title Case and followed by `&` or another capitalized word is part of a
 * name, not a condition: "Northwind Home Oxygen & Mobility", "Cedar Sleep Apnea Center".
 * Upper-case abbreviations (COPD, CPAP) and lower-case terms are never names.
 */
export function partOfAName(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start);
  if (first < 65 || first > 90) return false;
  let lower = false;
  for (let i = start + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = true;
    else if (c === 32 && i + 1 < end && !(text.charCodeAt(i + 1) >= 65 && text.charCodeAt(i + 1) <= 90)) return false;
  }
  if (!lower) return false;
  let i = end;
  while (i < text.length && text.charCodeAt(i) === 32) i++;
  if (i === end) return false;
  const next = text.charCodeAt(i);
  if (next === 38) return true; // &
  if (next >= 65 && next <= 90) return i + 1 < text.length && text.charCodeAt(i + 1) >= 97 && text.charCodeAt(i + 1) <= 122;
  return false;
}


/** A negative label shortly before the value on the same line. */
function negativeBefore(hits: readonly KeywordHit[], text: string, start: number, window: number): KeywordHit | undefined {
  const h = hits[lastEndingBefore(hits, start)];
  if (!h || start - h.end > window) return undefined;
  for (let i = h.end; i < start; i++) if (text.charCodeAt(i) === 10) return undefined;
  return h;
}

/** Per keyword index, the words owning the keywords of each header cell seen, in order (a table has few cells, its rows many values). */
const cellOwners = new WeakMap<KeywordIndex, Map<string, readonly string[]>>();
const CELL_CACHE_LIMIT = 4096;

function ownersOfCell(cell: string, index: KeywordIndex): readonly string[] {
  let cache = cellOwners.get(index);
  if (!cache) cellOwners.set(index, (cache = new Map()));
  let owners = cache.get(cell);
  if (!owners) {
    const found: string[] = [];
    for (const h of findKeywords(index, cell)) for (const o of index.owners.get(h.word) ?? []) found.push(o.word);
    if (cache.size >= CELL_CACHE_LIMIT) cache.clear();
    cache.set(cell, (owners = found));
  }
  return owners;
}

/** Does any keyword of a set occur in a table header cell? */
function headerMatches(cell: string | undefined, words: ReadonlySet<string>, index: KeywordIndex): string | undefined {
  if (!cell) return undefined;
  for (const word of ownersOfCell(cell, index)) if (words.has(word)) return word;
  return undefined;
}

/** Where a pattern that needs context may match: around the rule's keywords and under matching table columns. */
export function regionsFor(rule: Rule, ruleIndex: number, facts: SegmentFacts, index: KeywordIndex, requirement: 'context' | 'label'): [number, number][] {
  const ctx = rule.context;
  if (!ctx) return [];
  const words = facts.words(ruleIndex);
  // Each source of regions comes in text order: they are merged as they are read, with no sort
  // and no array a region (a text of keywords only has hundreds of thousands).
  // A region bounds where a value may start (forEachMatch): a label ends at most labelWindow
  // before it (labelBefore); a nearby word ends at most window before it, or starts at most
  // window after its end, for values up to 64 characters long (nearby).
  const labelReach = ctx.labelWindow;
  const sources: { readonly count: number; start(i: number): number; end(i: number): number }[] = [
    // A labelled value starts after its label: searching from the label's end keeps a value
    // pattern from swallowing the label itself (`Pt Delphine Oakhurst` is not a name starting at `Pt`).
    { count: words.strong.length, start: (i) => (words.strong[i] as KeywordHit).end, end: (i) => (words.strong[i] as KeywordHit).end + labelReach },
    { count: words.weak.length, start: (i) => (words.weak[i] as KeywordHit).end, end: (i) => (words.weak[i] as KeywordHit).end + labelReach },
  ];
  if (requirement === 'context') {
    sources.push({
      count: words.strong.length,
      start: (i) => Math.max(0, (words.strong[i] as KeywordHit).start - ctx.window - 64),
      end: (i) => (words.strong[i] as KeywordHit).end + ctx.window,
    });
  }
  // A header cell naming the rule is itself a keyword hit on a delimited line: without one, no
  // labelled column, and the tables of the segment need not be found at all.
  if (facts.anyOnHeaderLine(words.strong) || facts.anyOnHeaderLine(words.weak)) {
    const columns = facts.tables().filter((b) => b.header.some((cell) => headerMatches(cell, ctx.strong, index) ?? headerMatches(cell, ctx.weak, index)));
    sources.push({ count: columns.length, start: (i) => (columns[i] as TableBlock).rowsStart, end: (i) => (columns[i] as TableBlock).end });
  }
  const next = sources.map(() => 0);
  const merged: [number, number][] = [];
  for (;;) {
    let pick = -1;
    let pickStart = Infinity;
    for (let k = 0; k < sources.length; k++) {
      const source = sources[k] as (typeof sources)[number];
      const i = next[k] as number;
      if (i < source.count && source.start(i) < pickStart) {
        pick = k;
        pickStart = source.start(i);
      }
    }
    if (pick < 0) return merged;
    const source = sources[pick] as (typeof sources)[number];
    const end = source.end(next[pick] as number);
    next[pick] = (next[pick] as number) + 1;
    const last = merged[merged.length - 1];
    if (last && pickStart <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([pickStart, end]);
  }
}

/** Characters before a region a pattern's lookbehind may look at, and past it a value may reach. */

/** What a candidate's surroundings say: a label (strong or weak), a nearby keyword, a negative label. */
export interface CandidateContext {
  label?: { word: string; weak: boolean };
  near?: string;
  negative?: string;
}

/**
 * The context of a value of rule `ruleIndex` at [start, end) of the segment; undefined when the
 * value lacks what its pattern requires (a label, or a label or nearby keyword): then the rest
 * of its context is not looked for.
 */
export function contextOf(
  rule: Rule,
  ruleIndex: number,
  start: number,
  end: number,
  facts: SegmentFacts,
  index: KeywordIndex,
  requirement: 'none' | 'context' | 'label' = 'none',
): CandidateContext | undefined {
  const found: CandidateContext = {};
  const text = facts.text;
  const words = facts.words(ruleIndex);
  if (rule.context) {
    const strong = labelBefore(words.strong, text, start, rule.context.labelWindow);
    const weak = labelBefore(words.weak, text, start, rule.context.labelWindow);
    if (strong && (!weak || strong.end >= weak.end)) found.label = { word: strong.word, weak: false };
    else if (weak) found.label = { word: weak.word, weak: true };
    else if (facts.anyOnHeaderLine(words.strong) || facts.anyOnHeaderLine(words.weak)) {
      const cell = facts.headerCell(start);
      const header = headerMatches(cell, rule.context.strong, index);
      const weakHeader = header ? undefined : headerMatches(cell, rule.context.weak, index);
      if (header) found.label = { word: header, weak: false };
      else if (weakHeader) found.label = { word: weakHeader, weak: true };
    }
    if (!found.label) {
      if (requirement === 'label') return undefined;
      found.near = nearby(words.strong, start, end, rule.context.window, facts.spent[ruleIndex])?.word;
      if (requirement === 'context' && !found.near) return undefined;
    }
  } else if (requirement !== 'none') return undefined;
  // A weak label (`born`, `group`) does not override a negative one (`baby ... born on`).
  if (rule.negative && (!found.label || found.label.weak || rule.negative.strong)) {
    const neg =
      negativeBefore(facts.negatives(ruleIndex), text, start, rule.negative.window)?.word ??
      (facts.anyOnHeaderLine(facts.negatives(ruleIndex)) ? headerMatches(facts.headerCell(start), rule.negative.words, index) : undefined);
    if (neg) found.negative = neg;
  }
  // Words that redefine the value wherever they sit on its line, even after a strong label.
  if (rule.negative && !found.negative && rule.negative.sameLine.size > 0) {
    const neg = negativeOnLine(facts.negatives(ruleIndex), rule.negative.sameLine, text, start, end);
    if (neg) found.negative = neg.word;
  }
  return found;
}

/** Is a person's name (a candidate of a rule with the `person` signal, at `personAt`) within reach of `pos`? */
export function personWithinReach(personAt: readonly number[], pos: number): boolean {
  return personAt.some((p) => Math.abs(p - pos) <= PERSON_REACH);
}
