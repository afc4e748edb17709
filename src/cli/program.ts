/**
 * The command line: one file per command (scan.ts, report.ts, worker.ts, runs.ts, diff.ts,
 * rules.ts), each registered here with one line; main() maps errors to the exit status.
 * Exit status (common.ts EXIT, CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or
 * configuration · 3 scan incomplete or interrupted.
 *
 * A command's module (and what it imports: the scan pipeline, pdf.js, the queue, the Graph
 * client…) is loaded only when that command runs: `phi-scan runs` does not load the scanner, and
 * `--version` loads no command at all. Start-up is most of what a short command costs.
 */
import { Command, CommanderError } from 'commander';
import { maskSsnShapes, stripControls } from '../findings/names.js';
import { ScanError } from '../common/errors.js';
import { safeReason } from '../common/safe-reason.js';
import { EXIT } from './exit.js';
import { packageVersion } from './version.js';

type Register = (program: Command, setExit: (code: number) => void) => void;

/** Every command by name, in the order `--help` lists them, with the module that registers it. */
export const COMMANDS: readonly { readonly name: string; readonly load: () => Promise<Register> }[] = [
  { name: 'scan', load: async () => (await import('./scan.js')).registerScan },
  { name: 'worker', load: async () => (await import('./worker.js')).registerWorker },
  { name: 'report', load: async () => (await import('./report.js')).registerReport },
  { name: 'remediate', load: async () => (await import('./remediate.js')).registerRemediate },
  { name: 'edm', load: async () => (await import('./edm.js')).registerEdm },
  { name: 'runs', load: async () => (await import('./runs.js')).registerRuns },
  { name: 'diff', load: async () => (await import('./diff.js')).registerDiff },
  { name: 'rules', load: async () => (await import('./rules.js')).registerRules },
];

/**
 * The commands an argument list needs registered: the one it runs (`scan …`, `help scan`), none
 * for `--version`, and every one otherwise (`--help`, no command, a mistyped one: commander lists
 * them or suggests the nearest).
 */
export function commandsFor(args: readonly string[]): readonly string[] {
  const [first, second] = args;
  const known = (name: string | undefined): boolean => COMMANDS.some((c) => c.name === name);
  if (first === '--version' || first === '-V') return [];
  if (known(first)) return [first as string];
  if (first === 'help' && known(second)) return [second as string];
  return COMMANDS.map((c) => c.name);
}

/** The program with the given commands registered (all of them by default). */
export async function buildProgram(setExit: (code: number) => void, names: readonly string[] = COMMANDS.map((c) => c.name)): Promise<Command> {
  const program = new Command('phi-scan')
    .description('Find protected health information (PHI) in mailboxes and mail archives.')
    .exitOverride()
    .version(packageVersion(), '-V, --version', 'print the version')
    // One error prefix everywhere: commander's own messages say `phi-scan:` as ours do.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(s.replace(/^error: /, 'phi-scan: ')) })
    .showHelpAfterError('(run phi-scan --help for usage)');

  for (const command of COMMANDS) {
    if (!names.includes(command.name)) continue;
    (await command.load())(program, setExit);
    // The table's name is the command's own: a rename there must not leave a command unreachable.
    if (!program.commands.some((c) => c.name() === command.name)) throw new Error(`command table: ${command.name} registered no command of that name`);
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.clean;
  try {
    const program = await buildProgram((code) => {
      exitCode = code;
    }, commandsFor(argv.slice(2)));
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
