/**
 * The command line: parses flags, calls the library, maps the result to an exit code.
 * Exit status (CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or configuration (the
 * state database in use by another scan included) · 3 scan incomplete (an item failed; with
 * --strict, also one not read by design) or interrupted (SIGINT/SIGTERM, closed output).
 */
import path from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { CONFIDENCES, type Confidence } from '../model/finding.js';
import { createEngine } from '../engine/engine.js';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { maskSource, maskSsnShapes, stripControls } from '../findings/names.js';
import { DEFAULT_MESSAGE_TIMEOUT_MS, DEFAULT_THREAD_MEMORY_MB, scan } from '../pipeline/run.js';
import { BUNDLED_RULES_DIR, loadRules } from '../rules/load.js';
import type { Rule } from '../rules/compile.js';
import { checkExamples, describeFailure } from '../rules/examples.js';
import { FORMATS, createSink, type Format, type RenderedFormat } from '../sinks/index.js';
import { openPrivateOutput, textOutput, type TextOutput } from '../sinks/output.js';
import { explanationCollector } from '../sinks/explain.js';
import type { ReportScope } from '../sinks/model.js';
import type { Sink } from '../sinks/types.js';
import { ScanError } from '../shared/errors.js';
import { safeReason } from '../parse/mime.js';
import { estimateTotalBytes, progressReporter } from './progress.js';
import { loadScanConfig } from './config.js';
import { importLegacyCheckpoints, openStateDb, openStateStore, stateDbPath } from '../state/store.js';
import { EXIT, collect, nonNegativeInt, parseSize, positiveInt, quietOnClosedStdout, rulesDirs, tableOptions } from './common.js';
import { acquireScanLock } from '../state/lock.js';
import { REPORT_FORMATS, writeRemediationPerOwner, writeReport, type ReportFormat } from '../state/report.js';
import { latestRunId, suppressedInScope } from '../state/picture.js';
import { applySuppressions } from '../state/suppress.js';
import type { GraphSettings } from '../sources/graph/options.js';
import type { ImapSettings } from '../sources/imap/options.js';
import type { SourceSettings } from '../sources/registry.js';
import type { SourceRuntime } from '../sources/types.js';
import { resolveRedisUrl } from '../queue/redis.js';
import { coordinatorFor, startWorker, type WorkerFlags } from './queue.js';
import { registerDiff } from './diff.js';
import { checkSource, expandHome } from './inputs.js';
import { DEFAULT_IGNORE_FILE, loadSuppressions } from '../findings/suppress.js';
import { registerRules } from './rules.js';
import { registerRuns } from './runs.js';
import { packageVersion } from './version.js';







/** Your own rules whose examples fail: said at every scan (the bundled rules' examples are tested here). */
function userExampleWarnings(rules: readonly Rule[]): string[] {
  const bundled = path.resolve(BUNDLED_RULES_DIR);
  const own = rules.filter((r) => path.resolve(path.dirname(r.file)) !== bundled);
  if (own.length === 0) return [];
  return checkExamples(rules, own).map((f) => `${describeFailure(f)} (phi-scan rules check ${path.dirname(f.file)})`);
}

interface ScanFlags {
  /** --no-color */
  color?: boolean;
  format?: Format;
  out?: string;
  rules?: string[];
  minConfidence: Confidence;
  mailbox?: string;
  concurrency: number;
  threads?: number;
  messageTimeout: number;
  threadMemory: number;
  maxMessageSize: number;
  maxDepth: number;
  maxAttachmentSize?: number;
  attachmentTimeout?: number;
  state?: string;
  progress: boolean;
  sinceLast: boolean;
  strict: boolean;
  waitLock?: number;
  accounts?: string;
  folders?: string[];
  excludeFolders?: string[];
  imapConnections?: number;
  imapTimeout?: number;
  users?: string;
  group?: string;
  includeHiddenFolders?: boolean;
  graphConcurrency?: number;
  config?: string;
  /** `--queue redis://...` (or PHI_SCAN_REDIS_URL): run the units on queue workers. */
  queue?: string;
  /** `--ignore-file FILE` (default ./.phi-scanignore when present): reviewed findings left out. */
  ignoreFile?: string;
  /** From --config: several reports in one run. */
  outputs?: { format?: Format; out?: string }[];
}

/**
 * `--config FILE`: the file's settings, with every flag given on the command line taking
 * precedence; sources from the file and the command line are both scanned.
 */
async function withConfig(sources: string[], flags: ScanFlags, cmd: Command): Promise<{ sources: string[]; flags: ScanFlags }> {
  if (flags.config === undefined) {
    if (sources.length === 0) throw new ScanError('usage', 'scan: give at least one SOURCE, or --config FILE');
    return { sources, flags };
  }
  const config = await loadScanConfig(flags.config);
  const given = (name: keyof ScanFlags): boolean => {
    const from = cmd.getOptionValueSource(name);
    return from !== undefined && from !== 'default';
  };
  const merged: ScanFlags = { ...flags };
  if (!given('rules') && config.rules) merged.rules = config.rules;
  if (!given('minConfidence') && config.minConfidence) merged.minConfidence = config.minConfidence;
  if (!given('concurrency') && config.concurrency !== undefined) merged.concurrency = config.concurrency;
  if (!given('maxDepth') && config.maxDepth !== undefined) merged.maxDepth = config.maxDepth;
  if (!given('maxMessageSize') && config.maxMessageSize !== undefined) {
    try {
      merged.maxMessageSize = typeof config.maxMessageSize === 'number' ? config.maxMessageSize : parseSize(config.maxMessageSize);
    } catch (err) {
      throw new ScanError('config', `--config ${flags.config}: maxMessageSize: ${(err as Error).message}`);
    }
  }
  if (!given('mailbox') && config.mailbox !== undefined) merged.mailbox = config.mailbox;
  if (!given('state') && config.state !== undefined) merged.state = config.state;
  if (!given('sinceLast') && config.sinceLast !== undefined) merged.sinceLast = config.sinceLast;
  if (!given('format') && !given('out') && config.outputs) merged.outputs = config.outputs;
  return { sources: [...config.sources, ...sources], flags: merged };
}

/** `--users a@x,b@x` or `--users @file` (one a line; blank lines and `#` comments ignored). */
async function parseUsers(value: string): Promise<string[]> {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8');
    } catch (err) {
      throw new ScanError('usage', `--users ${value}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
  }
  const users = text
    .split(/[\n,]/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
  if (users.length === 0) throw new ScanError('usage', `--users ${value}: no user names`);
  return users;
}

/** The graph:// source's settings from flags (none when no graph:// source is given). */
async function graphSettings(sources: string[], flags: ScanFlags): Promise<GraphSettings | undefined> {
  if (!sources.some((s) => s.startsWith('graph:'))) {
    if (flags.users !== undefined || flags.group !== undefined || flags.includeHiddenFolders) {
      throw new ScanError('usage', '--users, --group and --include-hidden-folders apply to graph:// sources');
    }
    return undefined;
  }
  return {
    ...(flags.users !== undefined ? { users: await parseUsers(flags.users) } : {}),
    ...(flags.group !== undefined ? { group: flags.group } : {}),
    includeHiddenFolders: flags.includeHiddenFolders === true,
    ...(flags.graphConcurrency !== undefined ? { globalConcurrency: flags.graphConcurrency } : {}),
  };
}

async function runScan(sources: string[], flags: ScanFlags): Promise<number> {
  const { rules, warnings } = await loadRules(rulesDirs(flags.rules));
  for (const w of [...warnings, ...userExampleWarnings(rules)]) process.stderr.write(`phi-scan: warning: ${w}\n`);
  const stateDir = resolveStateDir(flags.state, process.env);
  const key = await resolveKey(stateDir, process.env);
  const dbFile = stateDbPath(flags.state, process.env, stateDir);
  // One scan per state database: a second one says who holds it (exit 2), or waits (--wait-lock).
  const lock = await acquireScanLock(dbFile, {
    ...(flags.waitLock !== undefined ? { waitMs: flags.waitLock * 1000 } : {}),
    onWait: (holder) => void process.stderr.write(`phi-scan: waiting up to ${flags.waitLock ?? 0} s for ${holder} to finish with ${dbFile}\n`),
  });
  try {
    return await runScanLocked(sources, flags, rules, key, stateDir, dbFile, lock);
  } finally {
    lock.release();
  }
}

async function runScanLocked(
  sources: string[],
  flags: ScanFlags,
  rules: Awaited<ReturnType<typeof loadRules>>['rules'],
  key: Buffer,
  stateDir: string,
  dbFile: string,
  lock: Awaited<ReturnType<typeof acquireScanLock>>,
): Promise<number> {
  const suppress = await loadSuppressions(flags.ignoreFile);
  // One report, or (--config outputs) several: each format to its own file or stdout. jsonl
  // streams as the scan goes; the rendered formats are rendered from the state store after it:
  // the run's messages, or (--config outputs: a scheduled scan) the store's current picture.
  const sinks: Sink[] = [];
  const rendered: { format: RenderedFormat; out: TextOutput; toStdout: boolean }[] = [];
  for (const output of flags.outputs ?? [{ ...(flags.format ? { format: flags.format } : {}), ...(flags.out !== undefined ? { out: flags.out } : {}) }]) {
    const toFile = output.out !== undefined && output.out !== '-';
    const format: Format = output.format ?? (!toFile && process.stdout.isTTY ? 'table' : 'jsonl');
    // stdout: a reader that went away drops what is left (the run is marked output-closed).
    const out = toFile ? await openPrivateOutput(output.out as string) : textOutput(process.stdout, false, true);
    if (format === 'jsonl') sinks.push(createSink(format, out));
    else rendered.push({ format, out, toStdout: !toFile });
  }
  const explanations = rendered.some((r) => r.format === 'json') ? explanationCollector() : undefined;
  if (explanations) sinks.push(explanations.sink);
  const scope = (runId: number): ReportScope => (flags.outputs ? { kind: 'picture', asOf: runId } : { kind: 'run', run: runId });
  const graph = await graphSettings(sources, flags);
  // Summary lines of sources (Graph: requests, retries), written after the scan: counts only.
  const summaries: string[] = [];
  const sourceRuntime: SourceRuntime = {
    env: process.env,
    summary: (line) => void summaries.push(line),
    ...(flags.progress && process.stderr.isTTY ? { log: (line: string) => void process.stderr.write(`\r\x1b[K${line}\n`) } : {}),
  };
  // The total size, when known, is counted while the scan starts (a percentage and time left once it is).
  let totalBytes: number | undefined;
  const showProgress = flags.progress && process.stderr.isTTY;
  if (showProgress && !queueUrlGiven(flags)) void estimateTotalBytes(sources, flags.sinceLast).then((n) => (totalBytes = n));
  const progress = showProgress ? progressReporter(process.stderr, () => totalBytes) : undefined;
  let progressCleared = false;
  const clearProgress = (): void => {
    if (progressCleared) return;
    progressCleared = true;
    progress?.done();
    if (queued && flags.progress && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  };
  // The SQLite state store: checkpoints, and a sink recording this run (runs, messages, findings).
  const abort = new AbortController();
  const onSignal = (): void => abort.abort('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // `scan | head -1`: the reader went away. Stop quietly; the run is marked interrupted
  // (output-closed) in the state store and the other outputs, and the exit status is 3.
  process.stdout.on('error', () => abort.abort('output-closed'));
  const queueUrl = resolveRedisUrl(flags.queue, process.env);
  const redact = createEngine(rules, key).redact;
  const imap: ImapSettings = {
    ...(flags.accounts !== undefined ? { accountsFile: flags.accounts } : {}),
    ...(flags.folders !== undefined ? { folders: flags.folders } : {}),
    ...(flags.excludeFolders !== undefined ? { excludeFolders: flags.excludeFolders } : {}),
    ...(flags.imapConnections !== undefined ? { connectionsPerHost: flags.imapConnections } : {}),
    ...(flags.imapTimeout !== undefined ? { timeoutMs: flags.imapTimeout * 1000 } : {}),
  };
  const sourceSettings: SourceSettings = { imap, ...(graph ? { graph } : {}) };
  const limits = {
    ...(flags.maxAttachmentSize !== undefined ? { maxAttachmentBytes: flags.maxAttachmentSize } : {}),
    ...(flags.attachmentTimeout !== undefined ? { maxAttachmentMillis: flags.attachmentTimeout * 1000 } : {}),
  };
  const queued = queueUrl
    ? await coordinatorFor({
        url: queueUrl,
        sources,
        stateDir,
        key,
        rulesDirs: rulesDirs(flags.rules),
        sinceLast: flags.sinceLast,
        minConfidence: flags.minConfidence,
        maxMessageBytes: flags.maxMessageSize,
        maxNestingDepth: flags.maxDepth,
        limits,
        ...(flags.mailbox !== undefined ? { mailbox: flags.mailbox } : {}),
        sourceSettings,
        redact,
        signal: abort.signal,
        ...(flags.progress && process.stderr.isTTY ? { onProgress: (line: string) => void process.stderr.write(`\r${line.slice(0, Math.max(20, (process.stderr.columns || 80) - 1))}\x1b[K`) } : {}),
      })
    : undefined;
  let store: ReturnType<typeof openStateStore>;
  try {
    importLegacyCheckpoints(dbFile, stateDir);
    store = openStateStore(dbFile, { sources: sources.map(maskSource(redact)), sinceLast: flags.sinceLast, minConfidence: flags.minConfidence, key });
    lock.setRun(store.runId);
  } catch (err) {
    await queued?.coordinator.close();
    throw err;
  }
  try {
    const result = await scan({
      sources,
      rules,
      key,
      minConfidence: flags.minConfidence,
      concurrency: flags.concurrency,
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      messageTimeoutMs: flags.messageTimeout * 1000,
      threadMemoryMb: flags.threadMemory,
      maxMessageBytes: flags.maxMessageSize,
      maxNestingDepth: flags.maxDepth,
      limits,
      ...(flags.mailbox !== undefined ? { mailbox: flags.mailbox } : {}),
      sourceSettings,
      sourceRuntime,
      sinks: [...sinks, store],
      checkpoints: store,
      sinceLast: flags.sinceLast,
      strict: flags.strict,
      signal: abort.signal,
      ...(progress && !queued ? { onProgress: progress.update } : {}),
      ...(queued ? { remote: queued.coordinator } : {}),
      ...(suppress ? { suppress } : {}),
    });
    if (suppress && suppress.suppressed() > 0) process.stderr.write(`phi-scan: ${suppress.suppressed()} findings suppressed by ${suppress.file}\n`);
    // Written completely: the queued scan's jobs and results in Redis can go.
    if (!abort.signal.aborted) await queued?.done();
    // The progress line goes before any report is written (it shares the terminal).
    clearProgress();
    // What the store does not hold: --strict, and the mailboxes the run stopped in (marked *).
    const facts = {
      strict: result.summary.strict,
      partlyRead: new Set(result.summary.mailboxes.filter((m) => m.interrupted).map((m) => `${m.source}\0${m.mailbox}`)),
      ...(suppress ? { suppressed: { file: suppress.file, findings: suppress.suppressed() } } : {}),
    };
    for (const r of rendered) {
      await writeReport(store.db, r.format, r.out, scope(store.runId), {
        table: tableOptions(r.toStdout, flags.color),
        scan: facts,
        ...(explanations ? { explain: explanations.explain } : {}),
      });
      await r.out.end();
    }
    return result.exitCode;
  } finally {
    clearProgress();
    await queued?.coordinator.close();
    store.dispose();
    for (const line of summaries) process.stderr.write(`phi-scan: ${line}\n`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function queueUrlGiven(flags: ScanFlags): boolean {
  return resolveRedisUrl(flags.queue, process.env) !== undefined;
}



interface ReportFlags {
  color?: boolean;
  format: ReportFormat;
  out?: string;
  state?: string;
  run?: number;
  ignoreFile?: string;
}

async function runReport(flags: ReportFlags): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const file = stateDbPath(flags.state, process.env, stateDir);
  const db = openStateDb(file, { create: false });
  try {
    if (flags.run !== undefined) {
      const exists = db.prepare('SELECT 1 FROM runs WHERE id = ?').get(flags.run);
      if (!exists) throw new ScanError('usage', `--run ${flags.run}: no such run in ${file} (latest: ${latestRunId(db) ?? 'none'})`);
    }
    const toFile = flags.out !== undefined && flags.out !== '-';
    if (!toFile) quietOnClosedStdout();
    // The same ignore file and default as scan: an entry added since the scan takes effect now.
    const suppress = await loadSuppressions(flags.ignoreFile);
    if (suppress) applySuppressions(db, suppress);
    const out = toFile ? await openOutFile(flags.out as string) : textOutput(process.stdout, false);
    await writeReport(db, flags.format, out, flags.run, { table: tableOptions(!toFile, flags.color) });
    await out.end();
    const dropped = suppress ? suppressedInScope(db, flags.run) : undefined;
    if (dropped && dropped.findings > 0) process.stderr.write(`phi-scan: ${dropped.findings} findings suppressed by ${dropped.file}\n`);
    return EXIT.clean;
  } finally {
    db.close();
  }
}

/** Opens a file for writing (mode 0600, no symlink: it lists masked PHI locations), as a TextOutput. */
const openOutFile = openPrivateOutput;

async function runRemediate(flags: { outDir: string; state?: string; run?: number; ignoreFile?: string }): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const file = stateDbPath(flags.state, process.env, stateDir);
  const db = openStateDb(file, { create: false });
  try {
    if (flags.run !== undefined && !db.prepare('SELECT 1 FROM runs WHERE id = ?').get(flags.run)) {
      throw new ScanError('usage', `--run ${flags.run}: no such run in ${file} (latest: ${latestRunId(db) ?? 'none'})`);
    }
    try {
      await mkdir(flags.outDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new ScanError('usage', `--out-dir ${flags.outDir}: cannot create (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
    // The remediation list is report's: the same ignore file leaves the same findings out.
    const suppress = await loadSuppressions(flags.ignoreFile);
    if (suppress) applySuppressions(db, suppress);
    const written = await writeRemediationPerOwner(db, flags.outDir, openOutFile, flags.run);
    const dropped = suppress ? suppressedInScope(db, flags.run) : undefined;
    if (dropped && dropped.findings > 0) process.stderr.write(`phi-scan: ${dropped.findings} findings suppressed by ${dropped.file}\n`);
    quietOnClosedStdout(EXIT.clean);
    // One line per owner on stdout (counts and file names only), for the ticket glue.
    for (const w of written) process.stdout.write(`${JSON.stringify({ type: 'remediation', ...w, csv: `${w.file}.csv`, json: `${w.file}.json` })}\n`);
    return EXIT.clean;
  } finally {
    db.close();
  }
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('phi-scan')
    .description('Find protected health information (PHI) in mailboxes and mail archives.')
    .exitOverride()
    .version(packageVersion(), '-V, --version', 'print the version')
    // One error prefix everywhere: commander's own messages say `phi-scan:` as ours do.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(s.replace(/^error: /, 'phi-scan: ')) })
    .showHelpAfterError('(run phi-scan --help for usage)');

  const minConfidence = new Option('--min-confidence <level>', 'report findings at or above this confidence')
    .choices(CONFIDENCES)
    .default('medium');
  const rulesOption = new Option('--rules <dir>', 'rules folder, repeatable; "builtin" is the bundled rules/ (default)').argParser(collect);

  program
    .command('scan')
    .description('scan mailboxes and archives: mbox:PATH, maildir:PATH, eml:PATH, pst:PATH (PST/OST file or folder), imap[s]://USER@HOST[:PORT][/FOLDER], graph://TENANT[/USER-or-*]')
    .argument('[source...]', 'what to scan, e.g. mbox:archive.mbox maildir:~/Maildir eml:exports/')
    .option('--config <file>', 'a YAML file of scan settings (sources, rules, thresholds, outputs); flags given here win')
    .addOption(new Option('--format <format>', 'output format (default: table on a terminal, jsonl otherwise)').choices(FORMATS))
    .option('--out <file>', 'write the report to a file instead of stdout')
    .addOption(rulesOption)
    .addOption(minConfidence)
    .option('--mailbox <name>', 'mailbox name to report for archive sources')
    .option('--concurrency <n>', 'messages parsed and scanned at once', positiveInt, 8)
    .option('--threads <n>', 'worker threads that parse and scan messages; 0 scans on the main thread (default: CPU cores - 1, at least 1)', nonNegativeInt)
    .option('--message-timeout <seconds>', 'with threads: a message still scanning after this long is stopped and reported as an error', positiveInt, DEFAULT_MESSAGE_TIMEOUT_MS / 1000)
    .option('--thread-memory <MB>', 'with threads: heap limit of each worker thread; a message that needs more is reported as an error', positiveInt, DEFAULT_THREAD_MEMORY_MB)
    .addOption(new Option('--max-message-size <size>', 'larger messages are reported as errors, not read').argParser(parseSize).default(50 * 1024 * 1024, '50MB'))
    .option('--max-depth <n>', 'how deep attached messages and archives are opened', positiveInt, 5)
    .option('--max-attachment-size <size>', 'larger attachments (and archive members) are reported as errors, not read (default: 50MB)', parseSize)
    .option('--attachment-timeout <seconds>', 'time to read one attachment, archives included (default: 30)', positiveInt)
    .option('--state <dir>', 'state folder or .db file (fingerprint key, state database); default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--since-last', 'scan only what is new since the last scan of each folder (checkpoints in the state folder)', false)
    .option('--wait-lock <seconds>', 'another scan is using the same state database: wait up to this long for it to end (default: stop at once, exit 2)', positiveInt)
    .option('--strict', 'items not read by design (images without text, legacy .doc, unsupported attachments) make the scan incomplete (exit 3)', false)
    .option('--no-progress', 'no progress line on stderr')
    .option('--ignore-file <file>', `reviewed findings to leave out: FINGERPRINT MESSAGE-ID REASON a line, * for any (default: ./${DEFAULT_IGNORE_FILE} when present)`)
    .option('--no-color', 'no colour in the table (also NO_COLOR; FORCE_COLOR forces it)')
    .option('--users <list>', 'graph: only these users (UPNs or ids), comma-separated, or @FILE with one a line')
    .option('--group <id>', 'graph: only the user members (transitive) of this group')
    .option('--include-hidden-folders', 'graph: also scan hidden mail folders')
    .option('--graph-concurrency <n>', 'graph: requests in flight across all mailboxes (per mailbox: at most 4)', positiveInt)
    .option('--accounts <file>', 'IMAP: scan every mailbox listed in this CSV or YAML file (SOURCE is then imap[s]://HOST[:PORT])')
    .option('--folders <glob>', 'IMAP: only folders matching these globs (comma-separated or repeated; * within a level, ** across)', collect)
    .option('--exclude-folders <glob>', 'IMAP: skip folders matching these globs (comma-separated or repeated)', collect)
    .option('--imap-connections <n>', 'IMAP: connections open at once to one server (default: 4)', positiveInt)
    .option('--imap-timeout <seconds>', 'IMAP: seconds to wait for a connection, the greeting or a reply (default: 60)', positiveInt)
    .option('--queue <url>', 'run the scan on queue workers through Redis: redis://HOST[:PORT][/DB] or rediss:// (default $PHI_SCAN_REDIS_URL; a password only there)')
    .action(async (sources: string[], flags: ScanFlags, cmd: Command) => {
      const resolved = await withConfig(sources.map((s) => expandHome(s)), flags, cmd);
      const expanded = resolved.sources.map((s) => expandHome(s));
      for (const spec of expanded) for (const w of await checkSource(spec)) process.stderr.write(`phi-scan: warning: ${w}\n`);
      setExit(await runScan(expanded, resolved.flags));
    });

  program
    .command('worker')
    .description('run scan jobs from a Redis queue (scan --queue hands them out); stops gracefully on SIGTERM/SIGINT')
    .option('--queue <url>', 'redis://HOST[:PORT][/DB] or rediss:// (default $PHI_SCAN_REDIS_URL; a password only there)')
    .option('--concurrency <n>', 'jobs run at once', positiveInt, 1)
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable; must be the same rules as the coordinator\'s').argParser(collect))
    .option('--state <dir>', 'state folder holding the fingerprint key when PHI_SCAN_KEY is not set; it must be the coordinator\'s key')
    .action(async (flags: WorkerFlags & { queue?: string; rules?: string[] }) => {
      const url = resolveRedisUrl(flags.queue, process.env);
      if (!url) throw new ScanError('usage', 'worker: give --queue redis://HOST[:PORT][/DB] or set PHI_SCAN_REDIS_URL');
      const dirs = rulesDirs(flags.rules);
      const { rules } = await loadRules(dirs);
      setExit(await startWorker(url, flags, rules, dirs));
    });

  program
    .command('report')
    .description('print the state store\'s current picture (or as of --run): jsonl records, or the report (json, csv remediation list, html page, table)')
    .addOption(new Option('--format <format>', 'report format').choices(REPORT_FORMATS).default('jsonl'))
    .option('--run <id>', 'the picture as of this run (default: the latest)', positiveInt)
    .option('--out <file>', 'write the report to a file instead of stdout')
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--ignore-file <file>', `reviewed findings to leave out, as scan does (default: ./${DEFAULT_IGNORE_FILE} when present)`)
    .option('--no-color', 'no colour in the table (also NO_COLOR; FORCE_COLOR forces it)')
    .action(async (flags: ReportFlags) => setExit(await runReport(flags)));

  program
    .command('remediate')
    .description('write the remediation list per mailbox owner: one NAME.csv and NAME.json per mailbox holding PHI')
    .requiredOption('--out-dir <dir>', 'folder for the per-owner files (created, files mode 0600)')
    .option('--run <id>', 'as of this run (default: the latest)', positiveInt)
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--ignore-file <file>', `reviewed findings to leave out, as scan does (default: ./${DEFAULT_IGNORE_FILE} when present)`)
    .action(async (flags: { outDir: string; state?: string; run?: number; ignoreFile?: string }) => setExit(await runRemediate(flags)));

  registerRuns(program, setExit);
  registerDiff(program, setExit);

  registerRules(program, setExit);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.clean;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv as string[]);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors.
      return err.exitCode === 0 ? EXIT.clean : EXIT.usage;
    }
    if (err instanceof ScanError) {
      // It may name a path or folder the user gave (`mbox:/exports/Roe SSN 512-84-3921.mbox`).
      process.stderr.write(`phi-scan: ${maskSsnShapes(stripControls(err.message))}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`phi-scan: internal error: ${safeReason(err)}\n`);
    return EXIT.incomplete;
  }
}
