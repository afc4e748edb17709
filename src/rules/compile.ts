/**
 * Written form → compiled form. Pure: builds the RegExps, resolves detector ids, checks the
 * rules against each other, and returns every error and warning instead of stopping at the first.
 */
import { isSafe } from 'redos-detector';
import type { Category, Confidence } from '../model/finding.js';
import { detectorsById, type Detector } from '../detectors/index.js';
import type { RuleFile } from './schema.js';

export interface CompiledPattern {
  readonly name: string;
  readonly regex: RegExp;
  readonly score: number;
  readonly requireContext: boolean;
}

export interface CompiledWords {
  /** All words in one case-insensitive alternation with ASCII word boundaries. */
  readonly regex: RegExp;
}

export interface Rule {
  readonly id: string;
  readonly category: Category;
  readonly detector: Detector;
  readonly patterns: readonly CompiledPattern[];
  readonly context?: CompiledWords & { labelWindow: number; labelBoost: number; window: number; nearBoost: number };
  readonly negative?: CompiledWords & { window: number; penalty: number };
  readonly allow: ReadonlySet<string>;
  readonly minConfidence: Confidence;
  readonly examples: RuleFile['examples'];
  /** The file it came from, for messages. */
  readonly file: string;
}

export interface CompileResult {
  readonly rules: Rule[];
  readonly errors: string[];
  readonly warnings: string[];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Keywords match as whole words, case-insensitively; a space inside a keyword also matches
 * `_`, `-`, a line break or nothing (Macie's normalization), so `social security` finds
 * `Social-Security` and `SOCIAL_SECURITY`.
 */
export function compileWords(words: readonly string[]): RegExp {
  const alternatives = [...new Set(words.map((w) => w.trim().toLowerCase()))]
    .sort((a, b) => b.length - a.length) // longest first, so `social security number` wins over `social security`
    .map((w) => {
      const body = w.split(/\s+/).map(escapeRegex).join('[\\s_-]{0,3}');
      // Word boundaries only where the keyword itself starts or ends with a letter or digit:
      // `ss#` must still match in `SS#536904399`.
      const before = /^[a-z0-9]/.test(w) ? '(?<![A-Za-z0-9])' : '';
      const after = /[a-z0-9]$/.test(w) ? '(?![A-Za-z0-9])' : '';
      return `${before}${body}${after}`;
    });
  return new RegExp(`(?:${alternatives.join('|')})`, 'gi');
}

export interface CompileOptions {
  /** Check user-written regexes for catastrophic backtracking (slow: ~0.1 s a pattern). */
  readonly checkRedos: boolean;
}

export function compileRules(files: readonly { file: string; rule: RuleFile }[], options: CompileOptions): CompileResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const rules: Rule[] = [];
  const seen = new Map<string, string>();

  for (const { file, rule } of files) {
    const where = `${file} (rule ${rule.id})`;
    const previous = seen.get(rule.id);
    if (previous) {
      errors.push(`${where}: id: rule id '${rule.id}' is already defined in ${previous}`);
      continue;
    }
    seen.set(rule.id, file);
    const detector = detectorsById.get(rule.detector);
    if (!detector) {
      errors.push(`${where}: detector: unknown detector '${rule.detector}' (known: ${[...detectorsById.keys()].join(', ')})`);
      continue;
    }
    const patterns: CompiledPattern[] = [];
    rule.patterns.forEach((p, i) => {
      let regex: RegExp;
      try {
        regex = new RegExp(p.regex, `g${p.flags}`);
      } catch (err) {
        errors.push(`${where}: patterns.${i}.regex: not a valid regular expression (${(err as Error).message})`);
        return;
      }
      if (regex.test('')) {
        errors.push(`${where}: patterns.${i}.regex: matches the empty string`);
        return;
      }
      regex.lastIndex = 0;
      if (options.checkRedos) {
        const verdict = isSafe(regex, { maxSteps: 2000, timeout: 2000 });
        if (!verdict.safe) {
          errors.push(`${where}: patterns.${i}.regex: may backtrack catastrophically (${verdict.error ?? 'unsafe'}); use linear constructs`);
          return;
        }
      }
      patterns.push({ name: p.name, regex, score: p.score, requireContext: p.requireContext });
    });
    if (patterns.some((p) => p.requireContext) && !rule.context) {
      errors.push(`${where}: context: a pattern has requireContext but the rule has no context words`);
    }
    const allow = new Set(rule.allow.map((v) => detector.normalize(v)));
    rules.push({
      id: rule.id,
      category: rule.category,
      detector,
      patterns,
      ...(rule.context ? { context: { ...rule.context, regex: compileWords(rule.context.words) } } : {}),
      ...(rule.negative ? { negative: { ...rule.negative, regex: compileWords(rule.negative.words) } } : {}),
      allow,
      minConfidence: rule.minConfidence,
      examples: rule.examples,
      file,
    });
  }
  if (files.length === 0) warnings.push('no rule files found: nothing will be detected');
  return { rules, errors, warnings };
}
