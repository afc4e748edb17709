/**
 * `npm run bench:edm`: the EDM targets of breach sizing in people — a 1-million-row roster builds
 * in < 30 s and loads in < 2 s, and `scan --edm` adds < 10 % to scan time. Synthetic roster and
 * mail (bench/corpus.ts) in .bench/; the scan runs the built CLI on one thread, alternating runs
 * with and without the roster, median of each.
 *
 * Options: --rows N (default 1000000), --mail-mb N (default 8), --runs N (default 3).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The compiled module: large rosters are read by worker threads only from dist/.
import { buildEdm, loadEdm, parseColumns } from '../dist/edm/edm.js';
import { ensureCorpus } from './corpus.js';
import { Rng } from './prng.js';
import { median } from './report.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const ROWS = arg('rows', 1_000_000);
const MAIL_MB = arg('mail-mb', 8);
const RUNS = arg('runs', 3);
const KEY = 'bench-edm-key-0123456789abcdef0123';

async function writeRoster(file: string, rows: number): Promise<void> {
  const rng = new Rng(42);
  const letters = 'ACDEFGHJKMNPQRTUVWXY';
  const out = createWriteStream(file);
  out.write('ssn,mbi,member_id,last_name,first_name,dob\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const ssn = `${rng.int(101, 665)}-${rng.int(10, 99)}-${rng.int(1001, 9998)}`;
    const c = (): string => letters[rng.int(0, letters.length - 1)] as string;
    const mbi = `${rng.int(1, 9)}${c()}${c()}${rng.int(0, 9)}${c()}${c()}${rng.int(0, 9)}${c()}${c()}${rng.int(10, 99)}`;
    chunk += `${ssn},${mbi},XQK${100000000 + i},Last${i.toString(36)},First${(i * 7).toString(36)},${String(rng.int(1, 12)).padStart(2, '0')}/${String(rng.int(1, 28)).padStart(2, '0')}/${rng.int(1930, 2000)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

function scanSeconds(mbox: string, edm: string | undefined): number {
  const state = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-edm-'));
  const args = [path.join(ROOT, 'dist/cli/main.js'), 'scan', `mbox:${mbox}`, '--threads', '0', '--format', 'jsonl', '--out', path.join(state, 'out.jsonl'), '--state', state, '--no-progress'];
  if (edm) args.push('--edm', edm);
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { env: { ...process.env, PHI_SCAN_KEY: KEY }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0 && r.status !== 1) throw new Error(`scan failed (${r.status}): ${r.stderr.toString().slice(0, 300)}`);
  return (performance.now() - t) / 1000;
}


async function main(): Promise<void> {
  const dir = path.join(ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  const roster = path.join(dir, `roster-${ROWS}.csv`);
  await writeRoster(roster, ROWS);
  const key = Buffer.from(KEY);
  const edmFile = path.join(dir, `roster-${ROWS}.edm`);
  let t = performance.now();
  const cpu0 = process.cpuUsage();
  const built = await buildEdm(roster, parseColumns('ssn,mbi,member_id,last_name,first_name,dob'), key, edmFile);
  const buildS = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  t = performance.now();
  const edm = loadEdm(edmFile, key);
  const loadS = (performance.now() - t) / 1000;
  process.stdout.write(
    `EDM build: ${built.rows.toLocaleString('en-US')} rows in ${buildS.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; target < 30 s), ${(statSync(edmFile).size / 1e6).toFixed(1)} MB; ` +
      `load: ${loadS.toFixed(2)} s (target < 2 s); ${edm.header.counts.s.toLocaleString('en-US')} SSNs\n`,
  );
  if (MAIL_MB === 0) return;
  const corpus = ensureCorpus(path.join(dir, `edm-mail-${MAIL_MB}mb.mbox`), MAIL_MB * 1024 * 1024, 7);
  const without: number[] = [];
  const withEdm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    without.push(scanSeconds(corpus.path, undefined));
    withEdm.push(scanSeconds(corpus.path, edmFile));
  }
  const a = median(without);
  const b = median(withEdm);
  process.stdout.write(
    `scan of ${corpus.meta.messages.toLocaleString('en-US')} messages (${MAIL_MB} MB), one thread, median of ${RUNS}: ` +
      `${a.toFixed(2)} s without, ${b.toFixed(2)} s with --edm (roster load included): ${(((b - a) / a) * 100).toFixed(1)} % (target < 10 %)\n`,
  );
}

await main();
