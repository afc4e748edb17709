/** `phi-scan report`: the state store's picture (or as of --run) as records or a rendered report. */
import { Command, Option } from 'commander';
import { resolveStateDir } from '../findings/key.js';
import { DEFAULT_IGNORE_FILE, loadSuppressions } from '../findings/suppress.js';
import { tableOptions } from '../sinks/table.js';
import { ScanError } from '../common/errors.js';
import { openPrivateOutput, textOutput } from '../sinks/output.js';
import { latestRunId, suppressedInScope } from '../report/picture.js';
import { REPORT_FORMATS, writeReport, type ReportFormat } from '../report/report.js';
import { openStateDb, stateDbPath } from '../state/store.js';
import { applySuppressions } from '../state/suppress.js';
import { EXIT, positiveInt, quietOnClosedStdout } from './common.js';

export interface ReportFlags {
  color?: boolean;
  format: ReportFormat;
  out?: string;
  state?: string;
  run?: number;
  ignoreFile?: string;
}

export async function runReport(flags: ReportFlags): Promise<number> {
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
    const out = toFile ? await openPrivateOutput(flags.out as string) : textOutput(process.stdout, false);
    await writeReport(db, flags.format, out, flags.run, { table: tableOptions(toFile ? undefined : process.stdout, process.env, flags.color) });
    await out.end();
    const dropped = suppress ? suppressedInScope(db, flags.run) : undefined;
    if (dropped && dropped.findings > 0) process.stderr.write(`phi-scan: ${dropped.findings} findings suppressed by ${dropped.file}\n`);
    return EXIT.clean;
  } finally {
    db.close();
  }
}

export function registerReport(program: Command, setExit: (code: number) => void): void {
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
}
