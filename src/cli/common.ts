/** What every command shares: exit codes, flag parsers, stdout handling, the table's width. */
import { InvalidArgumentError } from 'commander';
import { BUNDLED_RULES_DIR } from '../rules/load.js';
import { useColor, type TableOptions } from '../sinks/table.js';

/**
 * Exit status (CONTRACT.md): 0 nothing found · 1 PHI found · 2 bad usage or configuration (the
 * state database in use by another scan included) · 3 scan incomplete (an item failed; with
 * --strict, also one not read by design) or interrupted (SIGINT/SIGTERM, closed output).
 */
export const EXIT = { clean: 0, phiFound: 1, usage: 2, incomplete: 3 } as const;

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return n;
}

export function nonNegativeInt(value: string): number {
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

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--rules builtin` (or no --rules) is the bundled rules/ folder. */
export function rulesDirs(given: string[] | undefined): string[] {
  if (!given || given.length === 0) return [BUNDLED_RULES_DIR];
  return given.map((d) => (d === 'builtin' ? BUNDLED_RULES_DIR : d));
}

/**
 * `phi-scan report | head`, `rules test … | head`: a reader that stops early is not an error;
 * the command stops quietly with the status it had (`status`: what it would have returned).
 */
export function quietOnClosedStdout(status: number = EXIT.clean): void {
  process.stdout.once('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`phi-scan: standard output: ${err.code ?? 'write error'}\n`);
    process.exit(err.code === 'EPIPE' ? status : EXIT.incomplete);
  });
}

/** The table fitted to the terminal it goes to (COLUMNS, else the tty's width; 100 in a file or pipe). */
export function tableOptions(toStdout: boolean, colorFlag: boolean | undefined): TableOptions {
  const tty = toStdout && process.stdout.isTTY === true;
  const columns = Number(process.env.COLUMNS);
  const width = Number.isInteger(columns) && columns > 0 ? columns : tty ? process.stdout.columns || 80 : 100;
  return { width, color: useColor(process.env, tty, colorFlag) };
}
