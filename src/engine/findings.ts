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
import { itemSignals, levelOf, minScoreOf, reaches, scoreInItem, type Scored } from './scoring.js';

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

/**
 * The hits of one segment's candidates at or above `min`, in text order: of the rules `keep`
 * picks. Every candidate counts in the item's signals (corroboration), picked or not.
 */
export function hitsOf(candidates: readonly Candidate[], segment: Segment, key: FingerprintKey, keep: HitFilter, min: Confidence): EngineHit[] {
  const minScore = minScoreOf(min);
  const signals = itemSignals(candidates);
  // Best occurrence per rule and value: one map per rule (a roster has thousands of values, and
  // a key of rule and value joined would be a new string to build and hash for each).
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
  const hits: EngineHit[] = [];
  for (const byValue of best) {
    if (!byValue) continue;
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
