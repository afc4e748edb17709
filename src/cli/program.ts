/**
 * The command line: one file per command (scan.ts, report.ts, worker.ts, runs.ts, diff.ts,
 * rules.ts), each registered here with one line; main() maps errors to the exit status.
 * Exit status (common.ts EXIT, CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or
 * configuration · 3 scan incomplete or interrupted.
 */
import { mkdir } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { maskSsnShapes, stripControls } from '../findings/names.js';
import { DEFAULT_IGNORE_FILE, loadSuppressions } from '../findings/suppress.js';
import { safeReason } from '../parse/mime.js';
import { ScanError } from '../shared/errors.js';
import { openPrivateOutput } from '../sinks/output.js';
import { latestRunId, suppressedInScope } from '../state/picture.js';
import { writeRemediationPerOwner } from '../state/report.js';
import { openStateDb, stateDbPath } from '../state/store.js';
import { applySuppressions } from '../state/suppress.js';
import { resolveStateDir } from '../findings/key.js';
import { EXIT, positiveInt, quietOnClosedStdout } from './common.js';
import { registerDiff } from './diff.js';
import { registerReport } from './report.js';
import { registerRules } from './rules.js';
import { registerRuns } from './runs.js';
import { registerScan } from './scan.js';
import { packageVersion } from './version.js';
import { registerWorker } from './worker.js';

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

  registerScan(program, setExit);
  registerWorker(program, setExit);
  registerReport(program, setExit);
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
