/**
 * `npm run bench:people`: true vs reported people per mailbox on the truth corpus of
 * fixtures/people.ts, without a roster and with one (`scan --edm`), through the built CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePeopleCorpus } from '../fixtures/people.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(ROOT, 'dist/cli/main.js');
const env = { ...process.env, PHI_SCAN_KEY: 'bench-people-key-0123456789abcdef' };

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`phi-scan ${args[0]} failed (${r.status}): ${r.stderr.slice(0, 300)}`);
  return r.stdout;
}

interface Report {
  totals: { individuals: number; people: Record<string, number> };
  mailboxes: { mailbox: string; individuals: number }[];
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-people-'));
const corpus = generatePeopleCorpus(dir);
const sources = Object.keys(corpus.truth.mailboxes).map((m) => `mbox:${path.join(dir, 'mail', `${m}.mbox`)}`);
const edm = path.join(dir, 'roster.edm');
cli(['edm', 'build', path.join(dir, 'roster.csv'), '--columns', 'ssn,mbi,member_id,last_name,first_name,dob', '--out', edm, '--state', path.join(dir, 'key')]);

const run = (extra: string[]): Report => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-people-state-'));
  cli(['scan', ...sources, '--state', state, '--format', 'jsonl', '--out', path.join(state, 'out.jsonl'), '--no-progress', ...extra]);
  return JSON.parse(cli(['report', '--format', 'json', '--state', state])) as Report;
};
const plain = run([]);
const roster = run(['--edm', edm]);
const of = (r: Report, mb: string): number => r.mailboxes.find((m) => m.mailbox === mb)?.individuals ?? 0;
const err = (x: number, t: number): string => `${x >= t ? '+' : ''}${(((x - t) / t) * 100).toFixed(1)} %`;

const rows = Object.entries(corpus.truth.mailboxes).map(([mb, t]) => [mb, t, of(plain, mb), of(roster, mb)] as const);
rows.push(['all (each person once)', corpus.truth.tenant, plain.totals.individuals, roster.totals.individuals]);
process.stdout.write('| mailbox | true people | reported, no roster | error | reported, EDM roster | error |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
for (const [mb, t, a, b] of rows) process.stdout.write(`| ${mb} | ${t} | ${a} | ${err(a, t)} | ${b} | ${err(b, t)} |\n`);
process.stdout.write(`\nparts without a roster: ${JSON.stringify(plain.totals.people)}; with: ${JSON.stringify(roster.totals.people)}\n`);
