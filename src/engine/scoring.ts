/**
 * Scoring: pure functions from a candidate's context and what the other rules found in the same
 * item to a score and a level. No text, no offsets beyond the person reach: table-tested in
 * tests/engine/scoring.test.ts.
 */
import type { Confidence } from '../model/finding.js';
import type { Rule } from '../rules/compile.js';
import type { Signal } from '../rules/schema.js';
import type { CandidateContext } from './context.js';
import { personWithinReach } from './context.js';

/** Score → level. The same thresholds for every rule, so levels mean the same everywhere. */
export const LEVELS: readonly { level: Confidence; min: number }[] = [
  { level: 'high', min: 0.85 },
  { level: 'medium', min: 0.6 },
  { level: 'low', min: 0.3 },
];

/** A tiny epsilon so 0.4 + 0.45 counts as 0.85 despite floating point. */
const EPSILON = 1e-9;

export function levelOf(score: number): Confidence | undefined {
  return LEVELS.find((l) => score + EPSILON >= l.min)?.level;
}

/** The lowest score of a level. */
export function minScoreOf(level: Confidence): number {
  return LEVELS.find((l) => l.level === level)?.min ?? minScoreOf('low');
}

/** What scoring reads of a rule (a compiled `Rule` is one). */
export interface ScoringRule {
  readonly role: Rule['role'];
  readonly signals: ReadonlySet<Signal>;
  readonly context?: Pick<NonNullable<Rule['context']>, 'labelBoost' | 'nearBoost' | 'weakConfirmedBy'>;
  readonly negative?: Pick<NonNullable<Rule['negative']>, 'penalty'>;
  readonly corroboration?: Rule['corroboration'];
}

/** What scoring reads of a candidate. */
export interface Scorable extends CandidateContext {
  readonly rule: ScoringRule;
  readonly ruleIndex: number;
  readonly baseScore: number;
  /** Where it starts in the segment (for the person reach). */
  readonly start: number;
  readonly requirement: 'none' | 'context' | 'label';
}

/** Score before corroboration; a weak label does not count yet. */
export function preScore(c: Scorable): number {
  const ctx = c.rule.context;
  let score = c.baseScore;
  if (c.label && !c.label.weak && ctx) score += ctx.labelBoost;
  else if (c.near && ctx) score += ctx.nearBoost;
  if (c.negative && c.rule.negative) score -= c.rule.negative.penalty;
  return score;
}

/** What the rules found in one item that can corroborate each other. */
export interface ItemSignals {
  /** The signals of every rule but this one. */
  othersOf(ruleIndex: number): ReadonlySet<Signal>;
  /**
   * The corroborations among `corr` (that rule's weights) that the other rules give, in
   * CORROBORATIONS' order: worked out once per rule and item, not for each of a roster's values.
   */
  corroborationsOf(ruleIndex: number, corr: CorroborationWeights): readonly Corroboration[];
  /** Where names of persons are (starts, in text order of the candidates). */
  readonly personAt: readonly number[];
}

/**
 * The signals of an item: a rule signals what it is (identifier, health, insurance, person) only
 * through a candidate that counts on its own: medium for an identifier, low for context.
 */
export function itemSignals(candidates: readonly Scorable[]): ItemSignals {
  const signalsByRule = new Map<number, Set<Signal>>();
  // Where names are: a name ties a value to a person only nearby (a news story names many people).
  const personAt: number[] = [];
  for (const c of candidates) {
    if (c.rule.signals.size === 0) continue;
    const threshold = minScoreOf(c.rule.role === 'identifier' ? 'medium' : 'low');
    if (preScore(c) + EPSILON < threshold) continue;
    if (c.rule.signals.has('person')) personAt.push(c.start);
    const set = signalsByRule.get(c.ruleIndex) ?? new Set<Signal>();
    for (const s of c.rule.signals) set.add(s);
    signalsByRule.set(c.ruleIndex, set);
  }
  const othersCache = new Map<number, Set<Signal>>();
  const corroborationCache = new Map<number, readonly Corroboration[]>();
  const othersOf = (ruleIndex: number): Set<Signal> => {
    let set = othersCache.get(ruleIndex);
    if (!set) {
      set = new Set();
      for (const [r, s] of signalsByRule) if (r !== ruleIndex) for (const x of s) set.add(x);
      othersCache.set(ruleIndex, set);
    }
    return set;
  };
  return {
    personAt,
    othersOf,
    corroborationsOf(ruleIndex, corr) {
      let list = corroborationCache.get(ruleIndex);
      if (!list) {
        const others = othersOf(ruleIndex);
        const found = CORROBORATIONS.filter((s) => corr[s] > 0 && others.has(s));
        list = found.length > 0 ? found : NONE;
        corroborationCache.set(ruleIndex, list);
      }
      return list;
    },
  };
}

export type Corroboration = 'identifier' | 'health' | 'insurance';
/** What a rule adds for each corroboration (a compiled rule's `corroboration` is one). */
export type CorroborationWeights = Readonly<Record<Corroboration, number>>;

export interface Scored {
  /** In [0, 1]. */
  readonly score: number;
  /** The label that counted (a weak one only when the item confirmed it). */
  readonly label?: { readonly word: string; readonly weak: boolean };
  readonly corroboratedBy: readonly Corroboration[];
}

/**
 * The final score of a candidate in its item, or undefined when the item rules it out: a required
 * corroboration is missing, or a weak label the item does not confirm was all that made it a value.
 */
export function scoreInItem(c: Scorable, signals: ItemSignals): Scored | undefined {
  const others = signals.othersOf(c.ruleIndex);
  const corr = c.rule.corroboration;
  if (corr && corr.requires.length > 0 && !backedBy(corr.requires, others, signals.personAt, c.start)) return undefined;
  let score = preScore(c);
  let label = c.label;
  if (label?.weak) {
    // A weak label (`DoD`, `born`, `group`) counts only when the item backs it up, by default with
    // another patient identifier: health words in a news story do not make "born Dec. 22, 1961"
    // a patient's birth date.
    const ctx = c.rule.context;
    if (ctx && backedBy(ctx.weakConfirmedBy, others, signals.personAt, c.start)) score += ctx.labelBoost;
    else {
      label = undefined;
      if (c.requirement !== 'none' && !c.near) return undefined;
      if (c.near && c.rule.context) score += c.rule.context.nearBoost;
    }
  }
  let corroboratedBy: readonly Corroboration[] = NONE;
  // Corroboration never rescues a value that a negative label says is something else.
  if (corr && !c.negative) {
    corroboratedBy = signals.corroborationsOf(c.ruleIndex, corr);
    for (const s of corroboratedBy) score += corr[s];
  }
  score = Math.min(1, Math.max(0, score));
  // Built without spreads: this runs for every candidate of a roster (thousands a segment).
  return label ? { score, label, corroboratedBy } : { score, corroboratedBy };
}

const CORROBORATIONS: readonly Corroboration[] = ['identifier', 'health', 'insurance'];
const NONE: readonly Corroboration[] = [];

/** Does the item back a candidate at `start` with any of `sigs` (a person only within reach)? */
function backedBy(sigs: readonly Signal[], others: ReadonlySet<Signal>, personAt: readonly number[], start: number): boolean {
  for (const sig of sigs) if (sig === 'person' ? personWithinReach(personAt, start) : others.has(sig)) return true;
  return false;
}

/** Does a score reach a level's minimum (with the same epsilon as `levelOf`)? */
export function reaches(score: number, minScore: number): boolean {
  return score + EPSILON >= minScore;
}
