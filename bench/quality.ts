/**
 * `npm run bench:quality`: detection quality on the generated corpus (fixtures/quality.ts) and
 * the false-positive rate on the Enron sample.
 *
 *   npm run bench:quality                       seeds 1, 2 and 3, 2,500 messages each, plus Enron
 *   npm run bench:quality -- --seed 7 --n 5000  another corpus
 *   npm run bench:quality -- --seeds 1,2,3,4    several corpora
 *   npm run bench:quality -- --no-enron         skip the Enron rate
 *   npm run bench:quality -- --errors ssn       list the block kinds behind the ssn errors
 *
 * A message counts for a category when the scan reports a finding of that category at the
 * default threshold (medium) anywhere in it (body or attachments): per message and category,
 * as the acceptance corpus of "Detection 2" is scored. Micro F1 sums TP/FP/FN over categories.
 */
import { createReadStream, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createEngine } from '../src/engine/engine.js';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import { scanMessage } from '../src/pipeline/scan-message.js';
import { splitMbox } from '../src/sources/mbox-split.js';
import { generateQualityCorpus, QUALITY_CATEGORIES, type QualityCategory } from '../fixtures/quality.js';
import { ENRON_MBOX } from '../fixtures/corpora.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The same place the tests and bench/run.ts read it from (fixtures/corpora.ts); --enron FILE overrides. */
const ENRON = arg('enron') ?? ENRON_MBOX;


export interface CategoryScore {
  tp: number;
  fp: number;
  fn: number;
}

export function prf(s: CategoryScore): { p: number; r: number; f1: number } {
  const p = s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp);
  const r = s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn);
  return { p, r, f1: p + r === 0 ? 0 : (2 * p * r) / (p + r) };
}

async function main(): Promise<void> {
  const seeds = arg('seed') !== undefined ? [Number(arg('seed'))] : (arg('seeds') ?? '1,2,3').split(',').map(Number);
  const n = Number(arg('n') ?? 2500);
  const errorsFor = arg('errors');
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  const engine = createEngine(rules, randomBytes(32));
  const options = { minConfidence: 'medium' as const, maxNestingDepth: 8 };
  for (const seed of seeds) await scoreCorpus(engine, options, seed, n, errorsFor);
  await enronRate(engine, options);
}

async function scoreCorpus(
  engine: ReturnType<typeof createEngine>,
  options: { minConfidence: 'medium'; maxNestingDepth: number },
  seed: number,
  n: number,
  errorsFor: string | undefined,
): Promise<void> {
  const corpus = generateQualityCorpus(seed, n);
  const scores = new Map<QualityCategory, CategoryScore>(QUALITY_CATEGORIES.map((c) => [c, { tp: 0, fp: 0, fn: 0 }]));
  const errorKinds = new Map<string, number>();
  const t0 = Date.now();
  for (const m of corpus) {
    const bytes = Buffer.from(m.raw, 'utf8');
    const outcome = await scanMessage({ bytes, size: bytes.length }, engine, options);
    const found = new Set(outcome.findings.map((f) => f.category as QualityCategory));
    for (const c of QUALITY_CATEGORIES) {
      const s = scores.get(c) as CategoryScore;
      const truth = m.truth.has(c);
      const flagged = found.has(c);
      if (truth && flagged) s.tp++;
      else if (flagged) s.fp++;
      else if (truth) s.fn++;
      if (errorsFor === c && truth !== flagged) {
        const key = `${flagged ? 'FP' : 'FN'} ${m.blocks.join(' + ')}`;
        errorKinds.set(key, (errorKinds.get(key) ?? 0) + 1);
      }
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const total: CategoryScore = { tp: 0, fp: 0, fn: 0 };
  const lines = ['| category | TP | FP | FN | precision | recall | F1 |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const [c, s] of scores) {
    total.tp += s.tp;
    total.fp += s.fp;
    total.fn += s.fn;
    const { p, r, f1 } = prf(s);
    lines.push(`| ${c} | ${s.tp} | ${s.fp} | ${s.fn} | ${p.toFixed(3)} | ${r.toFixed(3)} | ${f1.toFixed(3)} |`);
  }
  const micro = prf(total);
  lines.push(`| **micro** | ${total.tp} | ${total.fp} | ${total.fn} | ${micro.p.toFixed(3)} | ${micro.r.toFixed(3)} | **${micro.f1.toFixed(3)}** |`);
  console.log(`Quality corpus: seed ${seed}, ${n} messages (${seconds.toFixed(1)} s)\n`);
  console.log(lines.join('\n'));
  if (errorsFor) {
    console.log(`\nErrors for ${errorsFor} (by the blocks of the message):`);
    for (const [k, v] of [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${String(v).padStart(5)}  ${k}`);
  }
  console.log('');
}

async function enronRate(engine: ReturnType<typeof createEngine>, options: { minConfidence: 'medium'; maxNestingDepth: number }): Promise<void> {
  if (process.argv.includes('--no-enron')) return;
  const enron = existsSync(ENRON) ? ENRON : undefined;
  if (!enron) {
    console.log(`\nEnron sample NOT FOUND (${ENRON}; set PHI_SCAN_CORPORA): Enron rate SKIPPED`);
    return;
  }
  let messages = 0;
  let flagged = 0;
  const byCategory = new Map<string, number>();
  const t1 = Date.now();
  for await (const raw of splitMbox(createReadStream(enron), { maxMessageBytes: 64 * 1024 * 1024 })) {
    messages++;
    const outcome = await scanMessage(raw, engine, options);
    if (outcome.findings.length > 0) {
      flagged++;
      for (const c of new Set(outcome.findings.map((f) => f.category))) byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    }
  }
  const perThousand = (1000 * flagged) / Math.max(1, messages);
  const cats = [...byCategory].map(([c, k]) => `${c} ${k}`).join(', ');
  console.log(`\nEnron sample: ${messages} messages, ${flagged} flagged at medium (${perThousand.toFixed(2)} per 1,000)${cats ? `: ${cats}` : ''} (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
}

await main();
