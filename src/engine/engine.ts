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
import { createCandidateFinder, type Candidate } from './candidates.js';
import { SegmentFacts } from './context.js';
import { hitsOf, spansOf, type EngineHit, type HitFilter, type HitSpan } from './findings.js';
import { itemSignals, type ItemSignals } from './scoring.js';
import { createRedactor } from './redact.js';
import type { PrescanFallback } from './prescan.js';
import { PRESCAN_LAYOUT } from './wasm/layout.js';

export { LEVELS, levelOf } from './scoring.js';
export { partOfAName } from './context.js';
export { unglue } from './redact.js';
export type { EngineHit, HitSpan } from './findings.js';
export type { PrescanFallback } from './prescan.js';

/**
 * Something a person running a scan should know about the engine itself (never about the
 * mail): given once, when the engine is made. Carries a code and a reason, no value.
 */
export interface EngineWarning {
  /** The WebAssembly prescan is off: the same findings come from the JavaScript one, slower. */
  readonly code: 'prescan-javascript';
  readonly reason: PrescanFallback;
  /** One line for a person. */
  readonly message: string;
}

const FALLBACK_WHY: Readonly<Record<PrescanFallback, string>> = {
  'no-webassembly': 'this Node.js runs without WebAssembly (--jitless?)',
  'module-failed': 'its WebAssembly module did not load',
  'marker-prefix': 'the disclaimer prefix is not eight characters long',
  'too-many-keyword-lists': `the rules' keywords start with more than ${PRESCAN_LAYOUT.WORD_SLOTS / 2} different words`,
  'long-first-word': 'a keyword of the rules starts with a word of 64 characters or more',
  'unicode-spaces': 'normalization keeps more than one Unicode space',
};

function prescanWarning(reason: PrescanFallback): EngineWarning {
  return {
    code: 'prescan-javascript',
    reason,
    message: `the fast (WebAssembly) prescan is off because ${FALLBACK_WHY[reason]}: findings are the same, the scan is slower`,
  };
}

/** One reading of a segment (prescan and candidates done once), asked for hits as often as needed. */
export interface Reading {
  /**
   * Hits at or above `min`: by default what `scan` reports; with `rules`, the hits of the rules
   * it picks, context-only rules included (as `scanAll` gives them).
   */
  hits(min: Confidence, rules?: (ruleId: string) => boolean): EngineHit[];
  /** Where `hits(min, rules)` are, and of which rule: no masked value, fingerprint or explanation made. */
  spans(min: Confidence, rules: (ruleId: string) => boolean): HitSpan[];
}

export interface Engine {
  /** Reported findings (identifiers and corroborated health context) at or above `min` (default `low`). */
  scan(segment: Segment, min?: Confidence): EngineHit[];
  /**
   * The segment read once for several questions (people/message.ts: the findings, then the
   * names among them at `low`): `read(s).hits(min)` is `scan(s, min)`, and
   * `read(s).hits('low', pick)` is `scanAll(s, 'low')` of the picked rules wherever `scan` found
   * something (where it found nothing, it gives nothing).
   */
  read(segment: Segment): Reading;
  /** Like `scan`, plus the hits of context-only rules (NPI, DEA, payers): for `rules test` and rule examples. */
  scanAll(segment: Segment, min?: Confidence): EngineHit[];
  /** The text with every identifier candidate masked, whatever its context (subjects, attachment names); SSN shapes even when invalid. */
  redact(text: string): string;
  /** What the engine found about itself when made (see EngineWarning); empty when all is well. */
  readonly warnings: readonly EngineWarning[];
}

export interface EngineOptions {
  /** "Now" for date checks (a birth date is not in the future). Default: when the engine is created. */
  readonly today?: Date;
  /** The prescan in JavaScript instead of WebAssembly (tests compare the two). */
  readonly javascriptPrescan?: boolean;
  /** Called once per warning when the engine is made (the same as `warnings`), e.g. to print it. */
  readonly onWarning?: (warning: EngineWarning) => void;
}

/** What `scan` reports: every rule but the context-only ones (NPI, DEA, payers, names). */
const REPORTED: HitFilter = (rule) => rule.role !== 'context';
const ALL: HitFilter = () => true;
const NOTHING: Reading = { hits: () => [], spans: () => [] };

export function createEngine(rules: readonly Rule[], key: FingerprintKey, options: EngineOptions = {}): Engine {
  const index = buildKeywordIndex(rules);
  const env: DetectorEnv = { today: options.today ?? new Date() };
  const finder = createCandidateFinder(rules, index, env, { javascriptPrescan: options.javascriptPrescan === true });
  // Asked-for JavaScript (tests, benchmarks) is no warning; a silent fallback would be.
  const warnings = finder.prescanner.fallback ? [prescanWarning(finder.prescanner.fallback)] : [];
  for (const w of warnings) options.onWarning?.(w);

  const candidatesOf = (segment: Segment, includeContext: boolean): Candidate[] => {
    const pre = finder.prescanner.scan(segment.text);
    if (!finder.worthReading(pre, includeContext)) return [];
    const facts = new SegmentFacts(pre.text, pre.keywords, index, pre.maybeDisclaimer);
    return finder.candidatesOf(facts, pre, includeContext);
  };
  const read = (segment: Segment): Reading => {
    const candidates = candidatesOf(segment, false);
    if (candidates.length === 0) return NOTHING; // most items of a mailbox
    // What the rules found in the item, worked out for the first question and kept for the next.
    let signals: ItemSignals | undefined;
    const signalsOf = (): ItemSignals => (signals ??= itemSignals(candidates));
    return {
      hits: (min, rules) => hitsOf(candidates, signalsOf(), segment, key, rules ? (r) => rules(r.id) : REPORTED, min),
      spans: (min, rules) => spansOf(candidates, signalsOf(), (r) => rules(r.id), min),
    };
  };

  return {
    scan: (segment, min = 'low') => read(segment).hits(min),
    read,
    scanAll: (segment, min = 'low') => {
      const candidates = candidatesOf(segment, true);
      return candidates.length === 0 ? [] : hitsOf(candidates, itemSignals(candidates), segment, key, ALL, min);
    },
    redact: createRedactor(rules, index, env, finder),
    warnings,
  };
}
