/**
 * The command line: one file per command (scan.ts, report.ts, worker.ts, runs.ts, diff.ts,
 * rules.ts), each registered here with one line; main() maps errors to the exit status.
 * Exit status (common.ts EXIT, CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or
 * configuration · 3 scan incomplete or interrupted.
 */
import { Command, CommanderError } from 'commander';
import { maskSsnShapes, stripControls } from '../findings/names.js';
import { safeReason } from '../parse/mime.js';
import { ScanError } from '../shared/errors.js';
import { EXIT } from './common.js';
import { registerDiff } from './diff.js';
import { registerEdm } from './edm.js';
import { registerRemediate } from './remediate.js';
import { registerReport } from './report.js';
import { registerRules } from './rules.js';
import { registerRuns } from './runs.js';
import { registerScan } from './scan.js';
import { packageVersion } from './version.js';
import { registerWorker } from './worker.js';

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
  registerRemediate(program, setExit);
  registerEdm(program, setExit);

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
