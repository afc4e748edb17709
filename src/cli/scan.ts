/** `phi-scan scan`: flags (and --config) → ScanSettings → a scan session (session/session.ts). */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { CONFIDENCES, type Confidence } from '../model/finding.js';
import { DEFAULT_IGNORE_FILE } from '../findings/suppress.js';
import { runSession } from '../session/session.js';
import { ScanSettingsSchema, describeIssues, type ScanSettingsInput } from '../pipeline/settings.js';
import { FORMATS, type Format } from '../sinks/index.js';
import { SOURCES } from '../sources/registry.js';
import { definedOnly as given } from '../common/defined.js';
import { ScanError } from '../common/errors.js';
import { collect, parseSize, positiveInt } from './common.js';
import { loadScanConfig } from './config.js';
import { addDetectionOptions, addThreadOptions, detectionSettings, threadSettings, type DetectionFlags, type ThreadFlags } from './detection.js';
import { checkSource, expandHome } from './inputs.js';

/** The flags as commander gives them; every one has its key in ScanSettings (or a source's settings). */
interface ScanFlags extends DetectionFlags, ThreadFlags {
  config?: string;
  color?: boolean;
  format?: Format;
  out?: string;
  rules?: string[];
  minConfidence?: Confidence;
  mailbox?: string;
  concurrency?: number;
  maxMessageSize?: number;
  state?: string;
  progress?: boolean;
  sinceLast?: boolean;
  strict?: boolean;
  waitLock?: number;
  ignoreFile?: string;
  queue?: string;
  accounts?: string;
  folders?: string[];
  excludeFolders?: string[];
  imapConnections?: number;
  imapTimeout?: number;
  users?: string;
  group?: string;
  includeHiddenFolders?: boolean;
  graphConcurrency?: number;
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

/** The settings the command line gives: only flags given (commander's defaults are ScanSettings' defaults). */
async function flagSettings(f: ScanFlags): Promise<Record<string, unknown>> {
  const imap = given({
    accountsFile: f.accounts,
    folders: f.folders,
    excludeFolders: f.excludeFolders,
    connectionsPerHost: f.imapConnections,
    timeoutMs: f.imapTimeout !== undefined ? f.imapTimeout * 1000 : undefined,
  });
  const graph = given({
    users: f.users !== undefined ? await parseUsers(f.users) : undefined,
    group: f.group,
    includeHiddenFolders: f.includeHiddenFolders,
    globalConcurrency: f.graphConcurrency,
  });
  return given({
    rules: f.rules,
    minConfidence: f.minConfidence,
    mailbox: f.mailbox,
    concurrency: f.concurrency,
    ...threadSettings(f),
    maxMessageSize: f.maxMessageSize,
    ...detectionSettings(f),
    state: f.state,
    // --no-progress / --no-color: commander sets false only when given.
    progress: f.progress === false ? false : undefined,
    color: f.color === false ? false : undefined,
    sinceLast: f.sinceLast,
    strict: f.strict,
    waitLock: f.waitLock,
    ignoreFile: f.ignoreFile,
    format: f.format,
    out: f.out,
    queue: f.queue,
    ...(Object.keys(imap).length > 0 ? { imap } : {}),
    ...(Object.keys(graph).length > 0 ? { graph } : {}),
  });
}

/**
 * The scan's settings: `--config FILE`'s, with every flag given on the command line taking
 * precedence (a source's settings merged key by key); sources from both are scanned.
 */
export async function scanSettings(args: readonly string[], flags: ScanFlags): Promise<ScanSettingsInput> {
  const cli = await flagSettings(flags);
  const config = flags.config !== undefined ? await loadScanConfig(flags.config) : {};
  const sources = [...(config.sources ?? []), ...args].map((s) => expandHome(s));
  if (sources.length === 0) throw new ScanError('usage', 'scan: give at least one SOURCE, or --config FILE');
  const merged: Record<string, unknown> = { ...config, ...cli, sources };
  const fromFile: Record<string, unknown> = config;
  const fromFlags: Record<string, unknown> = cli;
  // Each source's own settings (sources/registry.ts), merged key by key.
  for (const { name } of SOURCES) {
    if (fromFile[name] !== undefined || fromFlags[name] !== undefined) merged[name] = { ...(fromFile[name] as object), ...(fromFlags[name] as object) };
  }
  // --format/--out on the command line: one report, instead of the file's outputs.
  if (cli.format !== undefined || cli.out !== undefined) delete merged.outputs;
  const graph = merged.graph as { users?: unknown; group?: unknown; includeHiddenFolders?: unknown } | undefined;
  if (!sources.some((s) => s.startsWith('graph:')) && graph && (graph.users !== undefined || graph.group !== undefined || graph.includeHiddenFolders === true)) {
    throw new ScanError('usage', '--users, --group and --include-hidden-folders apply to graph:// sources');
  }
  const parsed = ScanSettingsSchema.safeParse(merged);
  if (!parsed.success) throw new ScanError('usage', `scan: ${describeIssues(parsed.error)}`);
  return merged as ScanSettingsInput;
}

export function registerScan(program: Command, setExit: (code: number) => void): void {
  const scan = program
    .command('scan')
    .description('scan mailboxes and archives: mbox:PATH, maildir:PATH, eml:PATH, pst:PATH (PST/OST file or folder), imap[s]://USER@HOST[:PORT][/FOLDER], graph://TENANT[/USER-or-*]')
    .argument('[source...]', 'what to scan, e.g. mbox:archive.mbox maildir:~/Maildir eml:exports/')
    .option('--config <file>', 'a YAML file of scan settings (sources, any flag in camelCase, outputs, imap:, graph:); flags given here win')
    .addOption(new Option('--format <format>', 'output format (default: table on a terminal, jsonl otherwise)').choices(FORMATS))
    .option('--out <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable; "builtin" is the bundled rules/ (default)').argParser(collect))
    .addOption(new Option('--min-confidence <level>', 'report findings at or above this confidence (default: medium)').choices(CONFIDENCES))
    .option('--mailbox <name>', 'mailbox name to report for archive sources')
    .option('--concurrency <n>', 'messages parsed and scanned at once (default: 8)', positiveInt);
  // The flags of how messages are read, shared with remediate (cli/detection.ts), where they always were in the help.
  addThreadOptions(scan).option('--max-message-size <size>', 'larger messages are reported as errors, not read (default: 50MB)', parseSize);
  addDetectionOptions(scan)
    .option('--state <dir>', 'state folder or .db file (fingerprint key, state database); default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--since-last', 'scan only what is new since the last scan of each folder (checkpoints in the state folder)')
    .option('--wait-lock <seconds>', 'another scan is using the same state database: wait up to this long for it to end (default: stop at once, exit 2)', positiveInt)
    .option('--strict', 'items not read by design (images without text, legacy .doc, unsupported attachments) make the scan incomplete (exit 3)')
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
    .action(async (args: string[], flags: ScanFlags) => {
      const settings = await scanSettings(args, flags);
      for (const spec of settings.sources) for (const w of await checkSource(spec)) process.stderr.write(`phi-scan: warning: ${w}\n`);
      setExit(await runSession(ScanSettingsSchema.parse(settings), { handleSignals: true }));
    });
}
