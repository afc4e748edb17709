/**
 * Differential check of two engines: every text of the corpora, the fixtures, the quality corpus,
 * the adversarial inputs, the rule examples and generated rosters through the engine of this tree
 * and the one of another checkout (BASE_ROOT), comparing `scanAll`, `scan` and `redact` exactly.
 *
 *   npx tsx bench/engine-diff.ts BASE_ROOT [--quick]
 *
 * Prints counts and, for a difference, only where it is (source and text number), never a value.
 * Exit 1 when any result differs.
 */
import { readdirSync, readFileSync, statSync, createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import type { Segment } from '../src/model/segment.js';
import { parseMessage } from '../src/parse/mime.js';
import { splitMbox } from '../src/sources/mbox-split.js';
import { createEngine } from '../src/engine/engine.js';
import { generateQualityCorpus } from '../fixtures/quality.js';
import { ADVERSARIAL } from './adversarial.js';
import { ROSTER_LAYOUTS, RosterGenerator } from './roster-text.js';
import { CORPORA } from '../fixtures/corpora.js';

type EngineLike = ReturnType<typeof createEngine>;

const [baseRoot, ...flags] = process.argv.slice(2);
if (!baseRoot) {
  process.stderr.write('usage: engine-diff.ts BASE_ROOT [--quick]\n');
  process.exit(2);
}
const quick = flags.includes('--quick');
const KEY = Buffer.from('phi-scan differential key, fixed');
const TODAY = new Date('2026-06-01T00:00:00Z');

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const base = (await import(pathToFileURL(path.resolve(baseRoot, 'src/engine/engine.ts')).href)) as { createEngine: typeof createEngine };
const engines: [EngineLike, EngineLike][] = [
  [createEngine(rules, KEY, { today: TODAY }), base.createEngine(rules, KEY, { today: TODAY })],
  [createEngine(rules, KEY, { today: TODAY, javascriptPrescan: true }), base.createEngine(rules, KEY, { today: TODAY, javascriptPrescan: true })],
];

let texts = 0;
let findings = 0;
let differences = 0;
const perSource = new Map<string, number>();

function compare(source: string, n: number, segment: Segment, withJs: boolean): void {
  texts++;
  perSource.set(source, (perSource.get(source) ?? 0) + 1);
  for (const [mine, theirs] of withJs ? engines : engines.slice(0, 1)) {
    const a = [JSON.stringify(mine.scanAll(segment)), JSON.stringify(mine.scan(segment, 'medium')), mine.redact(segment.text), mine.redact(segment.location)];
    const b = [JSON.stringify(theirs.scanAll(segment)), JSON.stringify(theirs.scan(segment, 'medium')), theirs.redact(segment.text), theirs.redact(segment.location)];
    findings += (JSON.parse(a[0] as string) as unknown[]).length;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        differences++;
        if (differences <= 20) process.stdout.write(`DIFF ${source} #${n} ${['scanAll', 'scan', 'redact(text)', 'redact(location)'][i]}\n`);
      }
    }
  }
}

async function messageSegments(raw: Buffer): Promise<Segment[]> {
  const parsed = await parseMessage(raw, { maxNestingDepth: 5 });
  const out = [...parsed.segments];
  if (parsed.subject) out.push({ location: 'subject', item: 'subject', format: 'subject', text: parsed.subject });
  return out;
}

async function mbox(source: string, file: string, limit = Infinity): Promise<void> {
  let n = 0;
  for await (const m of splitMbox(createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, { maxMessageBytes: 50 * 1024 * 1024 })) {
    if (n >= limit) break;
    for (const s of await messageSegments(m.bytes)) compare(source, n++, s, source !== 'enron');
  }
}

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out.sort();
}

const started = performance.now();
const corpora = CORPORA;
if (existsSync(corpora)) {
  await mbox('enron', path.join(corpora, 'enron-sample/enron-sample.mbox'), quick ? 500 : Infinity);
  await mbox('mime-torture', path.join(corpora, 'mime-torture/mime-torture.mbox'));
}
for (const f of filesUnder('fixtures', /\.mbox$/)) await mbox(`fixture:${f}`, f);
let n = 0;
for (const f of [...filesUnder('fixtures', /\.eml$/), ...filesUnder('fixtures/demo/maildir', /./)]) {
  for (const s of await messageSegments(readFileSync(f))) compare('fixture-files', n++, s, true);
}
n = 0;
for (const m of generateQualityCorpus(20250917, quick ? 300 : 2000)) for (const s of await messageSegments(Buffer.from(m.raw))) compare('quality', n++, s, true);
n = 0;
for (const rule of rules) {
  for (const text of [...(rule.examples?.match ?? []), ...(rule.examples?.noMatch ?? [])]) {
    compare('rule-examples', n++, { location: 'body', item: 'body', format: 'text', text }, true);
  }
}
n = 0;
for (const c of ADVERSARIAL) compare('adversarial', n++, { location: 'body', item: 'body', format: 'text', text: c.build(quick ? 20_000 : 100_000) }, true);
n = 0;
const gen = new RosterGenerator(5);
for (const layout of ROSTER_LAYOUTS) {
  for (const chars of [2_000, 50_000, quick ? 100_000 : 1_000_000]) {
    const format = layout === 'csv' ? 'csv' : layout === 'tsv' ? 'tsv' : 'text';
    compare('roster', n++, { location: 'attachment:roster.csv', item: 'attachment:roster.csv', format, text: gen.text(chars, layout) }, chars < 100_000);
  }
}
process.stdout.write(
  `${texts} texts (${[...perSource].map(([k, v]) => `${k.replace(/^fixture:.*\//, 'fixture:')} ${v}`).join(', ')}), ${findings} findings (scanAll, WebAssembly prescan), ${differences} differences, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
process.exit(differences === 0 ? 0 : 1);
