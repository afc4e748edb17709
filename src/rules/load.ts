/** Reads rule files (IO at the edge), validates them with zod, and compiles them. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSeq, parseDocument, visit, type Document } from 'yaml';
import { ScanError, describeFsError } from '../common/errors.js';
import { compileRules, type Rule } from './compile.js';
import { AllowlistFileSchema, RuleFileSchema, formatIssues, type AllowlistFile, type RuleFile } from './schema.js';

/** `rules/` at the package root: from src/rules/ (tsx) and dist/rules/ (built) alike. */
export const BUNDLED_RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** `--rules builtin` (or none) is the bundled rules/ folder. */
export function rulesDirs(given: readonly string[] | undefined): string[] {
  if (!given || given.length === 0) return [BUNDLED_RULES_DIR];
  return given.map((d) => (d === 'builtin' ? BUNDLED_RULES_DIR : d));
}

export interface LoadedRules {
  readonly rules: Rule[];
  readonly warnings: string[];
}

async function readRuleFiles(dir: string): Promise<{ file: string; text: string }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  } catch (err) {
    const e = describeFsError(err, dir);
    throw new ScanError('config', `rules: ${e.message}`, { path: dir });
  }
  return Promise.all(
    names.map(async (n) => {
      const file = path.join(dir, n);
      return { file, text: await readFile(file, 'utf8') };
    }),
  );
}

/**
 * `- group #` in a keyword list is `group` plus an empty YAML comment: the `#` that the writer
 * meant as part of the keyword is silently dropped. A list item followed by a comment with no
 * letter or digit in it is almost certainly that mistake.
 */
function commentTraps(file: string, text: string, doc: Document): string[] {
  const warnings: string[] = [];
  visit(doc, {
    Scalar(_key, node, path) {
      const parent = path[path.length - 1];
      const comment = node.comment;
      if (!isSeq(parent) || comment === undefined || comment === null || /[\p{L}\p{N}]/u.test(comment)) return;
      const line = node.range ? text.slice(0, node.range[0]).split('\n').length : 0;
      const meant = `${String(node.value)} #${comment.trimEnd()}`;
      warnings.push(`${file}:${line}: '${meant}' reads as '${String(node.value)}' and a comment; write '${meant.replace(/'/g, "''")}' in quotes if the # is part of it`);
    },
  });
  return warnings;
}

export interface ParsedRuleFile {
  readonly rule?: RuleFile;
  readonly allowlist?: AllowlistFile;
  readonly errors: string[];
  readonly warnings: string[];
}

/** Parses one file's text; returns the rule (or allowlist) or `file: path: message` errors. */
export function parseRuleFile(file: string, text: string): ParsedRuleFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { errors: doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`), warnings: [] };
  }
  const warnings = commentTraps(file, text, doc);
  const data: unknown = doc.toJS();
  if (typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'allowlist') {
    const result = AllowlistFileSchema.safeParse(data);
    if (!result.success) return { errors: formatIssues(result.error).map((m) => `${file}: ${m}`), warnings };
    return { allowlist: result.data, errors: [], warnings };
  }
  const result = RuleFileSchema.safeParse(data);
  if (!result.success) return { errors: formatIssues(result.error).map((m) => `${file}: ${m}`), warnings };
  return { rule: result.data, errors: [], warnings };
}

/**
 * Loads every `*.yaml` in the given folders. Any invalid file is a configuration error
 * (exit 2) that names the file, the path inside it and what is wrong.
 * Bundled rules are checked for backtracking by the test suite; folders from users at load.
 */
export async function loadRules(dirs: readonly string[]): Promise<LoadedRules> {
  const parsed: { file: string; rule: RuleFile }[] = [];
  const allowlists: { file: string; allowlist: AllowlistFile }[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  let checkRedos = false;
  for (const dir of dirs) {
    if (path.resolve(dir) !== path.resolve(BUNDLED_RULES_DIR)) checkRedos = true;
    for (const { file, text } of await readRuleFiles(dir)) {
      const { rule, allowlist, errors: fileErrors, warnings: fileWarnings } = parseRuleFile(file, text);
      errors.push(...fileErrors);
      warnings.push(...fileWarnings);
      if (rule) parsed.push({ file, rule });
      if (allowlist) allowlists.push({ file, allowlist });
    }
  }
  const compiled = compileRules(parsed, { checkRedos });
  errors.push(...compiled.errors);
  const allowed = applyAllowlists(compiled.rules, allowlists);
  errors.push(...allowed.errors);
  if (errors.length > 0) {
    throw new ScanError('config', `invalid rules:\n  ${errors.join('\n  ')}`);
  }
  return { rules: allowed.rules, warnings: [...warnings, ...compiled.warnings] };
}

/** Adds allowlist values to the rules they name (each value normalized as that rule's detector does). */
function applyAllowlists(rules: readonly Rule[], allowlists: readonly { file: string; allowlist: AllowlistFile }[]): { rules: Rule[]; errors: string[] } {
  const errors: string[] = [];
  const ids = new Set(rules.map((r) => r.id));
  const extra = new Map<string, string[]>();
  for (const { file, allowlist } of allowlists) {
    allowlist.entries.forEach((entry, i) => {
      for (const id of entry.rules ?? []) if (!ids.has(id)) errors.push(`${file}: entries.${i}.rules: unknown rule '${id}'`);
      for (const rule of rules) {
        if (entry.rules && !entry.rules.includes(rule.id)) continue;
        extra.set(rule.id, [...(extra.get(rule.id) ?? []), ...entry.values.map((v) => rule.detector.normalize(v))]);
      }
    });
  }
  return { rules: rules.map((r) => (extra.has(r.id) ? { ...r, allow: new Set([...r.allow, ...(extra.get(r.id) ?? [])]) } : r)), errors };
}
