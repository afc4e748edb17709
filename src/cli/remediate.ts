/**
 * `phi-scan remediate`: the per-owner remediation lists (`--out-dir`, as before), and acting on
 * them: a plan from the state store (`--run`) or a reviewed plan file (`--plan`), dry run by
 * default (`--apply` acts), an audit log (`--log`), `--verify-log LOG` and `--undo LOG`.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { EXIT, collect, positiveInt } from './common.js';
import { loadScanConfig } from './config.js';
import { definedOnly } from '../common/defined.js';
import { addDetectionOptions, addThreadOptions, detectionSettings, threadSettings, type DetectionFlags, type ThreadFlags } from './detection.js';
import { createEngine } from '../engine/engine.js';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { DEFAULT_IGNORE_FILE, loadSuppressions } from '../findings/suppress.js';
import { loadRules, rulesDirs } from '../rules/load.js';
import { ScanError } from '../common/errors.js';
import { progressCsvHeader, progressCsvLine } from '../sinks/csv.js';
import { openPrivateOutput } from '../sinks/output.js';
import { latestRunId, suppressedInScope } from '../report/picture.js';
import { writeRemediationPerOwner } from '../report/report.js';
import { openStateDb, stateDbPath } from '../state/store.js';
import { applySuppressions } from '../state/suppress.js';
import { AuditLog, verifyLog } from '../remediate/audit.js';
import { archiveRemediation } from '../remediate/archive.js';
import { ACTIONS, openPlan, planHeader, planItems, validKeyword, writePlan, writtenPlan, type PlanFile, type PlanHeader, type PlanOptions, type PlanTally, type RemediationAction } from '../remediate/plan.js';
import { runPlan, undoLog, type StepRecord, type TargetFactory, type UndoFactory } from '../remediate/run.js';
import { recordRemediations, remediationProgress } from '../remediate/progress.js';
import { remediationOf } from '../sources/registry.js';
import { RescanSettingsSchema, describeIssues, detectionOf } from '../pipeline/settings.js';
import { createScanner, type MessageScanner } from '../pipeline/scanner.js';
import { edmFor } from '../edm/edm.js';
import { NOT_FOUND_AGAIN } from '../remediate/target.js';
import { countProgress } from '../session/progress.js';
import { ROSTER_SSN_RULE } from '../people/message.js';

export interface RemediateFlags extends DetectionFlags, ThreadFlags {
  config?: string;
  outDir?: string;
  state?: string;
  run?: number;
  ignoreFile?: string;
  action?: RemediationAction;
  plan?: string;
  mailbox?: string[];
  to?: string;
  keyword?: string;
  planOut?: string;
  apply?: boolean;
  log?: string;
  accounts?: string;
  rules?: string[];
  verifyLog?: string;
  undo?: string;
  status?: boolean;
  format?: (typeof STATUS_FORMATS)[number];
}

/** `--status` as JSON lines (`remediation-status` records) or as a csv table for a spreadsheet. */
const STATUS_FORMATS = ['jsonl', 'csv'] as const;

function checkRun(db: ReturnType<typeof openStateDb>, run: number | undefined, file: string): void {
  if (run !== undefined && !db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run)) {
    throw new ScanError('usage', `--run ${run}: no such run in ${file} (latest: ${latestRunId(db) ?? 'none'})`);
  }
}

/** The list mode of 0.x: one NAME.csv and NAME.json per mailbox owner. */
async function writeLists(flags: RemediateFlags & { outDir: string }): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const file = stateDbPath(flags.state, process.env, stateDir);
  const db = openStateDb(file, { create: false });
  try {
    checkRun(db, flags.run, file);
    try {
      await mkdir(flags.outDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new ScanError('usage', `--out-dir ${flags.outDir}: cannot create (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
    // The remediation list is report's: the same ignore file leaves the same findings out.
    const suppress = await loadSuppressions(flags.ignoreFile);
    if (suppress) applySuppressions(db, suppress);
    const written = await writeRemediationPerOwner(db, flags.outDir, openPrivateOutput, flags.run);
    const dropped = suppress ? suppressedInScope(db, flags.run) : undefined;
    if (dropped && dropped.findings > 0) process.stderr.write(`phi-scan: ${dropped.findings} findings suppressed by ${dropped.file}\n`);
    // One line per owner on stdout (counts and file names only), for the ticket glue.
    for (const w of written) process.stdout.write(`${JSON.stringify({ type: 'remediation', ...w, csv: `${w.file}.csv`, json: `${w.file}.json` })}\n`);
    return EXIT.clean;
  } finally {
    db.close();
  }
}

/**
 * The plan: a reviewed file, or one built from the store's picture as of --run and written first
 * (0600: what a dry run would do, for review), then acted on as read back from that file.
 */
async function planFor(flags: RemediateFlags, stateDir: string): Promise<PlanFile> {
  if (flags.plan !== undefined) {
    if (flags.run !== undefined) throw new ScanError('usage', 'give --plan FILE or --run ID, not both');
    const plan = await openPlan(flags.plan, flags.mailbox);
    if (flags.action !== undefined && flags.action !== plan.header.action) throw new ScanError('usage', `--action ${flags.action}: the plan says ${plan.header.action}`);
    return plan;
  }
  if (flags.action === undefined) throw new ScanError('usage', 'remediate: give --action move|tag|delete (with --run ID or --plan FILE), or --out-dir DIR for the lists');
  if (flags.keyword !== undefined && !validKeyword(flags.keyword)) throw new ScanError('usage', `--keyword: not an IMAP keyword (letters, digits, $ and - without spaces or ( ) { % * " \\ ])`);
  const file = stateDbPath(flags.state, process.env, stateDir);
  const db = openStateDb(file, { create: false });
  let out: string;
  let written: { header: PlanHeader; tally: PlanTally };
  try {
    checkRun(db, flags.run, file);
    const run = flags.run ?? latestRunId(db);
    if (run === undefined) throw new ScanError('usage', `${file}: no scan recorded yet`);
    const suppress = await loadSuppressions(flags.ignoreFile);
    if (suppress) applySuppressions(db, suppress);
    const options: PlanOptions = {
      run,
      action: flags.action,
      ...(flags.mailbox ? { mailboxes: flags.mailbox } : {}),
      ...(flags.to !== undefined ? { to: flags.to } : {}),
      ...(flags.keyword !== undefined ? { keyword: flags.keyword } : {}),
    };
    const header = planHeader(options);
    out = flags.planOut ?? path.join(stateDir, 'plans', `plan-run${header.run}-${header.action}-${header.createdAt.replace(/[:.]/g, '')}.json`);
    await mkdir(path.dirname(out), { recursive: true, mode: 0o700 });
    const output = await openPrivateOutput(out);
    let tally: PlanTally;
    try {
      tally = await writePlan(output, header, planItems(db, options));
    } finally {
      await output.end();
    }
    process.stderr.write(`phi-scan: plan of ${tally.count} messages written to ${out}\n`);
    written = { header, tally };
  } finally {
    db.close();
  }
  return writtenPlan(out, written.header, written.tally);
}

/**
 * How messages are scanned again: with the rules, detection settings and fences the scan had
 * (`--rules`, `--max-depth`, `--edm`, `--message-timeout`, …: cli/detection.ts), so that what it
 * found is found again, in worker threads as a scan's messages are.
 */
async function rescanner(flags: RemediateFlags, key: Buffer): Promise<MessageScanner> {
  const parsed = RescanSettingsSchema.safeParse({ ...detectionSettings(flags), ...threadSettings(flags) });
  if (!parsed.success) throw new ScanError('usage', `remediate: ${describeIssues(parsed.error)}`);
  const s = parsed.data;
  const edm = s.edm !== undefined ? path.resolve(s.edm) : undefined;
  // A roster that cannot be read or was built with another key stops here, before anything is verified.
  if (edm !== undefined) edmFor(edm, key);
  const { rules } = await loadRules(rulesDirs(flags.rules));
  const today = new Date();
  return createScanner(createEngine(rules, key, { today }), {
    rules,
    key,
    today,
    options: { minConfidence: 'low', ...detectionOf(s), ...(edm !== undefined ? { people: { key, edm } } : {}) },
    threads: s.threads,
    messageTimeoutMs: s.messageTimeout * 1000,
    threadMemoryMb: s.threadMemory,
  });
}

function emitLine(r: object): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function targets(flags: RemediateFlags): TargetFactory {
  return (source, ctx) => {
    if (/^(mbox|maildir|eml):/.test(source)) return archiveRemediation(source, ctx);
    return remediationOf(source, writerOptions(flags))?.target(ctx);
  };
}

function undoTargets(flags: RemediateFlags): UndoFactory {
  return (source) => remediationOf(source, writerOptions(flags))?.undo();
}

function writerOptions(flags: RemediateFlags): { env: NodeJS.ProcessEnv; accountsFile?: string } {
  return { env: process.env, ...(flags.accounts !== undefined ? { accountsFile: flags.accounts } : {}) };
}

function summary(counts: Record<StepRecord['status'], number>, apply: boolean): string {
  const parts = apply
    ? [`${counts.done} done`, `${counts['already-done']} already done`, `${counts.skipped} skipped`, `${counts.failed} failed`]
    : [`${counts['would-act']} would be acted on`, `${counts['already-done']} already done`, `${counts.skipped} would be skipped`, `${counts.failed} could not be verified`];
  return parts.join(', ');
}

async function runActions(flags: RemediateFlags): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const key = await resolveKey(stateDir, process.env);
  const plan = await planFor(flags, stateDir);
  const apply = flags.apply === true;
  if (plan.needsRoster > 0 && flags.edm === undefined) {
    throw new ScanError('usage', `the plan holds ${plan.needsRoster} messages with findings only the scan's roster finds (${ROSTER_SSN_RULE}): give --edm FILE as the scan did, or they cannot be verified`);
  }
  const logFile = flags.log ?? path.join(stateDir, 'remediation-log.jsonl');
  const scanner = await rescanner(flags, key);
  // On a terminal: messages read again of the plan's (an archive's are all read before its first step).
  const progress = process.stderr.isTTY ? countProgress(process.stderr, apply ? 'remediate: read again' : 'remediate (dry run): read again', plan.count) : undefined;
  let log: AuditLog | undefined;
  const done: StepRecord[] = [];
  let notFoundAgain = 0;
  try {
    log = apply ? await AuditLog.open(logFile, key) : undefined;
    const { counts } = await runPlan(plan, { scanner, plan, apply, ...(progress ? { rescanned: progress.tick } : {}) }, targets(flags), log, (r) => {
      if (r.status === 'done' || r.status === 'already-done') done.push(r);
      if (r.reason?.includes(NOT_FOUND_AGAIN)) notFoundAgain++;
      progress?.done();
      emitLine(r);
    });
    progress?.done();
    if (apply && done.length > 0) {
      // The store learns what was done (remediate --status); a scan confirms it later.
      const db = openStateDb(stateDbPath(flags.state, process.env, stateDir), { create: false });
      try {
        recordRemediations(db, done.map((d) => ({ source: d.source, mailbox: d.mailbox, folder: d.folder, messageId: d.messageId, action: d.action, ...(d.to !== undefined ? { to: d.to } : {}) })), logFile);
      } finally {
        db.close();
      }
    }
    process.stderr.write(`phi-scan: ${apply ? '' : 'dry run (nothing changed; --apply acts): '}${summary(counts, apply)}${log ? `; audit log ${logFile}` : ''}\n`);
    if (notFoundAgain > 0) {
      process.stderr.write(`phi-scan: ${notFoundAgain} messages skipped because findings of the plan were not found again: changed since, or scanned with settings this run was not given (--rules, --edm, --max-depth, --max-attachment-size, --no-ocr, …: give the scan's)\n`);
    }
    return counts.failed > 0 ? EXIT.incomplete : EXIT.clean;
  } finally {
    progress?.done();
    log?.close();
    await scanner.close();
  }
}

async function runVerifyLog(file: string, flags: RemediateFlags): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const key = await resolveKey(stateDir, process.env);
  const v = await verifyLog(file, key);
  emitLine({ type: 'audit-log', ok: v.ok, entries: v.entries.length, problems: v.problems, openIntents: v.openIntents, unendedSessions: v.unendedSessions.length });
  if (!v.ok) for (const p of v.problems) process.stderr.write(`phi-scan: ${file}: ${p}\n`);
  else {
    const notes = [
      ...(v.openIntents.length > 0 ? [`${v.openIntents.length} actions begun with no outcome logged (a killed run; the next --apply verifies them): entries ${v.openIntents.join(', ')}`] : []),
      ...(v.unendedSessions.length > 0 ? [`${v.unendedSessions.length} runs without an end entry (killed)`] : []),
    ];
    process.stderr.write(`phi-scan: ${file}: chain intact, ${v.entries.length} entries${notes.length > 0 ? `; ${notes.join('; ')}` : ''}\n`);
  }
  return v.ok ? EXIT.clean : EXIT.incomplete;
}

async function runUndo(file: string, flags: RemediateFlags): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const key = await resolveKey(stateDir, process.env);
  const apply = flags.apply === true;
  const { counts } = await undoLog(file, key, apply, undoTargets(flags), emitLine);
  process.stderr.write(`phi-scan: undo ${apply ? '' : 'dry run (nothing changed; --apply acts): '}${summary(counts, apply)}\n`);
  return counts.failed > 0 ? EXIT.incomplete : EXIT.clean;
}

function runStatus(flags: RemediateFlags): number {
  const stateDir = resolveStateDir(flags.state, process.env);
  const db = openStateDb(stateDbPath(flags.state, process.env, stateDir), { create: false });
  try {
    const progress = remediationProgress(db);
    if (flags.format === 'csv') {
      process.stdout.write(progressCsvHeader());
      for (const p of progress) process.stdout.write(progressCsvLine(p));
    } else for (const p of progress) emitLine(p);
    return EXIT.clean;
  } finally {
    db.close();
  }
}

/**
 * `--config FILE`, the scan's own settings file: what re-verification and the plan need of it
 * (its rules, roster, depth, attachment and OCR limits, threads, state, ignore file, IMAP accounts
 * file), each where this command line does not give it.
 */
async function withConfig(flags: RemediateFlags): Promise<RemediateFlags> {
  if (flags.config === undefined) return flags;
  const c = await loadScanConfig(flags.config);
  // The settings re-verification reads with have the same names as their flags (cli/detection.ts).
  const rescan = Object.fromEntries(Object.keys(RescanSettingsSchema.shape).map((k) => [k, c[k as keyof typeof c]]));
  const fromFile: RemediateFlags = definedOnly<RemediateFlags>({
    ...rescan,
    rules: c.rules,
    state: c.state,
    ignoreFile: c.ignoreFile,
    // A source's own settings are checked by that source's schema (sources/imap/options.ts).
    accounts: (c as { imap?: { accountsFile?: string } }).imap?.accountsFile,
  });
  return { ...fromFile, ...definedOnly<RemediateFlags>(flags) };
}

export async function runRemediate(given: RemediateFlags): Promise<number> {
  const flags = await withConfig(given);
  if (flags.status) return runStatus(flags);
  if (flags.format !== undefined) throw new ScanError('usage', '--format applies to --status (the lists of --out-dir are csv and json already)');
  const modes = [flags.outDir !== undefined, flags.action !== undefined || flags.plan !== undefined, flags.verifyLog !== undefined, flags.undo !== undefined].filter(Boolean).length;
  if (modes > 1) throw new ScanError('usage', 'remediate: give one of --out-dir (lists), --action/--plan (act), --verify-log, --undo');
  if (flags.verifyLog !== undefined) return runVerifyLog(flags.verifyLog, flags);
  if (flags.undo !== undefined) return runUndo(flags.undo, flags);
  if (flags.outDir !== undefined) return writeLists({ ...flags, outDir: flags.outDir });
  return runActions(flags);
}

export function registerRemediate(program: Command, setExit: (code: number) => void): void {
  const remediate = program
    .command('remediate')
    .description('act on the messages holding PHI: lists per owner (--out-dir), or a plan to move, tag or delete them (dry run unless --apply), with an audit log')
    .option('--out-dir <dir>', 'write the remediation list per mailbox owner: NAME.csv and NAME.json (files mode 0600)')
    .option('--run <id>', 'as of this run (default: the latest)', positiveInt)
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--ignore-file <file>', `reviewed findings to leave out, as scan does (default: ./${DEFAULT_IGNORE_FILE} when present)`)
    .addOption(new Option('--action <action>', 'move (to a quarantine folder; archives: clean and quarantine copies), tag (IMAP keyword), delete').choices(ACTIONS))
    .option('--plan <file>', 'act on this reviewed plan file (written by a dry run)')
    .option('--mailbox <name>', 'only this mailbox (repeatable)', collect)
    .option('--to <folder>', 'move: the quarantine folder (IMAP; created if missing; default PHI-Quarantine) or, for archives, the output folder')
    .option('--keyword <keyword>', 'tag: the IMAP keyword to set (default $PHI)')
    .option('--plan-out <file>', 'where to write the plan (default: STATE/plans/)')
    .option('--apply', 'act (default: a dry run that changes nothing)', false)
    .option('--log <file>', 'the audit log to append to (default: STATE/remediation-log.jsonl)')
    .option('--accounts <file>', 'IMAP: the accounts file the scan used (imap[s]://HOST sources)')
    .option('--rules <dir>', 'rules folder(s) for re-verification, as scan used (repeatable; default builtin)', collect)
    .option('--config <file>', "the scan's settings file (scan --config): its rules, roster, limits, threads, state, ignore file and IMAP accounts file, where not given here");
  // Re-verification reads messages as the scan did: in its threads, with its limits and roster (cli/detection.ts).
  addThreadOptions(remediate);
  addDetectionOptions(remediate, ' (re-verification: as the scan used it)')
    .option('--verify-log <log>', 'check an audit log\'s chain (edited, deleted or reordered entries)')
    .option('--status', 'per mailbox: messages holding PHI remaining, quarantined (acted on), tagged, and resolved (gone or clean at a later scan)')
    .addOption(new Option('--format <format>', '--status as JSON lines (default) or a csv table: source,mailbox,remaining,quarantined,tagged,resolved').choices(STATUS_FORMATS))
    .option('--undo <log>', 'undo the actions an audit log shows done (moves back, keywords removed); dry run unless --apply')
    .action(async (flags: RemediateFlags) => setExit(await runRemediate(flags)));
}
