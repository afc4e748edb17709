/**
 * Redaction of short texts written out (subjects, attachment and folder names): every identifier
 * candidate and person name where its label puts it is masked, whatever its context, and every
 * SSN shape even when the rules would not report it.
 */
import type { DetectorEnv } from '../detectors/types.js';
import type { Rule } from '../rules/compile.js';
import { SSN_SHAPE, maskSsnShapes } from '../findings/names.js';
import type { KeywordIndex } from './keywords.js';
import { forEachMatch, type CandidateFinder, type RulePlan } from './candidates.js';
import { regionsFor, SegmentFacts } from './context.js';

/** The whole value is an SSN's shape (the one definition, SSN_SHAPE, anchored). */
const WHOLE_SSN_SHAPE = new RegExp(`^(?:${SSN_SHAPE.source})$`);

/**
 * The same text, same length, with a `_`, `=`, `:` or `-` between a letter and a digit, and every
 * `_` and `=`, made a space: `SSN_512-84-3921`, `ssn=512843921`, `SSN-512-84-3921` then read as a
 * label and a value. Used only to redact (names, subjects), never to find.
 */
export function unglue(text: string): string {
  return text.replace(/[_=]|(?<=[A-Za-z])[-:](?=\d)/g, ' ');
}

export function createRedactor(rules: readonly Rule[], index: KeywordIndex, env: DetectorEnv, finder: CandidateFinder): (input: string) => string {
  const { prescanner, mayMatch } = finder;
  return (input: string): string => {
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
      for (const { pattern, bit, source } of (finder.plans[ruleIndex] as RulePlan).patterns) {
        // A date or an ID shape without its label is not an identifier: "invoice 2024-05-01" stays.
        if (source.requirement !== 'none' && !hasKeyword) continue;
        if (!mayMatch(pattern, bit, pre)) continue;
        // A name is any capitalized word: only where its label puts it (`Re: Last, First`, `Mrs. Last`).
        const regions = rule.signals.has('person') ? regionsFor(rule, ruleIndex, facts, index, 'label') : undefined;
        forEachMatch(pattern.regex, text, regions, (start, match) => {
          const normalized = rule.detector.normalize(match, env);
          // Only what could be an identifier: `URGENT` is shaped like an MRN but has no digits.
          if (rule.detector.check(normalized, env).kind === 'invalid' && !WHOLE_SSN_SHAPE.test(match)) return;
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
  };
}
