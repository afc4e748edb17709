/**
 * The rule engine: Segment → Finding[]. Pure and synchronous: no IO, no clock, no logger.
 *
 * Per segment (one item: a body or one attachment, as Purview scores them):
 * 1. one prescan for all rules (prescan.ts): normalization, keywords (context words, negative
 *    labels, dictionary terms) and which pattern shapes occur;
 * 2. candidates (candidates.ts): each rule's patterns (only where its shape occurs, only near its
 *    keywords or under a matching table column when a pattern needs context), dictionary terms;
 *    detector normalize/check (invalid → dropped), allowlist, tokens inside URLs, e-mail
 *    addresses and base64 blobs dropped;
 * 3. context (context.ts): LABEL just before (or the column header), NEAR within a window, NEG
 *    just before;
 * 4. scoring (scoring.ts, pure): what each rule found that corroborates others (a patient
 *    identifier, health context, insurance context) — never from a confidentiality footer —,
 *    corroboration boosts and requirements, weak labels confirmed or dropped; score → level;
 * 5. findings (findings.ts): one per rule and value, the best of its occurrences, explained.
 * `redact` (redact.ts) masks names and subjects with the same candidates.
 */
import type { Confidence } from '../model/finding.js';
import type { Segment } from '../model/segment.js';
import type { Rule } from '../rules/compile.js';
import type { DetectorEnv } from '../detectors/types.js';
import type { FingerprintKey } from '../findings/fingerprint.js';
import { buildKeywordIndex } from './keywords.js';
import { createCandidateFinder } from './candidates.js';
import { SegmentFacts } from './context.js';
import { hitsOf, type EngineHit } from './findings.js';
import { createRedactor } from './redact.js';

export { LEVELS, levelOf } from './scoring.js';
export { partOfAName } from './context.js';
export { unglue } from './redact.js';
export type { EngineHit } from './findings.js';

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

export function createEngine(rules: readonly Rule[], key: FingerprintKey, options: EngineOptions = {}): Engine {
  const index = buildKeywordIndex(rules);
  const env: DetectorEnv = { today: options.today ?? new Date() };
  const finder = createCandidateFinder(rules, index, env, { javascriptPrescan: options.javascriptPrescan === true });

  const evaluate = (segment: Segment, includeContext: boolean, min: Confidence): EngineHit[] => {
    const pre = finder.prescanner.scan(segment.text);
    if (!finder.worthReading(pre, includeContext)) return [];
    const facts = new SegmentFacts(pre.text, pre.keywords, index, pre.maybeDisclaimer);
    const candidates = finder.candidatesOf(facts, pre, includeContext);
    if (candidates.length === 0) return []; // most items of a mailbox
    return hitsOf(candidates, segment, key, includeContext, min);
  };

  return {
    scan: (segment, min = 'low') => evaluate(segment, false, min),
    scanAll: (segment, min = 'low') => evaluate(segment, true, min),
    redact: createRedactor(rules, index, env, finder),
  };
}
