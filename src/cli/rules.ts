/**
 * `phi-scan rules list | test | check`: what rules are loaded and what role each plays, what they
 * find in a text (line and column, masked), and whether a folder's rules do what their own
 * `examples` say.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { createEngine } from '../engine/engine.js';
import { normalizeText } from '../engine/normalize.js';
import { CONFIDENCES, confidenceRank, type Confidence } from '../model/finding.js';
import { checkExamples, describeFailure } from '../rules/examples.js';
import { BUNDLED_RULES_DIR, loadRules } from '../rules/load.js';
import { ScanError } from '../common/errors.js';
import { EXIT, collect, quietOnClosedStdout, rulesDirs } from './common.js';

/** What a role means, in the words `rules list` prints. */
const ROLE_NOTE = { identifier: 'reported', health: 'reported when corroborated', context: 'never reported; corroborates' } as const;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows].map((row) => `${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`).join('');
}

async function runRulesList(flags: { rules?: string[] }): Promise<number> {
  const { rules } = await loadRules(rulesDirs(flags.rules));
  const rows = rules.map((r) => [r.id, r.category, r.role, ROLE_NOTE[r.role], r.detector.id, String(r.patterns.length), r.file]);
  process.stdout.write(table(['RULE', 'CATEGORY', 'ROLE', 'REPORTED', 'DETECTOR', 'PATTERNS', 'FILE'], rows));
  return EXIT.clean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** 1-based line and column of each offset (offsets ascending or not). */
function lineColumn(text: string): (offset: number) => string {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return `${lo + 1}:${offset - (starts[lo] ?? 0) + 1}`;
  };
}

async function runRulesTest(file: string, flags: { rules?: string[]; minConfidence: Confidence }): Promise<number> {
  const { rules } = await loadRules(rulesDirs(flags.rules));
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new ScanError('usage', `${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  // Any fixed key will do: fingerprints are not shown here.
  const engine = createEngine(rules, Buffer.from('phi-scan rules test'));
  const hits = engine
    .scan({ location: 'body', item: 'body', format: 'text', text })
    .filter((h) => confidenceRank(h.finding.confidence) >= confidenceRank(flags.minConfidence));
  // Hit offsets are in the normalized text (zero-width marks dropped, Unicode dashes and spaces
  // made ASCII); lines are the same, a column counts the normalized characters.
  const where = lineColumn(normalizeText(text));
  quietOnClosedStdout(hits.length > 0 ? EXIT.phiFound : EXIT.clean);
  for (const { finding: f, start } of hits) {
    const why = [`pattern=${f.why.pattern}`, `verdict=${f.why.verdict}`];
    if (f.why.label) why.push(`label="${f.why.label}"`);
    if (f.why.nearKeyword) why.push(`near="${f.why.nearKeyword}"`);
    if (f.why.negative) why.push(`negative="${f.why.negative}"`);
    process.stdout.write(`${where(start)}\t${f.rule}\t${f.category}\t${f.confidence}\t${f.score.toFixed(2)}\t${f.masked}\t${why.join(' ')}\n`);
  }
  return hits.length > 0 ? EXIT.phiFound : EXIT.clean;
}

async function runRulesCheck(dir: string, flags: { rules?: string[] }): Promise<number> {
  const target = dir === 'builtin' ? BUNDLED_RULES_DIR : dir;
  const others = rulesDirs(flags.rules).filter((d) => path.resolve(d) !== path.resolve(target));
  const { rules } = await loadRules([...others, target]);
  const own = rules.filter((r) => path.resolve(path.dirname(r.file)) === path.resolve(target));
  if (own.length === 0) throw new ScanError('usage', `rules check ${dir}: no rule files in this folder`);
  const failures = checkExamples(rules, own);
  for (const f of failures) process.stdout.write(`FAIL ${describeFailure(f)}\n`);
  const examples = own.reduce((n, r) => n + r.examples.match.length + r.examples.noMatch.length, 0);
  process.stdout.write(`${own.length} rules, ${examples} examples: ${failures.length === 0 ? 'all pass' : `${failures.length} fail`}\n`);
  return failures.length === 0 ? EXIT.clean : EXIT.phiFound;
}

export function registerRules(program: Command, setExit: (code: number) => void): void {
  const rules = program.command('rules').description('inspect, try and check the detection rules');
  rules
    .command('list')
    .description('list the rules that would be used, with the role of each (reported, or only corroborating)')
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable').argParser(collect))
    .action(async (flags: { rules?: string[] }) => setExit(await runRulesList(flags)));
  rules
    .command('test')
    .description('run the rules over a text file (or - for stdin) and print LINE:COLUMN and masked findings')
    .argument('<file>', 'a text file, or - for standard input')
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable').argParser(collect))
    .addOption(new Option('--min-confidence <level>', 'show findings at or above this confidence').choices(CONFIDENCES).default('low'))
    .action(async (file: string, flags: { rules?: string[]; minConfidence: Confidence }) => setExit(await runRulesTest(file, flags)));
  rules
    .command('check')
    .description("run a rules folder's own examples; exit 1 when a match example gives no finding or a noMatch example gives one")
    .argument('<dir>', 'the rules folder to check ("builtin" for the bundled rules)')
    .addOption(new Option('--rules <dir>', 'other rules folders loaded beside it, as in the scan (default: builtin)').argParser(collect))
    .action(async (dir: string, flags: { rules?: string[] }) => setExit(await runRulesCheck(dir, flags)));
}
