/** What every command shares: exit codes, flag parsers, stdout handling, the table's width. */
import { InvalidArgumentError } from 'commander';
import { sizeInBytes } from '../common/size.js';
import { EXIT } from './exit.js';

/** Exit status (CONTRACT.md), in exit.ts so that start-up needs nothing else of the CLI. */
export { EXIT };

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

/** `50MB`, `512k`, `1048576` → bytes (at least 1KB). */
export function parseSize(value: string): number {
  const bytes = sizeInBytes(value);
  if (bytes === undefined) throw new InvalidArgumentError(/^\d+(?:\.\d+)?\s*([kmg]i?b?|b)?$/i.test(value.trim()) ? 'at least 1KB' : 'a size such as 50MB, 512KB or 1048576');
  return bytes;
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export { rulesDirs } from '../rules/load.js';

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
