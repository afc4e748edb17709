/** The measurements; each runs its subject in a child process (see runtime.ts). */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BareResult, StagesResult } from './child-parse.js';
import type { CaseSample, ThroughputResult } from './child-engine.js';
import { built, currentRunner, ROOT, runMeasured, type MeasuredRun } from './runtime.js';

/** 1 MB = 10^6 bytes throughout. */
export const MB = 1e6;

export interface ProcessFigures {
  readonly wallSeconds: number;
  readonly cpuSeconds: number | null;
  readonly peakRssMB: number | null;
}

function figures(run: MeasuredRun): ProcessFigures {
  return {
    wallSeconds: run.wallSeconds,
    cpuSeconds: run.stats ? run.stats.userCpuSeconds + run.stats.systemCpuSeconds : null,
    peakRssMB: run.stats ? (run.stats.maxRssKiB * 1024) / MB : null,
  };
}

function failure(what: string, run: MeasuredRun): Error {
  const why = run.timedOut ? 'timed out' : run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`;
  return new Error(`${what}: ${why}\n${run.stderr.trim().split('\n').slice(-15).join('\n')}`);
}

function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').pop();
  if (!line) throw new Error('child printed no result');
  return JSON.parse(line) as T;
}

// ---------- end to end: the CLI ----------

export interface EndToEnd extends ProcessFigures {
  readonly command: string;
  readonly fileBytes: number;
  readonly exitCode: number | null;
  readonly messages: number;
  readonly messagesWithPhi: number;
  /** Messages with at least one `ssn` finding (compared with the planted ground truth). */
  readonly messagesWithSsn: number;
  readonly findings: number;
  readonly findingsByCategory: Record<string, number>;
  readonly errors: number;
  readonly cpuProfile?: string;
}

/**
 * `phi-scan scan mbox:FILE --format jsonl --out TMP --state TMP` with the default concurrency.
 * The report goes to a temporary file rather than /dev/null so the message counts can be checked.
 */
export async function measureEndToEnd(
  file: string,
  /** `args`: extra scan flags, e.g. `['--threads', '0']`. */
  options: { cpuProfileDir?: string; timeoutSeconds?: number; args?: readonly string[]; cpuList?: string } = {},
): Promise<EndToEnd> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-e2e-'));
  const out = path.join(tmp, 'report.jsonl');
  const cli = built('src/cli/main.ts');
  const args = ['scan', `mbox:${path.relative(ROOT, file)}`, '--format', 'jsonl', '--out', out, '--state', path.join(tmp, 'state'), ...(options.args ?? [])];
  const nodeFlags = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
  try {
    const run = await runMeasured(cli, args, { nodeFlags, ...(options.timeoutSeconds !== undefined ? { timeoutSeconds: options.timeoutSeconds } : {}), ...(options.cpuList !== undefined ? { cpuList: options.cpuList } : {}) });
    // 0 nothing found, 1 PHI found, 3 incomplete (errors are counted below); 2 is a usage error.
    if (run.exitCode !== 0 && run.exitCode !== 1 && run.exitCode !== 3) throw failure('phi-scan scan', run);
    let messages = 0;
    let messagesWithPhi = 0;
    let messagesWithSsn = 0;
    let findings = 0;
    let errors = 0;
    const findingsByCategory: Record<string, number> = {};
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      if (line.startsWith('{"type":"finding"')) findings++;
      else if (line.startsWith('{"type":"message"')) {
        const m = JSON.parse(line) as { categories?: string[] };
        if (m.categories?.includes('ssn')) messagesWithSsn++;
      } else if (line.startsWith('{"type":"mailbox"')) {
        const m = JSON.parse(line) as { messages: number; messagesWithPhi: number; errors: number; byCategory?: Record<string, number> };
        messages += m.messages;
        messagesWithPhi += m.messagesWithPhi;
        errors += m.errors;
        for (const [c, n] of Object.entries(m.byCategory ?? {})) findingsByCategory[c] = (findingsByCategory[c] ?? 0) + n;
      }
    }
    const profile = options.cpuProfileDir ? readdirSync(options.cpuProfileDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    return {
      command: `node ${currentRunner() === 'tsx' ? '--import tsx ' : ''}${path.relative(ROOT, cli)} ${args.map((a) => (a.startsWith(tmp) ? a.replace(tmp, '$TMP') : a)).join(' ')}`,
      fileBytes: statSync(file).size,
      exitCode: run.exitCode,
      messages,
      messagesWithPhi,
      messagesWithSsn,
      findings,
      findingsByCategory,
      errors,
      ...figures(run),
      ...(profile && options.cpuProfileDir ? { cpuProfile: path.join(options.cpuProfileDir, profile) } : {}),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------- bare mailparser and pipeline stages ----------

export type Bare = BareResult & ProcessFigures;
export type Stages = StagesResult & ProcessFigures;

export async function measureBare(file: string): Promise<Bare> {
  const run = await runMeasured(built('bench/child-parse.ts'), ['bare', file]);
  if (run.exitCode !== 0) throw failure('bare mailparser baseline', run);
  return { ...lastJsonLine<BareResult>(run.stdout), ...figures(run) };
}

/** The pipeline's steps one after the other over the first `bytes` of messages in `file`. */
export async function measureStages(file: string, bytes: number): Promise<Stages> {
  const run = await runMeasured(built('bench/child-parse.ts'), ['stages', file, String(bytes)]);
  if (run.exitCode !== 0) throw failure('pipeline stages', run);
  return { ...lastJsonLine<StagesResult>(run.stdout), ...figures(run) };
}

// ---------- rule engine ----------

export interface EngineThroughput extends ThroughputResult {
  readonly medianPassSeconds: number;
  readonly mbPerSecond: number;
  readonly peakRssMB: number | null;
  readonly cpuProfile?: string;
}

export async function measureEngineThroughput(
  bytes: number,
  segmentChars: number,
  seed: number,
  /** cpuProfile: writes a CPU profile of the timed passes (not of the text generation) to this file. */
  options: { cpuProfile?: string; javascriptPrescan?: boolean } = {},
): Promise<EngineThroughput> {
  return engineRun(['throughput', String(bytes), String(segmentChars), String(seed)], options);
}

/** The engine over the text the pipeline extracts from the messages of an mbox (real mail). */
export async function measureEngineCorpus(file: string, options: { javascriptPrescan?: boolean } = {}): Promise<EngineThroughput> {
  return engineRun(['corpus', file], options);
}

async function engineRun(args: string[], options: { cpuProfile?: string; javascriptPrescan?: boolean }): Promise<EngineThroughput> {
  const env = {
    ...(options.cpuProfile ? { BENCH_ENGINE_PROFILE: options.cpuProfile } : {}),
    ...(options.javascriptPrescan ? { BENCH_ENGINE_PRESCAN: 'javascript' } : {}),
  };
  const run = await runMeasured(built('bench/child-engine.ts'), args, { env });
  if (run.exitCode !== 0) throw failure('engine throughput', run);
  const r = lastJsonLine<ThroughputResult>(run.stdout);
  const sorted = [...r.passSeconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return {
    ...r,
    medianPassSeconds: median,
    mbPerSecond: r.bytes / MB / median,
    peakRssMB: figures(run).peakRssMB,
    ...(options.cpuProfile ? { cpuProfile: options.cpuProfile } : {}),
  };
}

export interface AdversarialResult {
  readonly name: string;
  /** The 1 MB sample (or 0.25 MB when that was already slow), and the 4 MB (or 0.25 MB) one it is compared with. */
  readonly base?: CaseSample;
  readonly other?: CaseSample;
  readonly mbPerSecond?: number;
  /** Time per MB of the larger input / time per MB of the smaller one: 1 is linear, 4 is quadratic. */
  readonly scaling?: number;
  readonly timedOut: boolean;
  readonly wallSeconds: number;
}

export async function measureAdversarial(name: string, timeoutSeconds: number): Promise<AdversarialResult> {
  const samples: CaseSample[] = [];
  const run = await runMeasured(built('bench/child-engine.ts'), ['case', name], {
    timeoutSeconds,
    onLine: (line) => {
      if (line.startsWith('{')) samples.push(JSON.parse(line) as CaseSample);
    },
  });
  if (run.exitCode !== 0 && !run.timedOut) throw failure(`adversarial case ${name}`, run);
  // The 1 MB sample (else the largest measured) and the next size it is compared with.
  const measured = samples.filter((s) => s.chars >= 250_000).sort((a, b) => a.chars - b.chars);
  const base = measured.find((s) => s.chars === 1_000_000) ?? measured[measured.length - 1];
  const other = base?.chars === 1_000_000 ? (measured.find((s) => s.chars === 4_000_000) ?? measured[0]) : undefined;
  let scaling: number | undefined;
  if (base && other && other !== base) {
    const [small, large] = base.chars < other.chars ? [base, other] : [other, base];
    scaling = large.seconds / large.chars / (small.seconds / small.chars);
  }
  return {
    name,
    ...(base ? { base, mbPerSecond: base.chars / MB / base.seconds } : {}),
    ...(other ? { other } : {}),
    ...(scaling !== undefined ? { scaling } : {}),
    timedOut: run.timedOut,
    wallSeconds: run.wallSeconds,
  };
}
