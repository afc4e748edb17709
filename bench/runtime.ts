/**
 * Running measured code in child processes, without tsx in the measured process.
 *
 * `prepareBuild()` transpiles the working tree's src/ and bench/ (TypeScript → JavaScript, no type
 * check) into .bench/build/ with the same layout, plus copies of rules/ and data/, so the bundled rules and name lists resolve
 * as they do from dist/. That measures the current source (dist/ may be stale, and other people may
 * be editing src/), and neither dist/ nor src/ is touched.
 *
 * `runMeasured()` runs `node [flags] script args` with a preload that writes the process's peak RSS
 * (getrusage ru_maxrss, the kernel's high-water mark) and CPU time to a file when it exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const WORK_DIR = path.join(ROOT, '.bench');
export const BUILD_DIR = path.join(WORK_DIR, 'build');

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(full);
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield full;
  }
}

/** Transpiles src/ and bench/ into .bench/build/; returns the number of files. */
export function prepareBuild(): { files: number; seconds: number } {
  const started = performance.now();
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const compilerOptions: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    esModuleInterop: true,
    // No source maps: --cpu-prof profiles name functions and lines of these files without
    // them, and an inline map is text every module load parses, which `npm run build` does not ship.
    sourceMap: false,
  };
  let files = 0;
  for (const top of ['src', 'bench']) {
    for (const file of tsFiles(path.join(ROOT, top))) {
      const relative = path.relative(ROOT, file);
      const out = path.join(BUILD_DIR, relative.replace(/\.ts$/, '.js'));
      const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: relative, reportDiagnostics: true });
      if (diagnostics && diagnostics.length > 0) {
        const text = ts.flattenDiagnosticMessageText(diagnostics[0]?.messageText ?? 'error', '\n');
        throw new Error(`${relative}: cannot transpile: ${text}`);
      }
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, outputText);
      files++;
    }
  }
  // src/rules/load.ts finds the bundled rules at ../../rules/ from its own file. A copy, not a
  // link: rules and code are taken at the same moment even while someone edits them.
  cpSync(path.join(ROOT, 'rules'), path.join(BUILD_DIR, 'rules'), { recursive: true });
  // Likewise the vendored name lists (src/detectors/name-lists.ts: ../../data/names/): without
  // them every message is a `parse-failed` record and the figures measure an error path.
  cpSync(path.join(ROOT, 'data'), path.join(BUILD_DIR, 'data'), { recursive: true });
  // src/cli/version.ts reads the version from ../../package.json: the CLI does not start without it.
  cpSync(path.join(ROOT, 'package.json'), path.join(BUILD_DIR, 'package.json'));
  // The rules cache `npm run build` ships (scripts/rules-cache.mjs), written by this build's own
  // loader (its key covers the loader's text): without it every scan here parsed the rule files'
  // YAML before its first message (~0.2–0.7 CPU-s a run), which an installed CLI never does.
  const loader = pathToFileURL(path.join(BUILD_DIR, 'src', 'rules', 'load.js')).href;
  const cache = spawnSync(process.execPath, ['--input-type=module', '-e', `if (!(await (await import(${JSON.stringify(loader)})).writeRulesCache())) process.exit(3);`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (cache.status !== 0) throw new Error(`the bench build's rules cache could not be written: ${cache.stderr.trim() || `exit code ${cache.status}`}`);
  return { files, seconds: (performance.now() - started) / 1000 };
}

/**
 * How children run: `node` runs the transpiled files in .bench/build/ (the default: nothing but
 * the project's code in the measured process); `tsx` runs the .ts sources through tsx's loader
 * (the fallback when the plain-node build cannot load, e.g. an ESM/CommonJS import that only
 * tsx tolerates; tsx adds start-up time and some memory).
 */
export type Runner = 'node' | 'tsx';
let runner: Runner = 'node';

export function useRunner(r: Runner): void {
  runner = r;
}

export function currentRunner(): Runner {
  return runner;
}

/** Path of the file a child runs, e.g. `built('src/cli/main.ts')`. */
export function built(relative: string): string {
  return runner === 'node' ? path.join(BUILD_DIR, relative.replace(/\.ts$/, '.js')) : path.join(ROOT, relative);
}

/** Loads the library and the CLI module in a plain `node` process; returns the error, if any. */
export function checkBuild(): string | undefined {
  const modules = ['src/index.ts', 'src/cli/program.ts'].map((m) => pathToFileURL(path.join(BUILD_DIR, m.replace(/\.ts$/, '.js'))).href);
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', modules.map((m) => `await import(${JSON.stringify(m)});`).join(' ')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status === 0) return undefined;
  const lines = (result.stderr || result.error?.message || 'failed').split('\n').filter((l) => l.trim() !== '');
  const at = lines.findIndex((l) => /Error\b/.test(l));
  return lines.slice(Math.max(0, at - 2), at + 1).join(' / ');
}

/** Written by the preload at process exit. */
export interface ProcessStats {
  /** Peak resident set size, KiB (getrusage ru_maxrss). */
  readonly maxRssKiB: number;
  readonly userCpuSeconds: number;
  readonly systemCpuSeconds: number;
}

const PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(
    `import { writeFileSync } from 'node:fs';
const file = process.env.BENCH_STATS_FILE;
if (file) process.on('exit', () => {
  const u = process.resourceUsage();
  writeFileSync(file, JSON.stringify({ maxRssKiB: u.maxRSS, userCpuSeconds: u.userCPUTime / 1e6, systemCpuSeconds: u.systemCPUTime / 1e6 }));
});`,
  );

export interface MeasuredRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly wallSeconds: number;
  readonly stats: ProcessStats | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  readonly timeoutSeconds?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each complete stdout line as it arrives. */
  readonly onLine?: (line: string) => void;
  /** Pins the child to these CPUs (`taskset -c LIST`, e.g. `0`: one core), to measure scaling on a bigger machine's cores. */
  readonly cpuList?: string;
}

/** Runs `node <preload> <script> <args>` and measures its wall time, peak RSS and CPU time. */
export async function runMeasured(script: string, args: readonly string[], options: RunOptions = {}): Promise<MeasuredRun> {
  const statsDir = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-stats-'));
  const statsFile = path.join(statsDir, 'stats.json');
  const started = performance.now();
  const loader = runner === 'tsx' ? ['--import', 'tsx'] : [];
  const nodeArgs = [...loader, ...(options.nodeFlags ?? []), '--import', PRELOAD, script, ...args];
  const [command, commandArgs] = options.cpuList !== undefined ? ['taskset', ['-c', options.cpuList, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { ...process.env, ...options.env, BENCH_STATS_FILE: statsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (options.onLine) {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.onLine(l);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  let timedOut = false;
  const timer =
    options.timeoutSeconds !== undefined
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutSeconds * 1000)
      : undefined;
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve([code, sig]));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (timer) clearTimeout(timer);
  if (options.onLine && partial) options.onLine(partial);
  let stats: ProcessStats | undefined;
  try {
    stats = JSON.parse(readFileSync(statsFile, 'utf8')) as ProcessStats;
  } catch {
    stats = undefined; // killed before exit handlers ran
  }
  rmSync(statsDir, { recursive: true, force: true });
  return { exitCode, signal, wallSeconds, stats, stdout, stderr, timedOut };
}
