/**
 * The rule engine: Segment → Finding[]. Pure and synchronous: no IO, no clock, no logger.
 *
 * Per segment (one item: a body or one attachment, as Purview scores them):
 * 1. one prescan for all rules (prescan.ts): normalization, keywords (context words, negative
 *    labels, dictionary terms) and which pattern shapes occur;
 * 2. candidates: each rule's patterns (only where its shape occurs, only near its keywords or
 *    under a matching table column when a pattern needs context), dictionary terms; detector
 *    normalize/check (invalid → dropped),
 *    allowlist, tokens inside URLs, e-mail addresses and base64 blobs dropped;
 * 3. context: LABEL just before (or the column header), NEAR within a window, NEG just before;
 * 4. signals: what each rule found that corroborates others (a patient identifier, health
 *    context, insurance context) — never from a confidentiality footer;
 * 5. corroboration boosts and requirements, weak labels confirmed or dropped; score → level;
 *    one finding per rule and value, the best of its occurrences.
 */
import type { Confidence, Explanation, Finding } from '../model/finding.js';
import type { Segment } from '../model/segment.js';
import type { Rule, CompiledPattern } from '../rules/compile.js';
import type { Signal } from '../rules/schema.js';
import type { DetectorEnv } from '../detectors/types.js';
import { fingerprint, type FingerprintKey } from '../findings/fingerprint.js';
import { SSN_SHAPE, maskSsnShapes } from '../findings/names.js';
import { requiredShape, type ShapeStep } from '../rules/shape.js';
import { buildKeywordIndex, findKeywords, type HitList, type KeywordHit, type KeywordIndex } from './keywords.js';
import { createPrescanner, type Prescan } from './prescan.js';
import { buildShapeAutomaton } from './shapes.js';
import { couldBeHeader, findTables, splitRow, type TableBlock } from './tables.js';
import { disclaimerSpans, isInsideBlob } from './text.js';

/** Score → level. The same thresholds for every rule, so levels mean the same everywhere. */
export const LEVELS: readonly { level: Confidence; min: number }[] = [
  { level: 'high', min: 0.85 },
  { level: 'medium', min: 0.6 },
  { level: 'low', min: 0.3 },
];

export function levelOf(score: number): Confidence | undefined {
  // A tiny epsilon so 0.4 + 0.45 counts as 0.85 despite floating point.
  return LEVELS.find((l) => score + 1e-9 >= l.min)?.level;
}

const MEDIUM = 0.6;
/** How close a person's name must be to tie a value to them (about three lines of mail). */
const PERSON_REACH = 250;
const LOW = 0.3;

export interface EngineHit {
  readonly finding: Finding;
  /** Offsets in the normalized segment text (see `normalizeText`). */
  readonly start: number;
  readonly end: number;
  readonly role: Rule['role'];
}

export interface Engine {
  /** Reported findings (identifiers and corroborated health context) at or above `min` (default `low`). */
  scan(segment: Segment, min?: Confidence): EngineHit[];
  /** Like `scan`, plus the hits of context-only rules (NPI, DEA, payers): for `rules test` and rule examples. */
  scanAll(segment: Segment, min?: Confidence): EngineHit[];
  /** The text with every identifier candidate masked, whatever its context (subjects, attachment names); SSN shapes even when invalid. */
  redact(text: string): string;
}

export interface EngineOptions {
  /** "Now" for date checks (a birth date is not in the future). Default: when the engine is created. */
  readonly today?: Date;
  /** The prescan in JavaScript instead of WebAssembly (tests compare the two). */
  readonly javascriptPrescan?: boolean;
}

interface Candidate {
  readonly rule: Rule;
  readonly ruleIndex: number;
  readonly pattern: string;
  readonly baseScore: number;
  readonly start: number;
  readonly end: number;
  readonly match: string;
  readonly normalized: string;
  readonly verdict: 'valid' | 'unchecked';
  readonly requirement: 'none' | 'context' | 'label';
  label?: { word: string; weak: boolean };
  near?: string;
  negative?: string;
  inDisclaimer: boolean;
}

/** Is a keyword glued to URL or address punctuation (the cheap test before the exact one)? */
function gluedToToken(text: string, start: number, end: number): boolean {
  const before = start > 0 ? text[start - 1] : ' ';
  const after = end < text.length ? text[end] : ' ';
  return '/?&=.@:_'.includes(before as string) || '=/@'.includes(after as string);
}

/** A label on the line above: `SSN:` then the value on the next line (also in `> ` quoted replies). */
const LABEL_ON_LINE_ABOVE = /^[ \t]*[:#.-]?[ \t]*\r?\n[ \t>]*$/;

/** Per-segment facts computed at most once, and only when a candidate needs them. */
class SegmentFacts {
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
      starts = splitRow(this.text.slice(line.start, line.end), block.delimiter).starts;
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

type RuleWords = { readonly strong: KeywordHit[]; readonly weak: KeywordHit[]; readonly term: KeywordHit[] };
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
function labelBefore(hits: readonly KeywordHit[], text: string, start: number, window: number): KeywordHit | undefined {
  const h = hits[lastEndingBefore(hits, start)];
  if (!h || start - h.end > window) return undefined;
  const gap = text.slice(h.end, start);
  // A label names the first value after it: in "MRN 00123456, phone 5125550100" the phone
  // number is not a second MRN.
  if (/\d/.test(gap)) return undefined;
  return !gap.includes('\n') || LABEL_ON_LINE_ABOVE.test(gap) ? h : undefined;
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
  return text.slice(h.end, start).includes('\n') ? undefined : h;
}

/** Does any keyword of a set occur in a table header cell? */
function headerMatches(cell: string | undefined, words: ReadonlySet<string>, index: KeywordIndex): string | undefined {
  if (!cell) return undefined;
  for (const h of findKeywords(index, cell)) {
    for (const o of index.owners.get(h.word) ?? []) if (words.has(o.word)) return o.word;
  }
  return undefined;
}

/** Where a pattern that needs context may match: around the rule's keywords and under matching table columns. */
function regionsFor(rule: Rule, ruleIndex: number, facts: SegmentFacts, index: KeywordIndex, requirement: 'context' | 'label'): [number, number][] {
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
const REGION_BEHIND = 16;
const REGION_AHEAD = 256;

/** Calls `found` with each match's value (its `value` group when the pattern names one) and where it starts. */
function forEachMatch(regex: RegExp, text: string, regions: readonly [number, number][] | undefined, found: (start: number, value: string) => void): void {
  const report = (m: RegExpExecArray, base: number): void => {
    const span = m.indices?.groups?.value;
    if (span) found(base + span[0], m.groups?.value ?? '');
    else found(base + m.index, m[0]);
  };
  if (!regions) {
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) report(m, 0);
    return;
  }
  // Each region is searched in a slice of the text around it: a pattern that finds nothing
  // after a label (a plan name, a person's name) must not read the rest of the text from every
  // label. Regions are merged and in order, so the slices do not overlap by more than their margins.
  let from = 0;
  for (const [start, end] of regions) {
    const base = Math.max(0, start - REGION_BEHIND);
    const slice = text.slice(base, Math.min(text.length, end + REGION_AHEAD));
    regex.lastIndex = Math.max(start, from) - base;
    for (let m = regex.exec(slice); m !== null && base + m.index <= end; m = regex.exec(slice)) {
      report(m, base);
      from = base + m.index + m[0].length;
    }
  }
}

/**
 * The same text, same length, with a `_`, `=`, `:` or `-` between a letter and a digit, and every
 * `_` and `=`, made a space: `SSN_512-84-3921`, `ssn=512843921`, `SSN-512-84-3921` then read as a
 * label and a value. Used only to redact (names, subjects), never to find.
 */
export function unglue(text: string): string {
  return text.replace(/[_=]|(?<=[A-Za-z])[-:](?=\d)/g, ' ');
}

export function createEngine(rules: readonly Rule[], key: FingerprintKey, options: EngineOptions = {}): Engine {
  const index = buildKeywordIndex(rules);
  const env: DetectorEnv = { today: options.today ?? new Date() };
  // The shapes of the patterns run over whole texts (the others run only near their keywords):
  // an automaton of all shapes would have thousands of states.
  const shaped: { pattern: CompiledPattern; shape: ShapeStep[] }[] = [];
  for (const rule of rules) {
    for (const pattern of rule.patterns) {
      if (pattern.requireContext || pattern.requireLabel) continue;
      const shape = requiredShape(pattern.regex);
      if (shape) shaped.push({ pattern, shape });
    }
  }
  const automaton = buildShapeAutomaton(shaped.map((s) => s.shape));
  const shapeBit = new Map<CompiledPattern, number>();
  automaton.included.forEach((i, bit) => shapeBit.set((shaped[i] as (typeof shaped)[number]).pattern, bit));
  const prescanner = createPrescanner(index, automaton, { javascript: options.javascriptPrescan === true });
  /** Can the pattern match this text at all? (its shape, or else its literal, occurs in it) */
  const mayMatch = (pattern: CompiledPattern, bit: number | undefined, pre: Prescan): boolean => {
    if (bit !== undefined) return pre.hasShape(bit);
    return pattern.literal === undefined || pre.text.includes(pattern.literal);
  };
  /** Patterns that run without any keyword and have no shape bit: the prescan cannot rule them out. */
  const unshaped = rules.flatMap((rule) => rule.patterns.filter((p) => !p.requireContext && !p.requireLabel && !shapeBit.has(p)));
  /** What each pattern needs, worked out once: per rule, in the rule's order. */
  const plans = rules.map((rule) => ({
    patterns: rule.patterns.map((pattern) => {
      const requirement: Candidate['requirement'] = pattern.requireLabel ? 'label' : pattern.requireContext ? 'context' : 'none';
      return { pattern, bit: shapeBit.get(pattern), source: { name: pattern.name, score: pattern.score, requirement } };
    }),
    dictionary: rule.dictionary ? ({ name: 'dictionary', score: rule.dictionary.score, requirement: 'none' } as const) : undefined,
  }));

  /** A match of a rule's pattern or dictionary → a candidate with its context, unless something rules it out. */
  const consider = (
    out: Candidate[],
    facts: SegmentFacts,
    rule: Rule,
    ruleIndex: number,
    source: { readonly name: string; readonly score: number; readonly requirement: Candidate['requirement'] },
    start: number,
    match: string,
  ): void => {
    const end = start + match.length;
    if (isInsideBlob(facts.text, start, end)) return;
    const normalized = rule.detector.normalize(match, env);
    const verdict = rule.detector.check(normalized, env);
    const keys = verdict.kind === 'invalid' ? [] : (rule.detector.allowKeys?.(normalized) ?? [normalized]);
    if (verdict.kind === 'invalid' || keys.some((k) => rule.allow.has(k))) {
      if (rule.context) {
        const label = labelBefore(facts.words(ruleIndex).strong, facts.text, start, rule.context.labelWindow);
        if (label) (facts.spent[ruleIndex] ??= new Set()).add(label.start);
      }
      return;
    }
    const cand: Candidate = {
      rule,
      ruleIndex,
      pattern: source.name,
      baseScore: source.score,
      start,
      end,
      match,
      normalized,
      verdict: verdict.kind,
      requirement: source.requirement,
      inDisclaimer: false,
    };
    applyContext(cand, facts);
    if (cand.requirement === 'label' && !cand.label) return;
    if (cand.requirement === 'context' && !cand.label && !cand.near) return;
    cand.inDisclaimer = rule.role !== 'identifier' && facts.disclaimers().length > 0 && facts.inDisclaimer(start);
    if (cand.inDisclaimer) return; // boilerplate never counts as health or insurance context
    out.push(cand);
  };

  // Context rules that do not gate (names, titles: words in most mail) only back up what other
  // rules find, so they are looked for last, and only where another rule found something.
  const backupOnly = rules.map((r) => r.role === 'context' && !r.gate);
  const firstPass = rules.map((_, i) => i).filter((i) => !backupOnly[i]);
  const secondPass = rules.map((_, i) => i).filter((i) => backupOnly[i]);

  const candidatesOf = (facts: SegmentFacts, pre: Prescan, includeBackups: boolean): Candidate[] => {
    const out: Candidate[] = [];
    candidatesFor(firstPass, facts, pre, out);
    if (out.length > 0 || includeBackups) candidatesFor(secondPass, facts, pre, out);
    return out;
  };

  const candidatesFor = (ruleIndexes: readonly number[], facts: SegmentFacts, pre: Prescan, out: Candidate[]): void => {
    const text = facts.text;
    for (const ruleIndex of ruleIndexes) {
      const rule = rules[ruleIndex] as Rule;
      const words = facts.words(ruleIndex);
      // Without one of the rule's keywords there is no label, no nearby word and no labelled column.
      const keyworded = words.strong.length > 0 || words.weak.length > 0;
      let labelRegions: [number, number][] | undefined;
      let contextRegions: [number, number][] | undefined;
      const plan = plans[ruleIndex] as (typeof plans)[number];
      for (const { pattern, bit, source } of plan.patterns) {
        if (!mayMatch(pattern, bit, pre)) continue;
        let regions: [number, number][] | undefined;
        if (source.requirement !== 'none') {
          if (!keyworded) continue;
          // The same for every pattern of the rule with this requirement (seven date formats).
          regions =
            source.requirement === 'label'
              ? (labelRegions ??= regionsFor(rule, ruleIndex, facts, index, 'label'))
              : (contextRegions ??= regionsFor(rule, ruleIndex, facts, index, 'context'));
          if (regions.length === 0) continue; // prefilter: no keyword, no labelled column, no candidate
        }
        forEachMatch(pattern.regex, text, regions, (start, match) => consider(out, facts, rule, ruleIndex, source, start, match));
      }
      if (plan.dictionary) {
        for (const h of words.term) {
          if (rule.role === 'health' && partOfAName(text, h.start, h.end)) continue;
          consider(out, facts, rule, ruleIndex, plan.dictionary, h.start, text.slice(h.start, h.end));
        }
      }
    }
  };

  const applyContext = (cand: Candidate, facts: SegmentFacts): void => {
    const { rule, ruleIndex, start, end } = cand;
    const text = facts.text;
    const words = facts.words(ruleIndex);
    if (rule.context) {
      const strong = labelBefore(words.strong, text, start, rule.context.labelWindow);
      const weak = labelBefore(words.weak, text, start, rule.context.labelWindow);
      if (strong && (!weak || strong.end >= weak.end)) cand.label = { word: strong.word, weak: false };
      else if (weak) cand.label = { word: weak.word, weak: true };
      else if (facts.anyOnHeaderLine(words.strong) || facts.anyOnHeaderLine(words.weak)) {
        const cell = facts.headerCell(start);
        const header = headerMatches(cell, rule.context.strong, index);
        const weakHeader = header ? undefined : headerMatches(cell, rule.context.weak, index);
        if (header) cand.label = { word: header, weak: false };
        else if (weakHeader) cand.label = { word: weakHeader, weak: true };
      }
      if (!cand.label) cand.near = nearby(words.strong, start, end, rule.context.window, facts.spent[ruleIndex])?.word;
    }
    // A weak label (`born`, `group`) does not override a negative one (`baby ... born on`).
    if (rule.negative && (!cand.label || cand.label.weak || rule.negative.strong)) {
      const neg =
        negativeBefore(facts.negatives(ruleIndex), text, start, rule.negative.window)?.word ??
        (facts.anyOnHeaderLine(facts.negatives(ruleIndex)) ? headerMatches(facts.headerCell(start), rule.negative.words, index) : undefined);
      if (neg) cand.negative = neg;
    }
    // Words that redefine the value wherever they sit on its line, even after a strong label.
    if (rule.negative && !cand.negative && rule.negative.sameLine.size > 0) {
      const neg = negativeOnLine(facts.negatives(ruleIndex), rule.negative.sameLine, text, start, end);
      if (neg) cand.negative = neg.word;
    }
  };

  /** Score before corroboration; a weak label does not count yet. */
  const preScore = (c: Candidate): number => {
    const ctx = c.rule.context;
    let score = c.baseScore;
    if (c.label && !c.label.weak && ctx) score += ctx.labelBoost;
    else if (c.near && ctx) score += ctx.nearBoost;
    if (c.negative && c.rule.negative) score -= c.rule.negative.penalty;
    return score;
  };

  const evaluate = (segment: Segment, includeContext: boolean, min: Confidence): EngineHit[] => {
    const minScore = LEVELS.find((l) => l.level === min)?.min ?? LOW;
    const pre = prescanner.scan(segment.text);
    // Only negative labels and no shape: no pattern can run and no term can match (most items).
    // (scanAll, for `rules test` and rule examples, also reads items that only context rules answer.)
    const worthReading = pre.maybePositive || (includeContext && pre.keywords.positives.length > 0);
    if (!worthReading && !pre.anyShape && !unshaped.some((p) => mayMatch(p, undefined, pre))) return [];
    const facts = new SegmentFacts(pre.text, pre.keywords, index, pre.maybeDisclaimer);
    const candidates = candidatesOf(facts, pre, includeContext);
    if (candidates.length === 0) return []; // most items of a mailbox

    // What each rule found that can corroborate the others in this item.
    const signalsByRule = new Map<number, Set<Signal>>();
    // Where names are: a name ties a value to a person only nearby (a news story names many people).
    const personAt: number[] = [];
    for (const c of candidates) {
      if (c.rule.signals.size === 0) continue;
      const threshold = c.rule.role === 'identifier' ? MEDIUM : LOW;
      if (preScore(c) + 1e-9 < threshold) continue;
      if (c.rule.signals.has('person')) personAt.push(c.start);
      const set = signalsByRule.get(c.ruleIndex) ?? new Set<Signal>();
      for (const s of c.rule.signals) set.add(s);
      signalsByRule.set(c.ruleIndex, set);
    }
    const othersCache = new Map<number, Set<Signal>>();
    const signalsOfOthers = (ruleIndex: number): Set<Signal> => {
      let set = othersCache.get(ruleIndex);
      if (!set) {
        set = new Set();
        for (const [r, s] of signalsByRule) if (r !== ruleIndex) for (const x of s) set.add(x);
        othersCache.set(ruleIndex, set);
      }
      return set;
    };

    // Best occurrence per rule and value; masking and the HMAC only for what is reported.
    const best = new Map<string, { c: Candidate; score: number; why: Explanation }>();
    for (const c of candidates) {
      if (c.rule.role === 'context' && !includeContext) continue;
      const others = signalsOfOthers(c.ruleIndex);
      const backs = (sig: Signal): boolean => (sig === 'person' ? personAt.some((p) => Math.abs(p - c.start) <= PERSON_REACH) : others.has(sig));
      const corr = c.rule.corroboration;
      if (corr && corr.requires.length > 0 && !corr.requires.some(backs)) continue;
      let score = preScore(c);
      let label = c.label;
      if (label?.weak) {
        // A weak label (`DoD`, `born`, `group`) counts only when the item backs it up, by default with
        // another patient identifier: health words in a news story do not make "born Dec. 22, 1961"
        // a patient's birth date.
        const ctx = c.rule.context;
        if (ctx && ctx.weakConfirmedBy.some(backs)) score += ctx.labelBoost;
        else {
          label = undefined;
          if (c.requirement !== 'none' && !c.near) continue;
          if (c.near && c.rule.context) score += c.rule.context.nearBoost;
        }
      }
      const corroboratedBy: ('identifier' | 'health' | 'insurance')[] = [];
      // Corroboration never rescues a value that a negative label says is something else.
      if (corr && !c.negative) {
        for (const s of ['identifier', 'health', 'insurance'] as const) {
          if (corr[s] > 0 && others.has(s)) {
            score += corr[s];
            corroboratedBy.push(s);
          }
        }
      }
      score = Math.min(1, Math.max(0, score));
      if (score + 1e-9 < minScore) continue;
      const dedupeKey = `${c.rule.id}\0${c.normalized}`;
      const previous = best.get(dedupeKey);
      if (previous && previous.score >= score) continue;
      const why: Explanation = {
        pattern: c.pattern,
        verdict: c.verdict,
        baseScore: c.baseScore,
        score,
        ...(label ? { label: label.word } : {}),
        ...(c.near && !label ? { nearKeyword: c.near } : {}),
        ...(c.negative ? { negative: c.negative } : {}),
        ...(corroboratedBy.length > 0 ? { corroboratedBy } : {}),
      };
      best.set(dedupeKey, { c, score, why });
    }
    const hits: EngineHit[] = [];
    for (const { c, score, why } of best.values()) {
      hits.push({
        start: c.start,
        end: c.end,
        role: c.rule.role,
        finding: {
          rule: c.rule.id,
          category: c.rule.category,
          confidence: levelOf(score) as Confidence,
          score,
          location: segment.location,
          ...(segment.part !== undefined ? { part: segment.part } : {}),
          masked: c.rule.detector.mask(c.match, c.normalized),
          fingerprint: fingerprint(key, c.rule.category, c.normalized),
          why,
        },
      });
    }
    return hits.sort((a, b) => a.start - b.start);
  };

  return {
    scan: (segment, min = 'low') => evaluate(segment, false, min),
    scanAll: (segment, min = 'low') => evaluate(segment, true, min),

    redact(input: string): string {
      // What is written out is the normalized text (full-width digits as ASCII, no zero-width
      // characters); the rules see a same-length copy with glue between a label and a value
      // loosened (`SSN_512-…`, `ssn=…`, `SSN-512-…`), as names and subjects are written tersely.
      const normalized = prescanner.scan(input).text;
      const pre = prescanner.scan(unglue(normalized));
      const text = pre.text;
      const facts = new SegmentFacts(text, pre.keywords, index, pre.maybeDisclaimer);
      const spans: { start: number; end: number; masked: string }[] = [];
      rules.forEach((rule, ruleIndex) => {
        // Conditions and provider IDs are not what a subject must hide; identifiers and people's names are.
        if (rule.role !== 'identifier' && !rule.signals.has('person')) return;
        const words = facts.words(ruleIndex);
        const hasKeyword = words.strong.length > 0 || words.weak.length > 0;
        for (const { pattern, bit, source } of (plans[ruleIndex] as (typeof plans)[number]).patterns) {
          // A date or an ID shape without its label is not an identifier: "invoice 2024-05-01" stays.
          if (source.requirement !== 'none' && !hasKeyword) continue;
          if (!mayMatch(pattern, bit, pre)) continue;
          // A name is any capitalized word: only where its label puts it (`Re: Last, First`, `Mrs. Last`).
          const regions = rule.signals.has('person') ? regionsFor(rule, ruleIndex, facts, index, 'label') : undefined;
          forEachMatch(pattern.regex, text, regions, (start, match) => {
            const normalized = rule.detector.normalize(match, env);
            // Only what could be an identifier: `URGENT` is shaped like an MRN but has no digits.
            if (rule.detector.check(normalized, env).kind === 'invalid' && !/^\d{3}\D?\d{2}\D?\d{4}$/.test(match)) return;
            spans.push({ start, end: start + match.length, masked: rule.detector.mask(match, normalized) });
          });
        }
      });
      // Whatever the rules decided: an SSN's shape (3-2-4 digits with one separator, or 9 in a
      // row) is masked in a name or subject even without a label ("RRB 512843921", "512/84/3921").
      for (const m of text.matchAll(SSN_SHAPE)) spans.push({ start: m.index, end: m.index + m[0].length, masked: maskSsnShapes(m[0]) });
      spans.sort((a, b) => a.start - b.start || b.end - a.end);
      let out = '';
      let pos = 0;
      for (const s of spans) {
        if (s.start < pos) continue; // overlapping candidate: already covered
        out += normalized.slice(pos, s.start) + s.masked;
        pos = s.end;
      }
      return out + normalized.slice(pos);
    },
  };
}
