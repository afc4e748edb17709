/**
 * A scan session: runs one scan from its ScanSettings as the CLI does, with the state store
 * (lock, checkpoints, the run's records), the outputs (jsonl streamed; rendered formats from the
 * store after the scan), signals, progress and the queue. `phi-scan scan` is this function plus
 * flag parsing; library callers and tests call it with their own streams.
 *
 * Returns the exit status (0 nothing found, 1 PHI found, 3 incomplete or interrupted); throws a
 * ScanError for bad usage or configuration (exit 2 at the command line).
 */
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createEngine, type EngineWarning } from '../engine/engine.js';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { maskSource } from '../findings/names.js';
import { loadSuppressions } from '../findings/suppress.js';
import { scan, scannerSettings } from '../pipeline/run.js';
import { startScanner, storeThread, type StartingScanner } from '../pipeline/scanner.js';
import { resolveRedisUrl } from '../queue/redis.js';
import type { Rule } from '../rules/compile.js';
import { checkExamples, describeFailure } from '../rules/examples.js';
import { BUNDLED_RULES_DIR, loadRules, rulesDirs } from '../rules/load.js';
import { createSink, type Format, type RenderedFormat } from '../sinks/index.js';
import type { ReportModel, ReportScope } from '../sinks/model.js';
import { openPrivateOutput, textOutput, type TextOutput } from '../sinks/output.js';
import { tableOptions } from '../sinks/table.js';
import type { Sink } from '../sinks/types.js';
import type { SourceRuntime } from '../sources/types.js';
import { acquireScanLock } from '../state/lock.js';
import { writeReport } from '../report/report.js';
import { reportModel } from '../report/picture.js';
import { importLegacyCheckpoints, openStateStore, openStateStoreInThread, stateDbPath, type StateStore } from '../state/store.js';
import { abandonDeadRuns, markGone } from '../remediate/progress.js';
import { markVanished } from '../remediate/vanished.js';
import { ScanError } from '../common/errors.js';
import { estimateTotalBytes, progressReporter } from './progress.js';
import { ScanSettingsSchema, describeIssues, jobSettingsOf, scanOptionsOf, type ScanSettings, type ScanSettingsInput, type SettingsScanOptions } from '../pipeline/settings.js';


/** A stream as the session uses it: a terminal or not, and its width. */
export type SessionStream = Writable & { readonly isTTY?: boolean; readonly columns?: number };

export interface SessionIO {
  /** Where reports without a file go (default process.stdout). */
  readonly stdout?: SessionStream;
  /** Warnings, progress and summary lines (default process.stderr). */
  readonly stderr?: SessionStream;
  /** PHI_SCAN_* and credentials (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Stop the scan on SIGINT/SIGTERM (the CLI does); what was read is reported (exit 3). */
  readonly handleSignals?: boolean;
  /** Stop the scan (a library caller's own signal). */
  readonly signal?: AbortSignal;
}

/** Your own rules whose examples fail: said at every scan (the bundled rules' examples are tested here). */
function userExampleWarnings(rules: readonly Rule[]): string[] {
  const bundled = path.resolve(BUNDLED_RULES_DIR);
  const own = rules.filter((r) => path.resolve(path.dirname(r.file)) !== bundled);
  if (own.length === 0) return [];
  return checkExamples(rules, own).map((f) => `${describeFailure(f)} (phi-scan rules check ${path.dirname(f.file)})`);
}

/** Checks `input` (strict) and runs the scan. */
export async function runScanSession(input: ScanSettingsInput, io: SessionIO = {}): Promise<number> {
  const parsed = ScanSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ScanError('usage', `scan settings: ${describeIssues(parsed.error)}`);
  return runSession(parsed.data, io);
}

export async function runSession(settings: ScanSettings, io: SessionIO = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stderr = io.stderr ?? process.stderr;
  const { rules, warnings } = await loadRules(rulesDirs(settings.rules));
  for (const w of [...warnings, ...userExampleWarnings(rules)]) stderr.write(`phi-scan: warning: ${w}\n`);
  const stateDir = resolveStateDir(settings.state, env);
  const key = await resolveKey(stateDir, env);
  const dbFile = stateDbPath(settings.state, env, stateDir);
  // One scan per state database: a second one says who holds it (exit 2), or waits (waitLock).
  const lock = await acquireScanLock(dbFile, {
    waitMs: settings.waitLock !== undefined ? settings.waitLock * 1000 : undefined,
    onWait: (holder) => void stderr.write(`phi-scan: waiting up to ${settings.waitLock ?? 0} s for ${holder} to finish with ${dbFile}\n`),
  });
  // What the pipeline reads from the settings, made as a queue worker makes it from its job.
  const fromSettings = { ...scanOptionsOf(settings), edm: settings.edm !== undefined ? path.resolve(settings.edm) : undefined };
  const queueUrl = resolveRedisUrl(settings.queue, env);
  // The scan's threads start now: their modules load while this thread builds the engine and
  // opens the state store (the 2-core default's parsing thread was ready ~0.3 s after them).
  // A queued scan's messages are scanned by the workers: it starts none (pipeline/run.ts).
  const startedAt = new Date();
  const scanner = queueUrl ? undefined : startScanner(scannerSettings({ ...fromSettings, rules, key }, startedAt));
  try {
    return await runLocked(settings, io, { rules, key, stateDir, dbFile, lock, fromSettings, startedAt, queueUrl, scanner });
  } finally {
    await scanner?.cancel();
    lock.release();
  }
}

/** `out` (a rendered report's: text only), calling `first` before each write (`first` acts once). */
function beforeFirstWrite(out: TextOutput, first: () => void): TextOutput {
  return {
    write: (text) => {
      first();
      return out.write(text);
    },
    end: () => out.end(),
  };
}

interface Locked {
  readonly rules: readonly Rule[];
  readonly key: Buffer;
  readonly stateDir: string;
  readonly dbFile: string;
  readonly lock: Awaited<ReturnType<typeof acquireScanLock>>;
  readonly fromSettings: SettingsScanOptions;
  /** The run's "today": the engine's, the threads' and the names'. */
  readonly startedAt: Date;
  /** `--queue` (or PHI_SCAN_REDIS_URL): the units run on queue workers. */
  readonly queueUrl: URL | undefined;
  /** The threads that will scan the messages here (none for a queued scan). */
  readonly scanner: StartingScanner | undefined;
}

async function runLocked(settings: ScanSettings, io: SessionIO, { rules, key, stateDir, dbFile, lock, fromSettings, startedAt, queueUrl, scanner }: Locked): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const sources = settings.sources;
  const suppress = await loadSuppressions(settings.ignoreFile);
  // One report, or (outputs: a scheduled scan) several: each format to its own file or stdout.
  // jsonl streams as the scan goes; the rendered formats are rendered from the state store after
  // it: the run's messages, or (outputs) the store's current picture.
  const sinks: Sink[] = [];
  const rendered: { format: RenderedFormat; out: TextOutput; toStdout: boolean }[] = [];
  const single = { format: settings.format, out: settings.out };
  for (const output of settings.outputs ?? [single]) {
    const toFile = output.out !== undefined && output.out !== '-';
    const format: Format = output.format ?? (!toFile && stdout.isTTY ? 'table' : 'jsonl');
    // stdout: a reader that went away drops what is left (the run is marked output-closed).
    const out = toFile ? await openPrivateOutput(output.out as string) : textOutput(stdout, false, true);
    if (format === 'jsonl') sinks.push(createSink(format, out));
    else rendered.push({ format, out, toStdout: !toFile });
  }
  // A json report of this run explains each finding: the store keeps the explanations (not memory).
  const details = rendered.some((r) => r.format === 'json');
  const scope = (runId: number): ReportScope => (settings.outputs ? { kind: 'picture', asOf: runId } : { kind: 'run', run: runId });
  const showProgress = settings.progress && stderr.isTTY === true;
  // Summary lines of sources (Graph: requests, retries), written after the scan: counts only.
  const summaries: string[] = [];
  const sourceRuntime: SourceRuntime = {
    env,
    summary: (line) => void summaries.push(line),
    ...(showProgress ? { log: (line: string) => void stderr.write(`\r\x1b[K${line}\n`) } : {}),
  };
  // The total size, when known, is counted while the scan starts (a percentage and time left once it is).
  let totalBytes: number | undefined;
  if (showProgress && !queueUrl) void estimateTotalBytes(sources, settings.sinceLast).then((n) => (totalBytes = n));
  const progress = showProgress && stderr.isTTY ? progressReporter(stderr as NodeJS.WriteStream, () => totalBytes) : undefined;
  let progressCleared = false;
  const clearProgress = (): void => {
    if (progressCleared) return;
    progressCleared = true;
    progress?.done();
    if (queueUrl && showProgress) stderr.write('\r\x1b[K');
  };
  const abort = new AbortController();
  const onSignal = (): void => abort.abort('signal');
  if (io.handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  if (io.signal) io.signal.addEventListener('abort', onSignal, { once: true });
  // `scan | head -1`: the reader went away. Stop quietly; the run is marked interrupted
  // (output-closed) in the state store and the other outputs, and the exit status is 3.
  const onOutputError = (): void => abort.abort('output-closed');
  stdout.on('error', onOutputError);
  // One engine for the session's names (sources, mailboxes) and the scan: made once (~0.1 s).
  const onWarning = (w: EngineWarning): void => void stderr.write(`phi-scan: warning: ${w.message}\n`); // the engine's (no value in it)
  const engine = createEngine(rules, key, { today: startedAt, onWarning });
  const redact = engine.redact;
  const queued = queueUrl
    ? await (await import('../queue/setup.js')).coordinatorFor({ // bullmq loads only for --queue
        url: queueUrl,
        sources,
        stateDir,
        key,
        rulesDirs: rulesDirs(settings.rules),
        sinceLast: settings.sinceLast,
        settings: { ...jobSettingsOf(settings), edm: fromSettings.edm },
        redact,
        signal: abort.signal,
        env,
        onProgress: showProgress ? (line: string) => void stderr.write(`\r${line.slice(0, Math.max(20, (stderr.columns || 80) - 1))}\x1b[K`) : undefined,
      })
    : undefined;
  // The SQLite state store: checkpoints, and a sink recording this run (runs, messages, findings).
  // It writes from its own thread where threads scan whole messages (pipeline/scanner.ts storeThread).
  let store: StateStore;
  try {
    importLegacyCheckpoints(dbFile, stateDir);
    const runInfo = { sources: sources.map(maskSource(redact)), sinceLast: settings.sinceLast, minConfidence: settings.minConfidence, key, details };
    store = storeThread(settings.threads, os.availableParallelism()) ? await openStateStoreInThread(dbFile, runInfo) : openStateStore(dbFile, runInfo);
    lock.setRun(store.runId);
    // This scan holds the lock: a run still "running" was killed.
    abandonDeadRuns(store.db, store.runId);
  } catch (err) {
    await queued?.coordinator.close();
    throw err;
  }
  try {
    const result = await scan({
      ...fromSettings,
      sources,
      rules,
      key,
      concurrency: settings.concurrency,
      sourceRuntime,
      sinks: [...sinks, store],
      checkpoints: store,
      sinceLast: settings.sinceLast,
      strict: settings.strict,
      signal: abort.signal,
      onProgress: progress && !queued ? progress.update : undefined,
      remote: queued?.coordinator,
      suppress,
      engine: { engine, startedAt, ...(scanner ? { scanner } : {}) },
    });
    if (suppress && suppress.suppressed() > 0) stderr.write(`phi-scan: ${suppress.suppressed()} findings suppressed by ${suppress.file}\n`);
    // A full scan that ended: what it no longer finds in a folder it read is gone (remediate --status).
    markGone(store.db, store.runId);
    // A --since-last scan: what the source says left a folder it resumed is gone too (IMAP UIDs).
    markVanished(store.db, store.runId, store.presences());
    // Written completely: the queued scan's jobs and results in Redis can go.
    if (!abort.signal.aborted) await queued?.done();
    // While the reports are made (counting people over a large run takes minutes: README, Breach
    // sizing) the progress line says so; it goes before the first byte of a report is written
    // (they share the terminal).
    if (rendered.length > 0 && progress) progress.status(`writing the report on ${result.summary.messages.toLocaleString('en-US')} messages…`);
    else clearProgress();
    // What the store does not hold: strict, and the mailboxes the run stopped in (marked *).
    const facts = {
      strict: result.summary.strict,
      partlyRead: new Set(result.summary.mailboxes.filter((m) => m.interrupted).map((m) => `${m.source}\0${m.mailbox}`)),
      ...(suppress ? { suppressed: { file: suppress.file, findings: suppress.suppressed() } } : {}),
    };
    // One model for all of them: people are counted once, not once a format.
    let model: ReportModel | undefined;
    const shared = (): ReportModel => (model ??= reportModel(store.db, scope(store.runId), facts));
    for (const r of rendered) {
      await writeReport(store.db, r.format, beforeFirstWrite(r.out, clearProgress), scope(store.runId), {
        table: tableOptions(r.toStdout ? stdout : undefined, env, settings.color),
        scan: facts,
        model: shared,
      });
      await r.out.end();
    }
    return result.exitCode;
  } finally {
    clearProgress();
    await queued?.coordinator.close();
    await store.dispose();
    for (const line of summaries) stderr.write(`phi-scan: ${line}\n`);
    if (io.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    io.signal?.removeEventListener('abort', onSignal);
  }
}
