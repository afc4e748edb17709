/**
 * Names never leave the process (Detection 2, people's names): patients' names planted in
 * subjects (with a label and without one), bodies, attachment names, a folder and mbox name and a
 * forwarded message are searched for in every output of scan (every format, stdout and --out),
 * report (every format), remediate (its files and their names), runs and diff, and in the state
 * database with its WAL and SHM.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLANTED_NAMES, writePersonNameScenario } from '../fixtures/person-names.js';
import { jsonLines, runCli, tempDir, type CliResult } from './helpers/cli.js';

const FORMATS = ['jsonl', 'json', 'csv', 'table', 'html'] as const;

function leaks(text: string | Buffer): string[] {
  const s = (typeof text === 'string' ? text : text.toString('latin1')).toLowerCase();
  return PLANTED_NAMES.filter((n) => s.includes(n.toLowerCase()));
}

describe('no person name leaves the process', () => {
  let dir: string;
  let state: string;
  let sources: string[];
  let remediated: string;
  const outputs: Record<string, CliResult & { file?: string }> = {};

  beforeAll(async () => {
    dir = tempDir('phi-names-');
    state = path.join(tempDir('phi-names-state-'), 'state');
    sources = writePersonNameScenario(dir).sources;
    const env = { env: { PHI_SCAN_STATE: state } };
    for (const format of FORMATS) {
      const out = path.join(dir, `scan.${format}`);
      // stdout (the progress line, a summary) and the --out file: every byte written
      const r = await runCli(['scan', ...sources, '--format', format, '--out', out], env);
      outputs[`scan ${format} --out`] = { ...r, file: readFileSync(out, 'utf8') };
    }
    for (const format of ['jsonl', 'json', 'csv', 'table', 'html']) outputs[`report ${format}`] = await runCli(['report', '--format', format], env);
    remediated = path.join(dir, 'remediation');
    outputs.remediate = await runCli(['remediate', '--out-dir', remediated], env);
    for (const format of ['table', 'jsonl']) {
      outputs[`runs ${format}`] = await runCli(['runs', '--format', format], env);
      outputs[`diff ${format}`] = await runCli(['diff', '1', '10', '--format', format], env);
    }
  }, 600_000);

  it('the names are really in the input, and the scan finds the PHI next to them', () => {
    const raw = readFileSync(sources[0]?.slice('mbox:'.length) as string, 'utf8') + (sources[0] as string);
    for (const n of PLANTED_NAMES) expect(raw, n).toContain(n);
    expect(outputs['scan jsonl --out']?.code).toBe(1);
    const categories = new Set(jsonLines(outputs['scan jsonl --out']?.file ?? '').filter((r) => r.type === 'finding').map((r) => r.category));
    expect([...categories].sort()).toEqual(['date-of-birth', 'health-condition', 'insurance', 'medicare-id', 'ssn']);
  });

  it('every output of scan, report, remediate, runs and diff holds none of them', () => {
    for (const [what, r] of Object.entries(outputs)) {
      for (const text of [r.stdout, r.stderr, r.file ?? '']) expect(leaks(text), what).toEqual([]);
    }
    expect(outputs['diff table']?.stderr + (outputs['diff table']?.stdout ?? '')).not.toBe('');
    const files = readdirSync(remediated);
    expect(files.length).toBeGreaterThan(0);
    expect(leaks(files.join('\n'))).toEqual([]);
    for (const f of files) expect(leaks(readFileSync(path.join(remediated, f))), f).toEqual([]);
  });

  it('subjects are written with the names masked whole, labelled or not', () => {
    const report = JSON.parse(outputs['scan json --out']?.file ?? '{}') as { messages: { maskedSubject: string }[] };
    expect(report.messages.map((m) => m.maskedSubject).sort()).toEqual(['Fwd: •••••• •••••••••• oxygen', 'RE: ••••••••••••, ••••••', 'Referral - •••••••• •••••••••••']);
  });

  it('the state database, its WAL and SHM hold none of them', () => {
    const db = path.join(state, 'state.db');
    expect(existsSync(db)).toBe(true);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) expect(leaks(readFileSync(f)), f).toEqual([]);
  });
});
