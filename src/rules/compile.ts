/**
 * Written form → compiled form. Pure: builds the RegExps, resolves detector ids, checks the
 * rules against each other, and returns every error and warning instead of stopping at the first.
 */
import type { Category, Confidence } from '../model/finding.js';
import { detectorsById, type Detector } from '../detectors/index.js';
import { PATTERN_DETECTOR_ID, patternDetector } from '../detectors/pattern.js';
import type { RuleFile, Signal } from './schema.js';
import { requiredLiteral } from './literal.js';
import { backtrackingRisk } from './safety.js';

export interface CompiledPattern {
  readonly name: string;
  readonly regex: RegExp;
  readonly score: number;
  readonly requireContext: boolean;
  readonly requireLabel: boolean;
  /** A literal every match contains (see literal.ts): a text without it is not searched. */
  readonly literal?: string;
}

export interface Rule {
  readonly id: string;
  readonly category: Category;
  readonly detector: Detector;
  readonly role: 'identifier' | 'health' | 'context';
  readonly signals: ReadonlySet<Signal>;
  /** Its keywords alone make an item worth reading (see the schema). */
  readonly gate: boolean;
  readonly patterns: readonly CompiledPattern[];
  /** Keywords are canonical: lower case, one space between words (see `canonicalWord`). */
  readonly context?: {
    readonly strong: ReadonlySet<string>;
    readonly weak: ReadonlySet<string>;
    readonly weakConfirmedBy: readonly Signal[];
    readonly labelWindow: number;
    readonly labelBoost: number;
    readonly window: number;
    readonly nearBoost: number;
  };
  readonly negative?: {
    readonly words: ReadonlySet<string>;
    readonly window: number;
    readonly penalty: number;
    readonly strong: boolean;
    /** Negative labels that count anywhere on the value's line (also in `words`). */
    readonly sameLine: ReadonlySet<string>;
  };
  readonly dictionary?: { readonly terms: ReadonlySet<string>; readonly score: number };
  readonly corroboration?: { readonly identifier: number; readonly health: number; readonly insurance: number; readonly requires: readonly Signal[] };
  readonly allow: ReadonlySet<string>;
  readonly minConfidence: Confidence;
  readonly examples: RuleFile['examples'];
  /** The file it came from, for messages. */
  readonly file: string;
  /** The validated written form it was compiled from: plain data, so worker threads can rebuild the rule. */
  readonly definition: RuleFile;
}

export interface CompileResult {
  readonly rules: Rule[];
  readonly errors: string[];
  readonly warnings: string[];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Keywords compare in this form: lower case, runs of space, `_` and `-` as one space. */
export function canonicalWord(w: string): string {
  return w.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

/**
 * The regex source for one canonical keyword. Words match whole, case-insensitively; a space in
 * a keyword also matches `_`, `-`, a line break or nothing (Macie's normalization), so `social
 * security` finds `Social-Security` and `SOCIAL_SECURITY`. Boundaries apply only where the
 * keyword itself starts or ends with a letter or digit: `ss#` must still match in `SS#536904399`.
 */
export function wordSource(word: string): string {
  const canonical = canonicalWord(word);
  const body = [...canonical].map((ch) => (ch === ' ' ? '[\\s_-]{0,3}' : escapeRegex(ch))).join('');
  const before = /^[a-z0-9]/.test(canonical) ? '(?<![A-Za-z0-9])' : '';
  const after = /[a-z0-9]$/.test(canonical) ? '(?![A-Za-z0-9])' : '';
  return `${before}${body}${after}`;
}

export interface CompileOptions {
  /** Check user-written regexes for catastrophic backtracking (slow: ~0.1 s a pattern); a file's own `checkRedos` wins. */
  readonly checkRedos: boolean;
}

export function compileRules(files: readonly { file: string; rule: RuleFile; checkRedos?: boolean }[], options: CompileOptions): CompileResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const rules: Rule[] = [];
  const seen = new Map<string, string>();

  for (const { file, rule, checkRedos = options.checkRedos } of files) {
    const where = `${file} (rule ${rule.id})`;
    const previous = seen.get(rule.id);
    if (previous) {
      errors.push(`${where}: id: rule id '${rule.id}' is already defined in ${previous}`);
      continue;
    }
    seen.set(rule.id, file);
    const detector = resolveDetector(rule);
    if (typeof detector === 'string') {
      errors.push(`${where}: ${detector}`);
      continue;
    }
    const patterns: CompiledPattern[] = [];
    rule.patterns.forEach((p, i) => {
      let regex: RegExp;
      try {
        // A pattern may name the value `(?<value>...)` and match its anchor around it, so it can
        // start with a literal (`REF\*SY\*`), which V8 finds far faster than a leading lookbehind.
        regex = new RegExp(p.regex, `g${p.flags}${p.regex.includes('(?<value>') ? 'd' : ''}`);
      } catch (err) {
        errors.push(`${where}: patterns.${i}.regex: not a valid regular expression (${(err as Error).message})`);
        return;
      }
      if (regex.test('')) {
        errors.push(`${where}: patterns.${i}.regex: matches the empty string`);
        return;
      }
      regex.lastIndex = 0;
      if (checkRedos) {
        const risk = backtrackingRisk(regex);
        if (risk) {
          errors.push(`${where}: patterns.${i}.regex: may backtrack catastrophically (${risk}); use linear constructs`);
          return;
        }
      }
      const literal = requiredLiteral(regex);
      patterns.push({ name: p.name, regex, score: p.score, requireContext: p.requireContext, requireLabel: p.requireLabel, ...(literal ? { literal } : {}) });
    });
    if (patterns.some((p) => p.requireContext || p.requireLabel) && !rule.context) {
      errors.push(`${where}: context: a pattern requires context but the rule has no context words`);
    }
    const allow = new Set(rule.allow.map((v) => detector.normalize(v)));
    const words = (list: readonly string[]): Set<string> => new Set(list.map(canonicalWord).filter((w) => w !== ''));
    rules.push({
      id: rule.id,
      category: rule.category,
      detector,
      role: rule.role,
      signals: new Set(rule.signals),
      gate: rule.gate,
      patterns,
      ...(rule.context
        ? {
            context: {
              strong: words(rule.context.words),
              weak: words(rule.context.weakWords),
              weakConfirmedBy: rule.context.weakConfirmedBy,
              labelWindow: rule.context.labelWindow,
              labelBoost: rule.context.labelBoost,
              window: rule.context.window,
              nearBoost: rule.context.nearBoost,
            },
          }
        : {}),
      ...(rule.negative
        ? {
            negative: {
              words: words([...rule.negative.words, ...rule.negative.sameLine]),
              window: rule.negative.window,
              penalty: rule.negative.penalty,
              strong: rule.negative.strong,
              sameLine: words(rule.negative.sameLine),
            },
          }
        : {}),
      ...(rule.dictionary.length > 0 ? { dictionary: { terms: words(rule.dictionary), score: rule.dictionaryScore } } : {}),
      ...(rule.corroboration ? { corroboration: rule.corroboration } : {}),
      allow,
      minConfidence: rule.minConfidence,
      examples: rule.examples,
      file,
      definition: rule,
    });
  }
  if (files.length === 0) warnings.push('no rule files found: nothing will be detected');
  return { rules, errors, warnings };
}

/** The rule's detector, or what is wrong (`detector: pattern` is built per rule from its validators). */
function resolveDetector(rule: RuleFile): Detector | string {
  if (rule.detector === PATTERN_DETECTOR_ID) {
    const built = patternDetector(rule.validate ?? [], detectorsById);
    return typeof built === 'string' ? `validate: ${built}` : built;
  }
  if (rule.validate) return `validate: only a rule with detector: ${PATTERN_DETECTOR_ID} takes validators (detector '${rule.detector}' has its own checks)`;
  return detectorsById.get(rule.detector) ?? `detector: unknown detector '${rule.detector}' (known: ${[...detectorsById.keys(), PATTERN_DETECTOR_ID].join(', ')})`;
}

/**
 * A compiled rule as plain (structured-clonable) data: RegExps and detector functions do not
 * cross to a worker thread, so the worker compiles the same definitions again. `allow` is the
 * final set (allowlist files applied), carried as it is.
 */
export interface RuleData {
  readonly file: string;
  readonly definition: RuleFile;
  readonly allow: readonly string[];
}

export function ruleData(rules: readonly Rule[]): RuleData[] {
  return rules.map((r) => ({ file: r.file, definition: r.definition, allow: [...r.allow] }));
}

/** The rules `ruleData` came from, compiled again (already validated: no ReDoS check, no warnings). */
export function rulesFromData(data: readonly RuleData[]): Rule[] {
  const { rules, errors } = compileRules(
    data.map((d) => ({ file: d.file, rule: d.definition })),
    { checkRedos: false },
  );
  if (errors.length > 0 || rules.length !== data.length) throw new Error(`rules could not be rebuilt: ${errors[0] ?? 'rule count differs'}`);
  return rules.map((r, i) => ({ ...r, allow: new Set(data[i]?.allow ?? []) }));
}
