/**
 * The bench section of issue 18: end-to-end `scan` (default threads, and `--threads 0`) against
 * the bare mailparser parse of the same file, in one run, on the PHI-dense archive
 * (fixtures/dense.ts) and on the Enron sample (business mail).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDenseMbox, type DenseStats } from '../fixtures/dense.js';
import { MB, measureBare, measureEndToEnd, type Bare, type EndToEnd } from './measure.js';
import { int, num, row, type Row } from './report.js';
import { WORK_DIR } from './runtime.js';

export const DENSE_TARGET = {
  /** End to end (default threads) / bare parse, wall time. */
  denseRatio: 1.2,
  businessRatio: 0.8,
  /** `--threads 0` wall / default wall on the PHI-dense archive. */
  denseThreadSpeedup: 1.6,
};

export interface DenseCorpusResult {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly bare: Bare;
  readonly threads: EndToEnd;
  readonly inline: EndToEnd;
}

export interface DenseSection {
  readonly rows: Row[];
  readonly corpora: DenseCorpusResult[];
}

const DENSE_SEED = 1;

/** The archive, generated once per size (a sidecar file says what it holds). */
async function ensureDense(bytes: number, log: (m: string) => void): Promise<{ file: string; stats: DenseStats }> {
  const file = path.join(WORK_DIR, `dense-${bytes}.mbox`);
  const meta = `${file}.json`;
  if (existsSync(file) && existsSync(meta)) return { file, stats: JSON.parse(readFileSync(meta, 'utf8')) as DenseStats };
  log(`PHI-dense: generating ${path.basename(file)} (fixtures/dense.ts, ${num(bytes / MB, 0)} MB)`);
  const stats = await writeDenseMbox(file, bytes, DENSE_SEED);
  writeFileSync(meta, `${JSON.stringify(stats)}\n`);
  return { file, stats };
}

async function measureCorpus(name: string, file: string, log: (m: string) => void): Promise<DenseCorpusResult> {
  log(`${name}: bare mailparser parse`);
  const bare = await measureBare(file);
  log(`${name}: bare ${num(bare.wallSeconds, 1)} s; scan (default threads)`);
  const threads = await measureEndToEnd(file);
  log(`${name}: scan ${num(threads.wallSeconds, 1)} s; scan --threads 0`);
  const inline = await measureEndToEnd(file, { args: ['--threads', '0'] });
  log(`${name}: scan --threads 0 ${num(inline.wallSeconds, 1)} s`);
  // A scan whose every message failed is fast and meaningless (a missing data file did that once).
  for (const [how, e] of [['default threads', threads], ['--threads 0', inline]] as const) {
    if (e.errors * 2 > e.messages) throw new Error(`${name}, ${how}: ${e.errors} error records for ${e.messages} messages: the figures would measure an error path`);
  }
  return { name, file, bytes: threads.fileBytes, bare, threads, inline };
}

function corpusRows(r: DenseCorpusResult, ratioTarget: number, speedupTarget: number | undefined): Row[] {
  const mbps = (s: number): string => `${num(r.bytes / MB / s, 1)} MB/s`;
  const cpu = (e: { cpuSeconds: number | null }): string => `CPU ${num(e.cpuSeconds ?? NaN, 1)} s`;
  const ratio = r.threads.wallSeconds / r.bare.wallSeconds;
  const inlineRatio = r.inline.wallSeconds / r.bare.wallSeconds;
  const speedup = r.inline.wallSeconds / r.threads.wallSeconds;
  return [
    row(`${r.name}: bare mailparser parse`, `${num(r.bare.wallSeconds, 1)} s, ${mbps(r.bare.wallSeconds)}, ${cpu(r.bare)}`),
    row(
      `${r.name}: scan (default threads) / bare`,
      `${num(r.threads.wallSeconds, 1)} s, ${mbps(r.threads.wallSeconds)}, ${cpu(r.threads)}, peak RSS ${num(r.threads.peakRssMB ?? NaN, 0)} MB: ${num(ratio, 2)}×`,
      `≤ ${ratioTarget}×`,
      ratio <= ratioTarget,
    ),
    row(`${r.name}: scan --threads 0 / bare`, `${num(r.inline.wallSeconds, 1)} s, ${mbps(r.inline.wallSeconds)}, ${cpu(r.inline)}, peak RSS ${num(r.inline.peakRssMB ?? NaN, 0)} MB: ${num(inlineRatio, 2)}×`),
    row(
      `${r.name}: threads speed-up (--threads 0 wall / default wall)`,
      `${num(speedup, 2)}×; ${int(r.threads.messages)} messages, ${int(r.threads.findings)} findings (--threads 0: ${int(r.inline.findings)})`,
      speedupTarget === undefined ? '≥ 1.0× (never slower)' : `≥ ${speedupTarget}×`,
      speedup >= (speedupTarget ?? 1) && r.threads.findings === r.inline.findings,
    ),
  ];
}

/**
 * What more cores give on PHI-dense mail: the scan on one core (`taskset -c 0`, `--threads 0`)
 * against one worker thread per core on all of them. Where the machine has one core or no
 * taskset, the rows say so.
 */
async function scalingRows(file: string, dense: DenseCorpusResult, log: (m: string) => void): Promise<Row[]> {
  const cores = os.availableParallelism();
  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  if (cores < 2 || !taskset) return [row('PHI-dense: scaling over cores', `not measured: ${cores < 2 ? 'one core' : 'no taskset'}`)];
  log(`PHI-dense: scan --threads 0 on one core (taskset -c 0)`);
  const one = await measureEndToEnd(file, { args: ['--threads', '0'], cpuList: '0' });
  log(`PHI-dense: one core ${num(one.wallSeconds, 1)} s; scan --threads ${cores} (a worker per core)`);
  const all = await measureEndToEnd(file, { args: ['--threads', String(cores)] });
  const cpu = (e: EndToEnd): string => `CPU ${num(e.cpuSeconds ?? NaN, 1)} s`;
  return [
    row('PHI-dense: scan --threads 0 on one core (taskset -c 0)', `${num(one.wallSeconds, 1)} s, ${cpu(one)}, peak RSS ${num(one.peakRssMB ?? NaN, 0)} MB; all ${cores} cores, --threads 0: ${num(dense.inline.wallSeconds, 1)} s (${num(one.wallSeconds / dense.inline.wallSeconds, 2)}×: JIT and GC on the other core)`),
    row(
      `PHI-dense: scan --threads ${cores} (a worker per core) vs one core`,
      `${num(all.wallSeconds, 1)} s, ${cpu(all)}, peak RSS ${num(all.peakRssMB ?? NaN, 0)} MB: ${num(one.wallSeconds / all.wallSeconds, 2)}× one core's speed on ${cores} cores; CPU ${num((all.cpuSeconds ?? NaN) / (one.cpuSeconds ?? NaN), 2)}× one core's`,
    ),
  ];
}

export async function denseSection(bytes: number, enron: string, log: (m: string) => void): Promise<DenseSection> {
  const { file, stats } = await ensureDense(bytes, log);
  const rows: Row[] = [];
  const corpora: DenseCorpusResult[] = [];
  const k = stats.kinds;
  rows.push(
    row(
      'PHI-dense archive (fixtures/dense.ts)',
      `${num(stats.bytes / MB, 1)} MB, ${int(stats.messages)} messages: business ${int(k.business + k['business-html'])}, eligibility ${int(k.eligibility)}, CSV ${int(k.csv)}, XLSX ${int(k.xlsx)}, ZIP ${int(k.zip)}, PDF ${int(k.pdf)}, DOCX ${int(k.docx)}`,
    ),
  );
  const dense = await measureCorpus('PHI-dense', file, log);
  corpora.push(dense);
  rows.push(...corpusRows(dense, DENSE_TARGET.denseRatio, DENSE_TARGET.denseThreadSpeedup));
  rows.push(...(await scalingRows(file, dense, log)));
  if (existsSync(enron)) {
    const business = await measureCorpus('Enron (business mail)', enron, log);
    corpora.push(business);
    rows.push(...corpusRows(business, DENSE_TARGET.businessRatio, undefined));
  } else rows.push(row('Enron (business mail)', `skipped: ${enron} is missing`));
  return { rows, corpora };
}
