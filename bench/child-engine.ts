/**
 * Child process for the rule-engine measurements (run by bench/run.ts, from .bench/build/).
 * Single thread, bundled rules, one fixed key. Prints JSON lines on stdout.
 *
 *   throughput BYTES SEGMENT SEED  email-like text in ~SEGMENT-character segments: two passes
 *                                  over all of it to warm up, then up to 5 timed passes (fewer
 *                                  when they take over 10 s together). With
 *                                  BENCH_ENGINE_PROFILE=FILE, a CPU profile of the timed passes
 *                                  only (not of the text generation) is written to FILE.
 *   corpus FILE                    the same passes over the text segments (bodies, attachments)
 *                                  the pipeline extracts from the messages of mbox FILE: real mail
 *   case NAME                      one adversarial input (bench/adversarial.ts) at 0.25 MB, 1 MB
 *                                  and 4 MB, each only when the size before was quick enough;
 *                                  time per MB is compared between the two largest.
 *
 * BENCH_ENGINE_PRESCAN=javascript runs the engine with its JavaScript prescan instead of the
 * WebAssembly one (engine/prescan.ts), to show what that part is worth.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import type { Segment } from '../src/model/segment.js';
import { parseMessage } from '../src/parse/mime.js';
import { splitMbox } from '../src/sources/mbox-split.js';
import { adversarialCase } from './adversarial.js';
import { MailGenerator } from './mailgen.js';

export interface ThroughputResult {
  readonly kind: 'throughput';
  readonly bytes: number;
  readonly segments: number;
  readonly plantedSegments: number;
  readonly hits: number;
  readonly passSeconds: readonly number[];
}

export interface CaseSample {
  readonly kind: 'sample';
  readonly name: string;
  readonly chars: number;
  /** Best (minimum) time of one scan of the whole input. */
  readonly seconds: number;
  readonly runs: number;
  readonly hits: number;
}

const KEY = Buffer.from('phi-scan bench key, not a secret');
/**
 * Untimed passes over all of the text first: JIT and regexp tier-up take a pass or two over
 * real mail (Enron: ~95 MB/s in the first pass, ~170 in the second, ~190 from the third on);
 * the figure is the engine's steady state, as in a scan of a mailbox.
 */
const WARM_UP_PASSES = 2;
const MAX_PASSES = 5;
const TIME_BUDGET_SECONDS = 10;

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

async function engine(): Promise<Engine> {
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  return createEngine(rules, KEY, { javascriptPrescan: process.env.BENCH_ENGINE_PRESCAN === 'javascript' });
}

function emit(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function generated(bytes: number, segmentChars: number, seed: number): { segments: Segment[]; total: number; planted: number } {
  const gen = new MailGenerator(seed);
  const segments: Segment[] = [];
  let total = 0;
  let planted = 0;
  while (total < bytes) {
    const { text, phi } = gen.segmentText(segmentChars);
    segments.push({ location: 'body', item: 'body', format: 'text', text });
    total += Buffer.byteLength(text, 'utf8');
    if (phi) planted++;
  }
  return { segments, total, planted };
}

async function extracted(file: string): Promise<{ segments: Segment[]; total: number; planted: number }> {
  const segments: Segment[] = [];
  let total = 0;
  for await (const m of splitMbox(createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, { maxMessageBytes: 50 * 1024 * 1024 })) {
    for (const segment of (await parseMessage(m.bytes, { maxNestingDepth: 5 })).segments) {
      segments.push(segment);
      total += Buffer.byteLength(segment.text, 'utf8');
    }
  }
  return { segments, total, planted: 0 };
}

async function throughput({ segments, total, planted }: { segments: Segment[]; total: number; planted: number }): Promise<void> {
  const e = await engine();
  const pass = (): number => {
    let n = 0;
    for (const s of segments) n += e.scan(s).length;
    return n;
  };
  for (let i = 0; i < WARM_UP_PASSES; i++) pass();
  const profileFile = process.env.BENCH_ENGINE_PROFILE;
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const passSeconds: number[] = [];
  let hits = 0;
  // Up to MAX_PASSES passes, but no new pass once TIME_BUDGET_SECONDS are spent (a slow engine
  // must not stretch the bench to many minutes).
  while (passSeconds.length < MAX_PASSES && (passSeconds.length === 0 || sum(passSeconds) < TIME_BUDGET_SECONDS)) {
    const t0 = performance.now();
    hits = pass();
    passSeconds.push((performance.now() - t0) / 1000);
  }
  if (session && profileFile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  }
  const result: ThroughputResult = { kind: 'throughput', bytes: total, segments: segments.length, plantedSegments: planted, hits, passSeconds };
  emit(result);
}

function sample(e: Engine, name: string, chars: number): CaseSample {
  const text = adversarialCase(name).build(chars);
  const segment: Segment = { location: 'body', item: 'body', format: 'text', text };
  let best = Infinity;
  let runs = 0;
  let spent = 0;
  let hits = 0;
  // The minimum of several runs (a run can be slowed by GC or other processes): at least 3 unless
  // a run takes over 1 s, and quick ones repeated until 1 s is spent.
  while (runs === 0 || (runs < 3 && best < 1) || (runs < 50 && spent < 1 && best < 0.25)) {
    const t0 = performance.now();
    hits = e.scan(segment).length;
    const s = (performance.now() - t0) / 1000;
    best = Math.min(best, s);
    spent += s;
    runs++;
  }
  const result: CaseSample = { kind: 'sample', name, chars, seconds: best, runs, hits };
  emit(result);
  return result;
}

async function adversarial(name: string): Promise<void> {
  const e = await engine();
  // Warm-up (JIT, regexp tier-up to native code), not reported as a figure.
  sample(e, name, 20_000);
  sample(e, name, 100_000);
  // Growing sizes, each only when the one before was quick enough that a quadratic case
  // cannot run for minutes: 0.25 MB, then 1 MB, then 4 MB.
  const quarter = sample(e, name, 250_000);
  if (quarter.seconds > 1.5) return;
  const one = sample(e, name, 1_000_000);
  if (one.seconds > 2) return;
  sample(e, name, 4_000_000);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'throughput') {
  await throughput(generated(Number(args[0]), Number(args[1]), Number(args[2])));
} else if (mode === 'corpus' && args[0]) {
  await throughput(await extracted(args[0]));
} else if (mode === 'case' && args[0]) {
  await adversarial(args[0]);
} else {
  process.stderr.write('usage: child-engine.js throughput BYTES SEGMENT SEED | corpus MBOX | case NAME\n');
  process.exit(2);
}
