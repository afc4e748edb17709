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

/** The hits of one segment's candidates at or above `min`, in text order. */
export function hitsOf(candidates: readonly Candidate[], segment: Segment, key: FingerprintKey, includeContext: boolean, min: Confidence): EngineHit[] {
  const minScore = minScoreOf(min);
  const signals = itemSignals(candidates);
  // Best occurrence per rule and value.
  const best = new Map<string, { c: Candidate; score: number; why: Explanation }>();
  for (const c of candidates) {
    if (c.rule.role === 'context' && !includeContext) continue;
    const scored = scoreInItem(c, signals);
    if (!scored || !reaches(scored.score, minScore)) continue;
    const dedupeKey = `${c.rule.id}\0${c.normalized}`;
    const previous = best.get(dedupeKey);
    if (previous && previous.score >= scored.score) continue;
    best.set(dedupeKey, { c, score: scored.score, why: explain(c, scored) });
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
}
