/**
 * `phi-scan edm build ROSTER.csv --columns ssn,mbi,member_id,last_name,first_name,dob --out FILE`:
 * the patient roster as keyed fingerprints for `scan --edm FILE` (edm/edm.ts). What it prints
 * names roster lines by number and columns by name, never a value.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { buildEdm, parseColumns, type EdmBuildResult } from '../edm/edm.js';
import { ScanError } from '../common/errors.js';
import { EXIT } from './common.js';
import { expandHome } from './inputs.js';

export interface EdmBuildFlags {
  readonly columns: string;
  readonly out: string;
  readonly state?: string;
}

/** Bad lines listed by number on stderr at most; the rest counted. */
const LISTED_BAD_LINES = 20;

/** Builds the EDM file; returns the exit status and the lines to print (stderr). */
export async function edmBuild(roster: string, flags: EdmBuildFlags, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; result: EdmBuildResult; lines: string[] }> {
  const columns = parseColumns(flags.columns);
  const out = path.resolve(expandHome(flags.out));
  const input = path.resolve(expandHome(roster));
  if (out === input) throw new ScanError('usage', 'edm build: --out must not be the roster itself');
  const key = await resolveKey(resolveStateDir(flags.state, env), env);
  let result: EdmBuildResult;
  try {
    result = await buildEdm(input, columns, key, out);
  } catch (err) {
    if (err instanceof ScanError) throw err;
    const code = (err as { code?: string }).code ?? 'I/O error';
    throw new ScanError('config', `edm build: cannot read the roster or write --out (${code})`);
  }
  const lines = [
    `phi-scan: edm: ${result.rows.toLocaleString('en-US')} roster rows → ${out} (${Object.entries(result.counts).map(([k, n]) => `${n.toLocaleString('en-US')} ${KIND_LABEL[k] ?? k}`).join(', ')})`,
  ];
  if (result.badRows.length > 0) {
    lines.push(`phi-scan: edm: ${result.badRows.length.toLocaleString('en-US')} roster lines not (fully) usable:`);
    for (const b of result.badRows.slice(0, LISTED_BAD_LINES)) lines.push(`  line ${b.line}: ${b.reason}`);
    if (result.badRows.length > LISTED_BAD_LINES) lines.push(`  … and ${result.badRows.length - LISTED_BAD_LINES} more`);
  }
  // No usable row: a wrong --columns order is the usual cause, and an empty roster matches nothing.
  return { code: result.rows === 0 ? EXIT.usage : result.badRows.length > 0 ? EXIT.incomplete : EXIT.clean, result, lines };
}

const KIND_LABEL: Record<string, string> = { s: 'SSNs', m: 'MBIs', i: 'member IDs', n: 'name + DOB pairs' };

export function registerEdm(program: Command, setExit: (code: number) => void): void {
  const edm = program.command('edm').description('exact data match: the patient roster as keyed fingerprints');
  edm
    .command('build <roster>')
    .description('normalize and keyed-hash every value of a roster CSV (no raw value is written); bad lines are named by number')
    .requiredOption('--columns <list>', 'the CSV columns in order: ssn, mbi, member_id, last_name, first_name, dob, or - to skip one')
    .requiredOption('--out <file>', 'the EDM file to write (mode 0600)')
    .option('--state <path>', 'state folder holding the fingerprint key; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .action(async (roster: string, flags: EdmBuildFlags) => {
      const { code, lines } = await edmBuild(roster, flags);
      for (const l of lines) process.stderr.write(`${l}\n`);
      setExit(code);
    });
}
