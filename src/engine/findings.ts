/**
 * Candidates scored in their item → reported hits: one per rule and value (the best of its
 * occurrences), each with its explanation; masking and the keyed fingerprint only for what is
 * reported.
 */
import type { Confidence, Explanation, Finding } from '../model/finding.js';
import type { Segment } from '../model/segment.js';
import type { Rule } from '../rules/compile.js';
import { fingerprint, type FingerprintKey } from '../findings/fingerprint.js';
import type { Candidate } from './candidates.js';
import { levelOf, minScoreOf, reaches, scoreInItem, type ItemSignals, type Scored } from './scoring.js';

export interface EngineHit {
  readonly finding: Finding;
  /** Offsets in the normalized segment text (see `normalizeText`). */
  readonly start: number;
  readonly end: number;
  readonly role: Rule['role'];
}

/** Why a candidate scored what it did, as reported. */
export function explain(c: Candidate, scored: Scored): Explanation {
  const { score, label, corroboratedBy } = scored;
  return {
    pattern: c.pattern,
    verdict: c.verdict,
    baseScore: c.baseScore,
    score,
    ...(label ? { label: label.word } : {}),
    ...(c.near && !label ? { nearKeyword: c.near } : {}),
    ...(c.negative ? { negative: c.negative } : {}),
    ...(corroboratedBy.length > 0 ? { corroboratedBy: [...corroboratedBy] } : {}),
  };
}

/** Which candidates may become hits: `scan` leaves context-only rules out, `scanAll` keeps them. */
export type HitFilter = (rule: Rule) => boolean;

/** Where a hit is and what it is, without its masked value, fingerprint or explanation (names for people records). */
export interface HitSpan {
  readonly rule: string;
  readonly category: Rule['category'];
  readonly start: number;
  readonly end: number;
}

/**
 * The best occurrence of each rule and value at or above `min`, of the rules `keep` picks, per
 * rule in rule order. Every candidate counts in the item's signals (corroboration), picked or not.
 */
function bestOf(candidates: readonly Candidate[], signals: ItemSignals, keep: HitFilter, min: Confidence): Map<string, { c: Candidate; scored: Scored }>[] {
  const minScore = minScoreOf(min);
  // One map per rule (a roster has thousands of values, and a key of rule and value joined would
  // be a new string to build and hash for each).
  const best: (Map<string, { c: Candidate; scored: Scored }> | undefined)[] = [];
  for (const c of candidates) {
    if (!keep(c.rule)) continue;
    const scored = scoreInItem(c, signals);
    if (!scored || !reaches(scored.score, minScore)) continue;
    const byValue = (best[c.ruleIndex] ??= new Map());
    const previous = byValue.get(c.normalized);
    if (previous && previous.scored.score >= scored.score) continue;
    byValue.set(c.normalized, { c, scored });
  }
  return best.filter((m): m is Map<string, { c: Candidate; scored: Scored }> => m !== undefined);
}

/** The hits of one segment's candidates at or above `min`, in text order: of the rules `keep` picks. */
export function hitsOf(candidates: readonly Candidate[], signals: ItemSignals, segment: Segment, key: FingerprintKey, keep: HitFilter, min: Confidence): EngineHit[] {
  const hits: EngineHit[] = [];
  for (const byValue of bestOf(candidates, signals, keep, min)) {
    // Explained, masked and fingerprinted only once per reported value.
    for (const { c, scored } of byValue.values()) {
      const { score } = scored;
      const finding: Finding = {
        rule: c.rule.id,
        category: c.rule.category,
        confidence: levelOf(score) as Confidence,
        score,
        location: segment.location,
        ...(segment.part !== undefined ? { part: segment.part } : {}),
        masked: c.rule.detector.mask(c.match, c.normalized),
        fingerprint: fingerprint(key, c.rule.category, c.normalized),
        why: explain(c, scored),
      };
      hits.push({ start: c.start, end: c.end, role: c.rule.role, finding });
    }
  }
  return hits.sort((a, b) => a.start - b.start);
}

/** The same hits as `hitsOf` gives, as spans: nothing masked, fingerprinted or explained. */
export function spansOf(candidates: readonly Candidate[], signals: ItemSignals, keep: HitFilter, min: Confidence): HitSpan[] {
  const spans: HitSpan[] = [];
  for (const byValue of bestOf(candidates, signals, keep, min)) {
    for (const { c } of byValue.values()) spans.push({ rule: c.rule.id, category: c.rule.category, start: c.start, end: c.end });
  }
  return spans.sort((a, b) => a.start - b.start);
}
