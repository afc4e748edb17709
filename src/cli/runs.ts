/**
 * `phi-scan runs`: the runs in the state store, newest last (id, start, sources, status, counts),
 * so that `report --run ID` and `diff A B` can be given ids. Counts only: no PHI in a run row.
 */
import { Command, Option } from 'commander';
import { resolveStateDir } from '../findings/key.js';
import { listRuns, type RunRow } from '../report/picture.js';
import { openStateDb, stateDbPath } from '../state/store.js';
import { textOutput } from '../sinks/output.js';
import { EXIT, positiveInt, quietOnClosedStdout } from './common.js';

export type RunListing = RunRow & { readonly type: 'run' };

/** The runs in the store, oldest first (the last `last` only, when given). */
export function runListing(file: string, last?: number): RunListing[] {
  const db = openStateDb(file, { create: false });
  try {
    const runs = listRuns(db);
    return runs.slice(last === undefined ? 0 : Math.max(0, runs.length - last)).map((r) => ({ type: 'run', ...r }));
  } finally {
    db.close();
  }
}

/** `2026-11-24T10:29:03.123Z` → `2026-11-24 10:29:03Z`: one column, still UTC. */
const shortTime = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const count = (n: number | null): string => (n === null ? '-' : String(n));

export function runsTable(runs: readonly RunListing[]): string {
  const header = ['RUN', 'STARTED (UTC)', 'STATUS', 'MESSAGES', 'WITH PHI', 'ERRORS', 'SOURCES'];
  const rows = runs.map((r) => [
    String(r.id),
    shortTime(r.startedAt),
    r.status,
    count(r.messages),
    count(r.messagesWithPhi),
    count(r.errors),
    `${r.sources.join(' ')}${r.sinceLast ? ' (--since-last)' : ''}`,
  ]);
  const right = new Set([0, 3, 4, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows]
    .map((row) => row.map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n')
    .concat('\n');
}

export function registerRuns(program: Command, setExit: (code: number) => void): void {
  program
    .command('runs')
    .description('list the scan runs in the state store (ids for report --run and diff), oldest first')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .option('--last <n>', 'only the last N runs', positiveInt)
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .action(async (flags: { format: 'table' | 'jsonl'; last?: number; state?: string }) => {
      const file = stateDbPath(flags.state, process.env, resolveStateDir(flags.state, process.env));
      const runs = runListing(file, flags.last);
      quietOnClosedStdout();
      const out = textOutput(process.stdout, false);
      if (flags.format === 'jsonl') for (const r of runs) await out.write(`${JSON.stringify(r)}\n`);
      else if (runs.length === 0) process.stderr.write(`phi-scan: ${file}: no runs yet\n`);
      else await out.write(runsTable(runs));
      setExit(EXIT.clean);
    });
}
