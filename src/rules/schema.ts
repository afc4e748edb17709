/**
 * The written form of a rule file, 1:1 with `rules/*.yaml`. zod parses it exactly as written;
 * `compile.ts` turns it into what the engine runs.
 */
import { z } from 'zod';
import { CATEGORIES, CONFIDENCES } from '../model/finding.js';

const Score = z.number().min(0).max(1);

export const PatternSchema = z.strictObject({
  /** Names the pattern in explanations (`why.pattern`). */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  /** A JavaScript regular expression; linear-time constructs only (checked at load). */
  regex: z.string().min(1),
  /** Explicit flags per pattern; never a global ignore-case. Only `i` and `u` are allowed. */
  flags: z.string().regex(/^[iu]*$/, 'only the flags i and u are allowed').default(''),
  /** Base score before context (0..1). */
  score: Score,
  /** Without a label or a nearby keyword this pattern reports nothing (e.g. bare 9 digits). */
  requireContext: z.boolean().default(false),
  /** Only with a LABEL (a keyword just before it, or a table column header): dates, member IDs. */
  requireLabel: z.boolean().default(false),
});

export const ContextSchema = z.strictObject({
  /** Keywords, matched case-insensitively as whole words; a space also matches `_`, `-` or nothing. */
  words: z.array(z.string().min(1)).min(1),
  /** LABEL: a keyword ending at most this many characters before the value (same line, or the line above ending in the keyword). */
  labelWindow: z.number().int().min(0).max(200).default(40),
  labelBoost: Score.default(0.5),
  /** NEAR: a keyword within this many characters either side (Purview uses 300). */
  window: z.number().int().min(0).max(1000).default(300),
  nearBoost: Score.default(0.3),
  /**
   * Ambiguous keywords (`dod` is also the Department of Defense, `born`, `group`): they label a
   * value only when the item also holds a signal in `weakConfirmedBy` from another rule.
   */
  weakWords: z.array(z.string().min(1)).default([]),
  /** What confirms a weak label: another rule's patient identifier by default; insurance rules add payers and card blocks. */
  weakConfirmedBy: z.array(z.enum(['identifier', 'health', 'insurance', 'person'])).default(['identifier']),
});

export const NegativeSchema = z.strictObject({
  /** Labels that say "this number is something else" (order, invoice, phone ...). */
  words: z.array(z.string().min(1)).min(1),
  /** A negative word ending at most this many characters before the value, on the same line. */
  window: z.number().int().min(0).max(200).default(30),
  penalty: Score.default(0.3),
  /** Also when a label of the rule is closer (`liability policy number`): the value is something else. */
  strong: z.boolean().default(false),
  /**
   * Words that say the value is something else wherever they sit on its line, before or after
   * (`MRN 4412339 - Material Return Number`: the acronym is defined as something else). They are
   * negative labels too (listed in `words` or not).
   */
  sameLine: z.array(z.string().min(1)).default([]),
});

/**
 * `person`: a person's name where mail names the one the PHI is about (`Patient:`, `Re: Last,
 * First`, `Mrs. Oakhurst`): never reported, it ties conditions and weakly labelled dates to someone.
 */
export const SIGNALS = ['identifier', 'health', 'insurance', 'person'] as const;
export type Signal = (typeof SIGNALS)[number];

export const CorroborationSchema = z.strictObject({
  /** Boost when another rule's patient identifier (at medium or above) is in the same item. */
  identifier: Score.default(0),
  /** Boost when health context (diagnosis, equipment, provider IDs, payers) is in the same item. */
  health: Score.default(0),
  /** Boost when insurance context (payer names, RxBIN/PCN card blocks) is in the same item. */
  insurance: Score.default(0),
  /** Nothing is reported unless the item holds at least one of these signals from another rule. */
  requires: z.array(z.enum(SIGNALS)).default([]),
});

export const ExamplesSchema = z.strictObject({
  /** Each must produce a finding (a signal, for context rules) of this rule at `medium` or above. */
  match: z.array(z.string()).min(1),
  /** None may produce a finding (signal) of this rule at `medium` or above. */
  noMatch: z.array(z.string()).min(1),
});

export const RuleFileSchema = z.strictObject({
  /** Stable rule id, reported as `rule` in findings. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  category: z.enum(CATEGORIES),
  /** The code half of the identifier type: normalization, validation, masking. */
  detector: z.string().min(1),
  /**
   * Only with `detector: pattern` (the generic detector for your own identifiers): checks a match
   * must pass, by name: `luhn`, `mod11`, `not-placeholder`, or an existing detector's check (`npi`,
   * `dea`, `ssn`, `mbi`, ...). Without it a match is unchecked and scored on pattern and context.
   */
  validate: z.array(z.string().min(1)).min(1).optional(),
  description: z.string().min(1),
  /**
   * `identifier`: a patient identifier, reported. `health`: health meaning (diagnoses, equipment),
   * reported when corroborated. `context`: never reported, only corroborates (NPI, DEA, payers).
   */
  role: z.enum(['identifier', 'health', 'context']).default('identifier'),
  /**
   * Whether this rule's keywords alone make an item worth reading. `false` for rules that only
   * ever back up others (names after `Name:`, `Mr.`, `Re:`; plan names): their words are in most
   * mail, and an item that holds nothing else is skipped at once, as before they existed.
   */
  gate: z.boolean().default(true),
  /** What this rule's hits tell the other rules of the same item. */
  signals: z.array(z.enum(SIGNALS)).default([]),
  patterns: z.array(PatternSchema).default([]),
  /** Terms matched as whole words, case-insensitively (conditions, equipment, payers). */
  dictionary: z.array(z.string().min(1)).default([]),
  /** Base score of a dictionary term. */
  dictionaryScore: Score.default(0.5),
  corroboration: CorroborationSchema.optional(),
  context: ContextSchema.optional(),
  negative: NegativeSchema.optional(),
  /** Known sample and test values; compared after normalization, never reported. */
  allow: z.array(z.string()).default([]),
  /** Score thresholds are global; a rule may only raise its own floor. */
  minConfidence: z.enum(CONFIDENCES).default('low'),
  examples: ExamplesSchema,
}).refine((r) => r.patterns.length > 0 || r.dictionary.length > 0, { message: 'a rule needs patterns or a dictionary', path: ['patterns'] });

export type RuleFile = z.infer<typeof RuleFileSchema>;
export type PatternSpec = z.infer<typeof PatternSchema>;

/** zod issues flattened to `path: message` lines for people. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
}

/**
 * An allowlist file: values that are never findings (the organization's own test patients,
 * training-deck samples). Kept in the user's own rules folder, beside or instead of new rules.
 */
export const AllowlistFileSchema = z.strictObject({
  kind: z.literal('allowlist'),
  description: z.string().optional(),
  entries: z
    .array(
      z.strictObject({
        /** Rule ids the values apply to; omitted: every rule. */
        rules: z.array(z.string()).optional(),
        /** Values as written anywhere; compared after each rule's normalization. */
        values: z.array(z.string().min(1)).min(1),
      }),
    )
    .min(1),
});

export type AllowlistFile = z.infer<typeof AllowlistFileSchema>;
