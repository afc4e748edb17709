/**
 * The command line: parses flags, calls the library, maps the result to an exit code.
 * Exit status (CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or configuration (the
 * state database in use by another scan included) · 3 scan incomplete (an item failed; with
 * --strict, also one not read by design) or interrupted (SIGINT/SIGTERM, closed output).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CONFIDENCES, confidenceRank, type Confidence } from '../model/finding.js';
import { createEngine } from '../engine/engine.js';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { DEFAULT_MESSAGE_TIMEOUT_MS, DEFAULT_THREAD_MEMORY_MB, scan } from '../pipeline/run.js';
import { BUNDLED_RULES_DIR, loadRules } from '../rules/load.js';
import { FORMATS, createSink, type Format } from '../sinks/index.js';
import { textOutput } from '../sinks/output.js';
import { ScanError } from '../shared/errors.js';
import { safeReason } from '../parse/mime.js';
import { progressReporter } from './progress.js';
import { loadScanConfig } from './config.js';
import { importLegacyCheckpoints, openStateDb, openStateStore, stateDbPath } from '../state/store.js';
import { acquireScanLock } from '../state/lock.js';
import { REPORT_FORMATS, writeRemediationPerOwner, writeReport, type ReportFormat } from '../state/report.js';
import { diffRuns, latestRunId } from '../state/picture.js';
import { newGraphStats, type GraphStats } from '../sources/graph/http.js';
import type { GraphSourceOptions } from '../sources/graph/options.js';
import { resolveRedisUrl } from '../queue/redis.js';
import { coordinatorFor, startWorker, type WorkerFlags } from './queue.js';

export const EXIT = { clean: 0, phiFound: 1, usage: 2, incomplete: 3 } as const;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of 0 or more');
  return n;
}

/** `50MB`, `512k`, `1048576` → bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('a size such as 50MB, 512KB or 1048576');
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(m[1]) * factor);
  if (bytes < 1024) throw new InvalidArgumentError('at least 1KB');
  return bytes;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--rules builtin` (or no --rules) is the bundled rules/ folder. */
function rulesDirs(given: string[] | undefined): string[] {
  if (!given || given.length === 0) return [BUNDLED_RULES_DIR];
  return given.map((d) => (d === 'builtin' ? BUNDLED_RULES_DIR : d));
}

interface ScanFlags {
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

/** Graph settings from flags; the summary line goes to stderr after the scan (no PHI: counts only). */
async function graphOptions(sources: string[], flags: ScanFlags): Promise<{ options?: GraphSourceOptions; stats?: GraphStats }> {
  if (!sources.some((s) => s.startsWith('graph:'))) {
    if (flags.users !== undefined || flags.group !== undefined || flags.includeHiddenFolders) {
      throw new ScanError('usage', '--users, --group and --include-hidden-folders apply to graph:// sources');
    }
    return {};
  }
  const stats = newGraphStats();
  const options: GraphSourceOptions = {
    ...(flags.users !== undefined ? { users: await parseUsers(flags.users) } : {}),
    ...(flags.group !== undefined ? { group: flags.group } : {}),
    includeHiddenFolders: flags.includeHiddenFolders === true,
    ...(flags.graphConcurrency !== undefined ? { globalConcurrency: flags.graphConcurrency } : {}),
    stats,
    ...(flags.progress && process.stderr.isTTY ? { log: (line: string) => void process.stderr.write(`\r\x1b[K${line}\n`) } : {}),
  };
  return { options, stats };
}

function graphSummary(s: GraphStats): string {
  return `phi-scan: graph: ${s.requests} requests (${s.batchSteps} in $batch), ${s.retries} retries (${s.throttled} throttled or busy, ${s.networkErrors} connection failures), waited ${(s.waitedMs / 1000).toFixed(1)} s\n`;
}

async function runScan(sources: string[], flags: ScanFlags): Promise<number> {
  const { rules, warnings } = await loadRules(rulesDirs(flags.rules));
  for (const w of warnings) process.stderr.write(`phi-scan: warning: ${w}\n`);
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
  // One report, or (--config outputs) several: each format to its own file or stdout.
  const sinks = [];
  for (const output of flags.outputs ?? [{ ...(flags.format ? { format: flags.format } : {}), ...(flags.out !== undefined ? { out: flags.out } : {}) }]) {
    const toFile = output.out !== undefined && output.out !== '-';
    const format: Format = output.format ?? (!toFile && process.stdout.isTTY ? 'table' : 'jsonl');
    const stream = toFile ? createWriteStream(output.out as string, { mode: 0o600 }) : process.stdout;
    if (toFile) {
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', (err) => reject(new ScanError('usage', `--out ${output.out}: cannot write (${(err as { code?: string }).code ?? 'I/O error'})`)));
      });
    }
    sinks.push(createSink(format, textOutput(stream, toFile, !toFile)));
  }
  const graph = await graphOptions(sources, flags);
  const progress = flags.progress && process.stderr.isTTY ? progressReporter(process.stderr) : undefined;
  // The SQLite state store: checkpoints, and a sink recording this run (runs, messages, findings).
  const abort = new AbortController();
  const onSignal = (): void => abort.abort('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // `scan | head -1`: the reader went away. Stop quietly; the run is marked interrupted
  // (output-closed) in the state store and the other outputs, and the exit status is 3.
  process.stdout.on('error', () => abort.abort('output-closed'));
  const queueUrl = resolveRedisUrl(flags.queue, process.env);
  const imapOptions = {
    env: process.env,
    thread: true,
    ...(flags.accounts !== undefined ? { accountsFile: flags.accounts } : {}),
    ...(flags.folders !== undefined ? { folders: flags.folders } : {}),
    ...(flags.excludeFolders !== undefined ? { excludeFolders: flags.excludeFolders } : {}),
    ...(flags.imapConnections !== undefined ? { connectionsPerHost: flags.imapConnections } : {}),
    ...(flags.imapTimeout !== undefined ? { timeoutMs: flags.imapTimeout * 1000 } : {}),
  };
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
        imap: imapOptions,
        ...(graph.options ? { graph: graph.options } : {}),
        redact: createEngine(rules, key).redact,
        signal: abort.signal,
        ...(flags.progress && process.stderr.isTTY ? { onProgress: (line: string) => void process.stderr.write(`\r${line.slice(0, Math.max(20, (process.stderr.columns || 80) - 1))}\x1b[K`) } : {}),
      })
    : undefined;
  let store: ReturnType<typeof openStateStore>;
  try {
    importLegacyCheckpoints(dbFile, stateDir);
    store = openStateStore(dbFile, { sources, sinceLast: flags.sinceLast, minConfidence: flags.minConfidence });
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
      imap: imapOptions,
      sinks: [...sinks, store],
      checkpoints: store,
      sinceLast: flags.sinceLast,
      strict: flags.strict,
      signal: abort.signal,
      ...(progress && !queued ? { onProgress: progress.update } : {}),
      ...(graph.options ? { graph: graph.options } : {}),
      ...(queued ? { remote: queued.coordinator } : {}),
    });
    // Written completely: the queued scan's jobs and results in Redis can go.
    if (!abort.signal.aborted) await queued?.done();
    return result.exitCode;
  } finally {
    await queued?.coordinator.close();
    if (queued && flags.progress && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    store.dispose();
    progress?.done();
    if (graph.stats) process.stderr.write(graphSummary(graph.stats));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `phi-scan report | head`, `rules test … | head`: a reader that stops early is not an error;
 * the command stops quietly with the status it had (`status`: what it would have returned).
 */
function quietOnClosedStdout(status: number = EXIT.clean): void {
  process.stdout.once('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`phi-scan: standard output: ${err.code ?? 'write error'}\n`);
    process.exit(err.code === 'EPIPE' ? status : EXIT.incomplete);
  });
}

interface ReportFlags {
  format: ReportFormat;
  out?: string;
  state?: string;
  run?: number;
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
    const out = toFile ? await openOutFile(flags.out as string) : textOutput(process.stdout, false);
    await writeReport(db, flags.format, out, flags.run);
    await out.end();
    return EXIT.clean;
  } finally {
    db.close();
  }
}

/** Opens a file for writing (mode 0600, it lists masked PHI locations), as a TextOutput. */
async function openOutFile(file: string): Promise<ReturnType<typeof textOutput>> {
  const stream = createWriteStream(file, { mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) => reject(new ScanError('usage', `${file}: cannot write (${(err as { code?: string }).code ?? 'I/O error'})`)));
  });
  return textOutput(stream, true);
}

async function runRemediate(flags: { outDir: string; state?: string; run?: number }): Promise<number> {
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
    const written = await writeRemediationPerOwner(db, flags.outDir, openOutFile, flags.run);
    quietOnClosedStdout(EXIT.clean);
    // One line per owner on stdout (counts and file names only), for the ticket glue.
    for (const w of written) process.stdout.write(`${JSON.stringify({ type: 'remediation', ...w, csv: `${w.file}.csv`, json: `${w.file}.json` })}\n`);
    return EXIT.clean;
  } finally {
    db.close();
  }
}

async function runDiff(a: number, b: number, flags: { state?: string; format: 'jsonl' | 'table' }): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const file = stateDbPath(flags.state, process.env, stateDir);
  const db = openStateDb(file, { create: false });
  try {
    for (const run of [a, b]) {
      if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run)) throw new ScanError('usage', `run ${run}: no such run in ${file} (latest: ${latestRunId(db) ?? 'none'})`);
    }
    const rows = diffRuns(db, a, b);
    quietOnClosedStdout();
    const out = textOutput(process.stdout, false);
    for (const row of rows) {
      if (flags.format === 'jsonl') {
        await out.write(`${JSON.stringify({ type: 'diff', source: row.source, mailbox: row.mailbox, added: row.added.length, resolved: row.resolved.length })}\n`);
        for (const m of row.added) await out.write(`${JSON.stringify({ type: 'added', source: row.source, mailbox: row.mailbox, ...m })}\n`);
        for (const m of row.resolved) await out.write(`${JSON.stringify({ type: 'resolved', source: row.source, mailbox: row.mailbox, ...m })}\n`);
      } else {
        await out.write(`${row.mailbox} (${row.source}): ${row.added.length} new, ${row.resolved.length} resolved\n`);
        for (const m of row.added) await out.write(`  + ${m.folder}  ${m.messageId}  ${m.categories.join(',')}\n`);
        for (const m of row.resolved) await out.write(`  - ${m.folder}  ${m.messageId}  ${m.categories.join(',')}\n`);
      }
    }
    return EXIT.clean;
  } finally {
    db.close();
  }
}

async function runRulesList(flags: { rules?: string[] }): Promise<number> {
  const { rules } = await loadRules(rulesDirs(flags.rules));
  quietOnClosedStdout(EXIT.clean);
  const rows = rules.map((r) => [r.id, r.category, r.detector.id, String(r.patterns.length), r.file]);
  const header = ['RULE', 'CATEGORY', 'DETECTOR', 'PATTERNS', 'FILE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  for (const row of [header, ...rows]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  return EXIT.clean;
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
  quietOnClosedStdout(hits.length > 0 ? EXIT.phiFound : EXIT.clean);
  for (const { finding: f } of hits) {
    const why = [`pattern=${f.why.pattern}`, `verdict=${f.why.verdict}`];
    if (f.why.label) why.push(`label="${f.why.label}"`);
    if (f.why.nearKeyword) why.push(`near="${f.why.nearKeyword}"`);
    if (f.why.negative) why.push(`negative="${f.why.negative}"`);
    process.stdout.write(`${f.rule}\t${f.category}\t${f.confidence}\t${f.score.toFixed(2)}\t${f.masked}\t${why.join(' ')}\n`);
  }
  return hits.length > 0 ? EXIT.phiFound : EXIT.clean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('phi-scan')
    .description('Find protected health information (PHI) in mailboxes and mail archives.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
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
    .option('--max-message-size <size>', 'larger messages are reported as errors, not read', parseSize, 50 * 1024 * 1024)
    .option('--max-depth <n>', 'how deep attached messages and archives are opened', positiveInt, 5)
    .option('--max-attachment-size <size>', 'larger attachments (and archive members) are reported as errors, not read (default 50MB)', parseSize)
    .option('--attachment-timeout <seconds>', 'time to read one attachment, archives included (default 30)', positiveInt)
    .option('--state <dir>', 'state folder or .db file (fingerprint key, state database); default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--since-last', 'scan only what is new since the last scan of each folder (checkpoints in the state folder)', false)
    .option('--wait-lock <seconds>', 'another scan is using the same state database: wait up to this long for it to end (default: stop at once, exit 2)', positiveInt)
    .option('--strict', 'items not read by design (images without text, legacy .doc, unsupported attachments) make the scan incomplete (exit 3)', false)
    .option('--no-progress', 'no progress line on stderr')
    .option('--users <list>', 'graph: only these users (UPNs or ids), comma-separated, or @FILE with one a line')
    .option('--group <id>', 'graph: only the user members (transitive) of this group')
    .option('--include-hidden-folders', 'graph: also scan hidden mail folders')
    .option('--graph-concurrency <n>', 'graph: requests in flight across all mailboxes (per mailbox: at most 4)', positiveInt)
    .option('--accounts <file>', 'IMAP: scan every mailbox listed in this CSV or YAML file (SOURCE is then imap[s]://HOST[:PORT])')
    .option('--folders <glob>', 'IMAP: only folders matching these globs (comma-separated or repeated; * within a level, ** across)', collect)
    .option('--exclude-folders <glob>', 'IMAP: skip folders matching these globs (comma-separated or repeated)', collect)
    .option('--imap-connections <n>', 'IMAP: connections open at once to one server (default 4)', positiveInt)
    .option('--imap-timeout <seconds>', 'IMAP: seconds to wait for a connection, the greeting or a reply (default 60)', positiveInt)
    .option('--queue <url>', 'run the scan on queue workers through Redis: redis://HOST[:PORT][/DB] or rediss:// (default $PHI_SCAN_REDIS_URL; a password only there)')
    .action(async (sources: string[], flags: ScanFlags, cmd: Command) => {
      const resolved = await withConfig(sources, flags, cmd);
      setExit(await runScan(resolved.sources, resolved.flags));
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
    .description('print the state store\'s current picture (or as of --run): jsonl records, json summary with breach sizing, csv remediation list, html')
    .addOption(new Option('--format <format>', 'report format').choices(REPORT_FORMATS).default('jsonl'))
    .option('--run <id>', 'the picture as of this run (default: the latest)', positiveInt)
    .option('--out <file>', 'write the report to a file instead of stdout')
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .action(async (flags: ReportFlags) => setExit(await runReport(flags)));

  program
    .command('remediate')
    .description('write the remediation list per mailbox owner: one NAME.csv and NAME.json per mailbox holding PHI')
    .requiredOption('--out-dir <dir>', 'folder for the per-owner files (created, files mode 0600)')
    .option('--run <id>', 'as of this run (default: the latest)', positiveInt)
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .action(async (flags: { outDir: string; state?: string; run?: number }) => setExit(await runRemediate(flags)));

  program
    .command('diff')
    .description('messages holding PHI that are new in run B, and resolved since run A, per mailbox')
    .argument('<runA>', 'the earlier run id', positiveInt)
    .argument('<runB>', 'the later run id', positiveInt)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .action(async (a: number, b: number, flags: { state?: string; format: 'jsonl' | 'table' }) => setExit(await runDiff(a, b, flags)));

  const rules = program.command('rules').description('inspect and try the detection rules');
  rules
    .command('list')
    .description('list the rules that would be used')
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable').argParser(collect))
    .action(async (flags: { rules?: string[] }) => setExit(await runRulesList(flags)));
  rules
    .command('test')
    .description('run the rules over a text file (or - for stdin) and print masked findings')
    .argument('<file>', 'a text file, or - for standard input')
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable').argParser(collect))
    .addOption(new Option('--min-confidence <level>', 'show findings at or above this confidence').choices(CONFIDENCES).default('low'))
    .action(async (file: string, flags: { rules?: string[]; minConfidence: Confidence }) => setExit(await runRulesTest(file, flags)));
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
      process.stderr.write(`phi-scan: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`phi-scan: internal error: ${safeReason(err)}\n`);
    return EXIT.incomplete;
  }
}
