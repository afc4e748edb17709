/** Reads rule files (IO at the edge), validates them with zod, and compiles them. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ScanError, describeFsError } from '../shared/errors.js';
import { compileRules, type Rule } from './compile.js';
import { RuleFileSchema, formatIssues, type RuleFile } from './schema.js';

/** `rules/` at the package root: from src/rules/ (tsx) and dist/rules/ (built) alike. */
export const BUNDLED_RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

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

/** Parses one file's text; returns the rule or `file: path: message` errors. */
export function parseRuleFile(file: string, text: string): { rule?: RuleFile; errors: string[] } {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { errors: doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`) };
  }
  const result = RuleFileSchema.safeParse(doc.toJS());
  if (!result.success) return { errors: formatIssues(result.error).map((m) => `${file}: ${m}`) };
  return { rule: result.data, errors: [] };
}

/**
 * Loads every `*.yaml` in the given folders. Any invalid file is a configuration error
 * (exit 2) that names the file, the path inside it and what is wrong.
 * Bundled rules are checked for backtracking by the test suite; folders from users at load.
 */
export async function loadRules(dirs: readonly string[]): Promise<LoadedRules> {
  const parsed: { file: string; rule: RuleFile }[] = [];
  const errors: string[] = [];
  let checkRedos = false;
  for (const dir of dirs) {
    if (path.resolve(dir) !== path.resolve(BUNDLED_RULES_DIR)) checkRedos = true;
    for (const { file, text } of await readRuleFiles(dir)) {
      const { rule, errors: fileErrors } = parseRuleFile(file, text);
      errors.push(...fileErrors);
      if (rule) parsed.push({ file, rule });
    }
  }
  const compiled = compileRules(parsed, { checkRedos });
  errors.push(...compiled.errors);
  if (errors.length > 0) {
    throw new ScanError('config', `invalid rules:\n  ${errors.join('\n  ')}`);
  }
  return { rules: compiled.rules, warnings: compiled.warnings };
}
