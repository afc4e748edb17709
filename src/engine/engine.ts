/**
 * The rule engine: Segment → Finding[]. Pure and synchronous: no IO, no clock, no logger.
 *
 * Per rule and pattern: regex candidate → detector normalize/check (invalid → dropped) →
 * allowlist → context (LABEL just before, NEAR within a window, NEG just before) → score →
 * confidence level. Findings are deduplicated per rule and normalized value, keeping the best.
 */
import type { Confidence, Explanation, Finding } from '../model/finding.js';
import type { Segment } from '../model/segment.js';
import type { Rule } from '../rules/compile.js';
import { fingerprint, type FingerprintKey } from '../findings/fingerprint.js';
import { normalizeText } from './normalize.js';

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

interface WordHit {
  readonly start: number;
  readonly end: number;
  readonly word: string;
}

function findWords(regex: RegExp, text: string): WordHit[] {
  const hits: WordHit[] = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    hits.push({ start: m.index, end: m.index + m[0].length, word: m[0].toLowerCase().replace(/[\s_-]+/g, ' ') });
  }
  return hits;
}

/** A label on the line above: `SSN:` then the value on the next line. */
const LABEL_ON_LINE_ABOVE = /^[ \t]*[:#.-]?[ \t]*\r?\n[ \t]*$/;

/** LABEL: the closest keyword ending at most `window` characters before the value, on its line or alone on the line above. */
function labelBefore(hits: readonly WordHit[], text: string, start: number, window: number): WordHit | undefined {
  for (let i = hits.length - 1; i >= 0; i--) {
    const h = hits[i] as WordHit;
    if (h.end > start) continue;
    if (start - h.end > window) return undefined;
    const gap = text.slice(h.end, start);
    return !gap.includes('\n') || LABEL_ON_LINE_ABOVE.test(gap) ? h : undefined;
  }
  return undefined;
}

function nearby(hits: readonly WordHit[], start: number, end: number, window: number): WordHit | undefined {
  for (const h of hits) {
    if (h.end >= start - window && h.start <= end + window) return h;
  }
  return undefined;
}

/** A negative label shortly before the value on the same line, not overridden by a closer label. */
function negativeBefore(hits: readonly WordHit[], text: string, start: number, window: number): WordHit | undefined {
  for (let i = hits.length - 1; i >= 0; i--) {
    const h = hits[i] as WordHit;
    if (h.end > start) continue;
    if (start - h.end > window) return undefined;
    return text.slice(h.end, start).includes('\n') ? undefined : h;
  }
  return undefined;
}

export interface EngineHit {
  readonly finding: Finding;
  /** Offsets in the normalized segment text (see `normalizeText`). */
  readonly start: number;
  readonly end: number;
}

export interface Engine {
  /** Findings of every rule at or above `low`, one per rule and value (the best of its hits). */
  scan(segment: Segment): EngineHit[];
  /** The segment text with every candidate of every rule masked, valid or not (for subjects). */
  redact(text: string): string;
}

export function createEngine(rules: readonly Rule[], key: FingerprintKey): Engine {
  return {
    scan(segment: Segment): EngineHit[] {
      const text = normalizeText(segment.text);
      const best = new Map<string, EngineHit>();
      for (const rule of rules) {
        let context: WordHit[] | undefined;
        let negatives: WordHit[] | undefined;
        for (const pattern of rule.patterns) {
          const regex = pattern.regex;
          regex.lastIndex = 0;
          for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
            const match = m[0];
            const start = m.index;
            const end = start + match.length;
            const normalized = rule.detector.normalize(match);
            const verdict = rule.detector.check(normalized);
            if (verdict.kind === 'invalid') continue;
            if (rule.allow.has(normalized)) continue;

            let score = pattern.score;
            let label: WordHit | undefined;
            let near: WordHit | undefined;
            let negative: WordHit | undefined;
            if (rule.context) {
              context ??= findWords(rule.context.regex, text);
              label = labelBefore(context, text, start, rule.context.labelWindow);
              if (label) score += rule.context.labelBoost;
              else {
                near = nearby(context, start, end, rule.context.window);
                if (near) score += rule.context.nearBoost;
              }
            }
            if (pattern.requireContext && !label && !near) continue;
            if (rule.negative && !label) {
              negatives ??= findWords(rule.negative.regex, text);
              negative = negativeBefore(negatives, text, start, rule.negative.window);
              if (negative) score -= rule.negative.penalty;
            }
            score = Math.min(1, Math.max(0, score));
            const confidence = levelOf(score);
            if (!confidence) continue;

            const dedupeKey = `${rule.id}\0${normalized}`;
            const previous = best.get(dedupeKey);
            if (previous && previous.finding.score >= score) continue;
            const why: Explanation = {
              pattern: pattern.name,
              verdict: verdict.kind,
              baseScore: pattern.score,
              score,
              ...(label ? { label: label.word } : {}),
              ...(near ? { nearKeyword: near.word } : {}),
              ...(negative ? { negative: negative.word } : {}),
            };
            best.set(dedupeKey, {
              start,
              end,
              finding: {
                rule: rule.id,
                category: rule.category,
                confidence,
                score,
                location: segment.location,
                masked: rule.detector.mask(match, normalized),
                fingerprint: fingerprint(key, rule.category, normalized),
                why,
              },
            });
          }
        }
      }
      return [...best.values()].sort((a, b) => a.start - b.start);
    },

    redact(input: string): string {
      const text = normalizeText(input);
      const spans: { start: number; end: number; masked: string }[] = [];
      for (const rule of rules) {
        for (const pattern of rule.patterns) {
          const regex = pattern.regex;
          regex.lastIndex = 0;
          for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
            spans.push({ start: m.index, end: m.index + m[0].length, masked: rule.detector.mask(m[0], rule.detector.normalize(m[0])) });
          }
        }
      }
      spans.sort((a, b) => a.start - b.start || b.end - a.end);
      let out = '';
      let pos = 0;
      for (const s of spans) {
        if (s.start < pos) continue; // overlapping candidate: already covered
        out += text.slice(pos, s.start) + s.masked;
        pos = s.end;
      }
      return out + text.slice(pos);
    },
  };
}
