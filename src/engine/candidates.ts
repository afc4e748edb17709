/**
 * Candidates: each rule's patterns run only where their shape occurs (the prescan says) and, for
 * patterns that need context, only near the rule's keywords or under a labelled column; each
 * match is normalized and checked by the rule's detector (invalid → dropped), the allowlist and
 * tokens inside URLs, e-mail addresses and base64 blobs are dropped, and what is left gets its
 * context (context.ts).
 */
import type { DetectorEnv } from '../detectors/types.js';
import type { CompiledPattern, Rule } from '../rules/compile.js';
import { requiredShape, type ShapeStep } from '../rules/shape.js';
import type { KeywordIndex } from './keywords.js';
import { createPrescanner, type Prescan, type Prescanner } from './prescan.js';
import type { ShapeAutomaton } from './shapes.js';
import { shapeAutomatonFor } from './shapes-cache.js';
import { contextOf, labelBefore, partOfAName, regionsFor, type CandidateContext, type SegmentFacts } from './context.js';
import type { Scorable } from './scoring.js';
import { isInsideBlob } from './text.js';

export interface Candidate extends Scorable, CandidateContext {
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
}

/** Where a candidate comes from: a pattern or the rule's dictionary, with its score and what it needs. */
export interface CandidateSource {
  readonly name: string;
  readonly score: number;
  readonly requirement: Candidate['requirement'];
}

/** What each pattern needs, worked out once: per rule, in the rule's order. */
export interface RulePlan {
  readonly patterns: readonly { readonly pattern: CompiledPattern; readonly bit: number | undefined; readonly source: CandidateSource }[];
  readonly dictionary: CandidateSource | undefined;
}

/** Characters before a region a pattern's lookbehind may look at, and past it a value may reach. */
const REGION_BEHIND = 16;
const REGION_AHEAD = 256;

/** Calls `found` with each match's value (its `value` group when the pattern names one) and where it starts. */
export function forEachMatch(regex: RegExp, text: string, regions: readonly [number, number][] | undefined, found: (start: number, value: string) => void): void {
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


const STRICTNESS: Readonly<Record<Candidate['requirement'], number>> = { none: 0, context: 1, label: 2 };

/**
 * Is a match of `source` at [start, end) no more than `earlier`, a candidate of the same rule at
 * the same place (an MBI matched by the upper-case pattern and again by the any-case one)? The
 * same value in the same place has the same context, so one of a base score at least as high and
 * a requirement no stricter always scores at least as high: bestOf keeps it, and the item's
 * signals are those of its rule either way. Skipping the other spares its context (a roster's
 * every MBI twice).
 */
function dominated(earlier: Candidate | undefined, end: number, source: CandidateSource): boolean {
  return earlier !== undefined && earlier.end === end && earlier.baseScore >= source.score && STRICTNESS[earlier.requirement] <= STRICTNESS[source.requirement];
}

/** Is the value on the rule's allowlist (a published sample, a test number)? */
function allowed(rule: Rule, normalized: string): boolean {
  const keys = rule.detector.allowKeys?.(normalized) ?? [normalized];
  return keys.some((k) => rule.allow.has(k));
}

export interface CandidateFinder {
  readonly prescanner: Prescanner;
  readonly plans: readonly RulePlan[];
  /** Can the pattern match this text at all? (its shape, or else its literal, occurs in it) */
  mayMatch(pattern: CompiledPattern, bit: number | undefined, pre: Prescan): boolean;
  /** Can this text hold a candidate at all? (most items of a mailbox cannot) */
  worthReading(pre: Prescan, includeContext: boolean): boolean;
  /** The candidates of a segment, in rule order then text order. */
  candidatesOf(facts: SegmentFacts, pre: Prescan, includeBackups: boolean): Candidate[];
}

/** The shape automaton of a rules list, built once per list (plain data, read only): a scan makes two engines of the same rules. */
const automata = new WeakMap<readonly Rule[], { shaped: { pattern: CompiledPattern; shape: ShapeStep[] }[]; automaton: ShapeAutomaton }>();

/** The patterns the automaton gates, with their shapes: those that run over whole texts (the others run only near their keywords; an automaton of all shapes would have thousands of states). */
export function shapedPatterns(rules: readonly Rule[]): { pattern: CompiledPattern; shape: ShapeStep[] }[] {
  const shaped: { pattern: CompiledPattern; shape: ShapeStep[] }[] = [];
  for (const rule of rules) {
    for (const pattern of rule.patterns) {
      if (pattern.requireContext || pattern.requireLabel) continue;
      const shape = requiredShape(pattern.regex);
      if (shape) shaped.push({ pattern, shape });
    }
  }
  return shaped;
}

function shapesOf(rules: readonly Rule[]): { shaped: { pattern: CompiledPattern; shape: ShapeStep[] }[]; automaton: ShapeAutomaton } {
  const known = automata.get(rules);
  if (known) return known;
  const shaped = shapedPatterns(rules);
  const built = { shaped, automaton: shapeAutomatonFor(shaped.map((s) => s.shape)) };
  automata.set(rules, built);
  return built;
}

export function createCandidateFinder(rules: readonly Rule[], index: KeywordIndex, env: DetectorEnv, options: { javascriptPrescan: boolean }): CandidateFinder {
  const { shaped, automaton } = shapesOf(rules);
  const shapeBit = new Map<CompiledPattern, number>();
  automaton.included.forEach((i, bit) => shapeBit.set((shaped[i] as (typeof shaped)[number]).pattern, bit));
  const prescanner = createPrescanner(index, automaton, { javascript: options.javascriptPrescan });
  const mayMatch = (pattern: CompiledPattern, bit: number | undefined, pre: Prescan): boolean => {
    if (bit !== undefined) return pre.hasShape(bit);
    return pattern.literal === undefined || pre.text.includes(pattern.literal);
  };
  /** Patterns that run without any keyword and have no shape bit: the prescan cannot rule them out. */
  const unshaped = rules.flatMap((rule) => rule.patterns.filter((p) => !p.requireContext && !p.requireLabel && !shapeBit.has(p)));
  const plans: RulePlan[] = rules.map((rule) => ({
    patterns: rule.patterns.map((pattern) => {
      const requirement: Candidate['requirement'] = pattern.requireLabel ? 'label' : pattern.requireContext ? 'context' : 'none';
      return { pattern, bit: shapeBit.get(pattern), source: { name: pattern.name, score: pattern.score, requirement } };
    }),
    dictionary: rule.dictionary ? ({ name: 'dictionary', score: rule.dictionary.score, requirement: 'none' } as const) : undefined,
  }));

  /** A match of a rule's pattern or dictionary → a candidate with its context, unless something rules it out. */
  const consider = (out: Candidate[], facts: SegmentFacts, rule: Rule, ruleIndex: number, source: CandidateSource, start: number, match: string): void => {
    const end = start + match.length;
    if (isInsideBlob(facts.text, start, end)) return;
    const normalized = rule.detector.normalize(match, env);
    const verdict = rule.detector.check(normalized, env);
    if (verdict.kind === 'invalid' || (rule.allow.size > 0 && allowed(rule, normalized))) {
      if (rule.context) {
        const label = labelBefore(facts.words(ruleIndex).strong, facts.text, start, rule.context.labelWindow);
        if (label) (facts.spent[ruleIndex] ??= new Set()).add(label.start);
      }
      return;
    }
    const context = contextOf(rule, ruleIndex, start, end, facts, index, source.requirement);
    if (!context) return; // no label, or no label and no nearby keyword, where the pattern needs one
    const inDisclaimer = rule.role !== 'identifier' && facts.disclaimers().length > 0 && facts.inDisclaimer(start);
    if (inDisclaimer) return; // boilerplate never counts as health or insurance context
    out.push({
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
      label: context.label,
      near: context.near,
      negative: context.negative,
    });
  };

  // Context rules that do not gate (names, titles: words in most mail) only back up what other
  // rules find, so they are looked for last, and only where another rule found something.
  const backupOnly = rules.map((r) => r.role === 'context' && !r.gate);
  const firstPass = rules.map((_, i) => i).filter((i) => !backupOnly[i]);
  const secondPass = rules.map((_, i) => i).filter((i) => backupOnly[i]);

  const candidatesFor = (ruleIndexes: readonly number[], facts: SegmentFacts, pre: Prescan, out: Candidate[]): void => {
    const text = facts.text;
    for (const ruleIndex of ruleIndexes) {
      const rule = rules[ruleIndex] as Rule;
      const words = facts.words(ruleIndex);
      // The rule's candidates so far by start, once a second pattern runs (see `dominated`).
      const ruleFrom = out.length;
      let byStart: Map<number, Candidate> | undefined;
      let indexed = ruleFrom;
      const seen = (): Map<number, Candidate> => {
        byStart ??= new Map();
        for (; indexed < out.length; indexed++) {
          const c = out[indexed] as Candidate;
          if (!byStart.has(c.start)) byStart.set(c.start, c);
        }
        return byStart;
      };
      // Without one of the rule's keywords there is no label, no nearby word and no labelled column.
      const keyworded = words.strong.length > 0 || words.weak.length > 0;
      let labelRegions: [number, number][] | undefined;
      let contextRegions: [number, number][] | undefined;
      const plan = plans[ruleIndex] as RulePlan;
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
        const earlier = out.length > ruleFrom ? seen() : undefined;
        forEachMatch(pattern.regex, text, regions, (start, match) => {
          if (!dominated(earlier?.get(start), start + match.length, source)) consider(out, facts, rule, ruleIndex, source, start, match);
        });
      }
      if (plan.dictionary) {
        for (const h of words.term) {
          if (rule.role === 'health' && partOfAName(text, h.start, h.end)) continue;
          consider(out, facts, rule, ruleIndex, plan.dictionary, h.start, text.slice(h.start, h.end));
        }
      }
    }
  };

  return {
    prescanner,
    plans,
    mayMatch,
    // Only negative labels and no shape: no pattern can run and no term can match (most items).
    // (scanAll, for `rules test` and rule examples, also reads items that only context rules answer.)
    worthReading: (pre, includeContext) =>
      pre.maybePositive || (includeContext && pre.keywords.positives.length > 0) || pre.anyShape || unshaped.some((p) => mayMatch(p, undefined, pre)),
    candidatesOf(facts, pre, includeBackups) {
      const out: Candidate[] = [];
      candidatesFor(firstPass, facts, pre, out);
      if (out.length > 0 || includeBackups) candidatesFor(secondPass, facts, pre, out);
      return out;
    },
  };
}
