/**
 * Reads rule files (IO at the edge), validates them with zod, and compiles them.
 *
 * Reading the YAML is a third of a second per process (most of it the `yaml` package warming up),
 * paid by every `phi-scan` command. So the build (`npm run build`) stores what YAML reading gives
 * for the bundled rules in dist/rules/rules-cache.json, under a key that is the SHA-256 of every
 * rule file's name and text, of this module's own code and of the `yaml` version: a folder whose
 * files hash to that key (the bundled rules, or a copy of them) is read from it, anything else is
 * parsed. Either way zod validates and compile.ts compiles at every load, so the cache holds
 * nothing that the rule files do not say. Only the build writes it, from the bundled rules (no
 * user rule ever lands on disk); a process keeps what it read in memory under the same key.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { Document } from 'yaml';
import { z } from 'zod';
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
  const { isSeq, visit } = yaml();
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

const requireHere = createRequire(import.meta.url);
/** The `yaml` package, loaded on the first parse: a process that reads the rules from the cache never needs it. */
const yaml = (): typeof import('yaml') => requireHere('yaml') as typeof import('yaml');

/** A rule file as YAML reads it: the plain data zod validates next, or what is wrong with its YAML. */
interface YamlRuleFile {
  readonly data?: unknown;
  readonly errors: string[];
  readonly warnings: string[];
}

function readYaml(file: string, text: string): YamlRuleFile {
  const doc = yaml().parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { errors: doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`), warnings: [] };
  }
  return { data: doc.toJS() as unknown, errors: [], warnings: commentTraps(file, text, doc) };
}

export interface ParsedRuleFile {
  readonly rule?: RuleFile;
  readonly allowlist?: AllowlistFile;
  readonly errors: string[];
  readonly warnings: string[];
}

/** Parses one file's text; returns the rule (or allowlist) or `file: path: message` errors. */
export function parseRuleFile(file: string, text: string): ParsedRuleFile {
  const read = readYaml(file, text);
  return read.errors.length > 0 ? { errors: read.errors, warnings: [] } : validateRuleFile(file, read.data, read.warnings);
}

/** zod over what YAML gave: the rule (or allowlist), or `file: path: message` errors. */
function validateRuleFile(file: string, data: unknown, warnings: string[]): ParsedRuleFile {
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
  const parsed: { file: string; rule: RuleFile; checkRedos: boolean }[] = [];
  const allowlists: { file: string; allowlist: AllowlistFile }[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const dir of dirs) {
    // The bundled rules' patterns are checked by the test suite, not at each load (seconds).
    const checkRedos = path.resolve(dir) !== path.resolve(BUNDLED_RULES_DIR);
    for (const { file, read } of await readFolder(dir)) {
      const { rule, allowlist, errors: fileErrors, warnings: fileWarnings } =
        read.errors.length > 0 ? { errors: read.errors, warnings: [] } : validateRuleFile(file, read.data, read.warnings);
      errors.push(...fileErrors);
      warnings.push(...fileWarnings);
      if (rule) parsed.push({ file, rule, checkRedos });
      if (allowlist) allowlists.push({ file, allowlist });
    }
  }
  const compiled = compileRules(parsed, { checkRedos: true });
  errors.push(...compiled.errors);
  const allowed = applyAllowlists(compiled.rules, allowlists);
  errors.push(...allowed.errors);
  if (errors.length > 0) {
    throw new ScanError('config', `invalid rules:\n  ${errors.join('\n  ')}`);
  }
  return { rules: allowed.rules, warnings: [...warnings, ...compiled.warnings] };
}

/** The cache file the build writes (dist/rules/, beside the built loader). */
export const RULES_CACHE_FILE = fileURLToPath(new URL('./rules-cache.json', import.meta.url));

/**
 * What the cache key covers besides the rule files: the code that reads them. When that code
 * cannot be read (a bundler moved this module), there is no key: every folder is parsed.
 */
const READER_VERSION = ((): string | undefined => {
  try {
    const own = readFileSync(fileURLToPath(import.meta.url));
    const yamlVersion = (requireHere('yaml/package.json') as { version: string }).version;
    return createHash('sha256').update('phi-scan rules cache 1\0').update(`yaml ${yamlVersion}\0`).update(own).digest('hex');
  } catch {
    return undefined;
  }
})();

function folderKey(files: readonly { file: string; text: string }[]): string | undefined {
  if (READER_VERSION === undefined) return undefined;
  const hash = createHash('sha256').update(READER_VERSION);
  for (const { file, text } of files) hash.update(`\0${path.basename(file)}\0${text.length}\0`).update(text);
  return hash.digest('hex');
}

const CacheSchema = z.object({ key: z.string(), files: z.array(z.object({ name: z.string(), data: z.unknown() })) });
type Cache = z.infer<typeof CacheSchema>;

let diskCache: Promise<Cache | undefined> | undefined;
/** The build's cache, read once per process; none (or an unreadable one) means parse. */
function readDiskCache(): Promise<Cache | undefined> {
  diskCache ??= readFile(RULES_CACHE_FILE, 'utf8').then(
    (text) => CacheSchema.safeParse(JSON.parse(text)).data,
    () => undefined,
  );
  return diskCache;
}

/**
 * Folders this process has read, by key (the JSON text, so no caller shares objects with
 * another); the last few only, so a long-lived process that reloads edited rules stays small.
 */
const memory = new Map<string, string>();
const MEMORY_FOLDERS = 4;
function remember(key: string, json: string): void {
  memory.delete(key);
  memory.set(key, json);
  for (const old of memory.keys()) if (memory.size > MEMORY_FOLDERS) memory.delete(old);
}

/** How a folder's rule files were last read: from the build's cache, this process's memory, or parsed. */
export let lastRulesRead: 'cache' | 'memory' | 'parsed' | undefined;

/** Every rule file of a folder as YAML reads it: from the cache when the folder's content hashes to its key. */
async function readFolder(dir: string): Promise<{ file: string; read: YamlRuleFile }[]> {
  const files = await readRuleFiles(dir);
  const key = folderKey(files);
  const fromJson = (json: string): { file: string; read: YamlRuleFile }[] => {
    const data = JSON.parse(json) as unknown[];
    return files.map(({ file }, i) => ({ file, read: { data: data[i], errors: [], warnings: [] } }));
  };
  const remembered = key === undefined ? undefined : memory.get(key);
  if (key !== undefined && remembered !== undefined) {
    remember(key, remembered);
    lastRulesRead = 'memory';
    return fromJson(remembered);
  }
  const cache = key === undefined ? undefined : await readDiskCache();
  if (key !== undefined && cache?.key === key && cache.files.length === files.length && cache.files.every((f, i) => f.name === path.basename(files[i]?.file ?? ''))) {
    const json = JSON.stringify(cache.files.map((f) => f.data));
    remember(key, json);
    lastRulesRead = 'cache';
    return fromJson(json);
  }
  const read = files.map(({ file, text }) => ({ file, read: readYaml(file, text) }));
  const json = cacheable(read.map((r) => r.read));
  if (key !== undefined && json !== undefined) remember(key, json);
  lastRulesRead = 'parsed';
  return read;
}

/**
 * The JSON of a folder's data, when it can stand for the YAML: no file with errors or warnings
 * (they name the file and are said at every load), and data that JSON keeps as it is.
 */
function cacheable(read: readonly YamlRuleFile[]): string | undefined {
  if (read.some((r) => r.errors.length > 0 || r.warnings.length > 0)) return undefined;
  const data = read.map((r) => r.data);
  const json = JSON.stringify(data);
  return isDeepStrictEqual(JSON.parse(json), data) ? json : undefined;
}

/**
 * Writes the cache for a folder (the bundled rules; `npm run build` calls it on the built
 * loader). A folder whose YAML has errors or warnings gets no cache: those are said at each load.
 */
export async function writeRulesCache(dir: string = BUNDLED_RULES_DIR, out: string = RULES_CACHE_FILE): Promise<boolean> {
  const files = await readRuleFiles(dir);
  const key = folderKey(files);
  const json = cacheable(files.map(({ file, text }) => readYaml(file, text)));
  if (key === undefined || json === undefined) return false;
  const data = JSON.parse(json) as unknown[];
  const cache: Cache = { key, files: files.map(({ file }, i) => ({ name: path.basename(file), data: data[i] })) };
  await writeFile(out, `${JSON.stringify(cache)}\n`);
  return true;
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
