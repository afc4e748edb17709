/**
 * PST source benchmark (`npm run bench:pst`; needs readpst from pst-utils and a build in dist/).
 *
 * Files: fixtures/pst/*.pst, node_modules/pst-extractor/example/testdata/enron.pst when
 * pst-extractor happens to be installed (it is not a dependency), and any paths in PHI_BENCH_PST
 * (colon-separated). Prints a Markdown table per file:
 * - readpst alone: expanding the file into a temp folder (MB of PST per second);
 * - the source alone (expansion + reading every item as MIME bytes), in process: messages/s;
 * - end to end through the CLI (`scan --format jsonl`, bundled rules): MB/s and messages/s,
 *   start-up of the CLI included;
 * then a folder of N copies of the file with the largest expansion scanned as `pst:DIR`, with the peak temp disk
 * used (sampled every 20 ms) against the size of one expansion: expansions are bounded to two
 * files at a time whatever the folder holds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCursorAdvance } from '../src/model/message.js';
import { pstSource } from '../src/sources/pst.js';
import { expandPst, makeExpansionDir, readpstBinary, removeExpansion } from '../src/sources/pst/readpst.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const MB = 1024 * 1024;
const COPIES = Number(process.env.PHI_BENCH_PST_COPIES ?? 8);

function files(): string[] {
  const out: string[] = [];
  const fixtures = path.join(ROOT, 'fixtures', 'pst');
  if (existsSync(fixtures)) for (const f of readdirSync(fixtures).sort()) if (f.endsWith('.pst')) out.push(path.join(fixtures, f));
  const enron = path.join(ROOT, 'node_modules', 'pst-extractor', 'example', 'testdata', 'enron.pst');
  if (existsSync(enron)) out.push(enron);
  for (const p of (process.env.PHI_BENCH_PST ?? '').split(':')) if (p && existsSync(p) && !out.includes(p)) out.push(p);
  return out;
}

function treeBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0; // removed while we looked
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    try {
      if (e.isDirectory()) total += treeBytes(full);
      else if (e.isFile()) total += statSync(full).size;
    } catch {
      // removed while we looked
    }
  }
  return total;
}

async function readpstAlone(file: string): Promise<{ ms: number; expandedBytes: number }> {
  const dir = await makeExpansionDir();
  try {
    const started = performance.now();
    await expandPst(readpstBinary(), file, dir);
    const ms = performance.now() - started;
    return { ms, expandedBytes: treeBytes(dir) };
  } finally {
    await removeExpansion(dir);
  }
}

async function sourceAlone(file: string): Promise<{ ms: number; messages: number }> {
  const source = pstSource(`pst:${file}`, file, { maxMessageBytes: 64 * MB });
  const started = performance.now();
  let messages = 0;
  for (const unit of await source.units(() => {})) {
    for await (const item of source.messages(unit)) if (!isCursorAdvance(item)) messages++;
  }
  await source.close?.();
  return { ms: performance.now() - started, messages };
}

/** Runs the CLI; samples the temp folder's size meanwhile. */
function cli(target: string): Promise<{ ms: number; messages: number; peakTempBytes: number }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-pst-tmp-'));
  const state = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-pst-state-'));
  const started = performance.now();
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, treeBytes(tmp))), 20);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'scan', '--format', 'jsonl', `pst:${target}`], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, PHI_SCAN_KEY: 'bench-fingerprint-key-0123456789', PHI_SCAN_STATE: state },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', () => {
      clearInterval(timer);
      const ms = performance.now() - started;
      const messages = stdout
        .split('\n')
        .filter((l) => l.startsWith('{"type":"mailbox"'))
        .reduce((n, l) => n + (JSON.parse(l) as { messages: number }).messages, 0);
      rmSync(tmp, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
      resolve({ ms, messages, peakTempBytes: peak });
    });
  });
}

const fmt = (n: number, d = 1): string => n.toFixed(d);

async function main(): Promise<void> {
  if (spawnSync(readpstBinary(), ['-V'], { stdio: 'ignore' }).status !== 0) throw new Error('readpst is missing: apt-get install pst-utils');
  if (!existsSync(CLI)) throw new Error('dist/ is missing: npm run build');
  const list = files();
  if (list.length === 0) throw new Error('no PST files: fixtures/pst is missing and PHI_BENCH_PST is empty');
  console.log(`# PST benchmark (${os.cpus().length} cores, load average ${os.loadavg().map((l) => fmt(l, 2)).join(' ')})\n`);
  console.log('| file | MB | messages | readpst alone MB/s | source alone msg/s | CLI end to end s | CLI MB/s | CLI msg/s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  // The folder run uses the file whose expansion is largest (the most temp disk per file).
  let largest = list[0] as string;
  let largestExpansion = -1;
  for (const file of list) {
    const size = statSync(file).size;
    const rp = await readpstAlone(file);
    if (rp.expandedBytes > largestExpansion) [largest, largestExpansion] = [file, rp.expandedBytes];
    const src = await sourceAlone(file);
    const end = await cli(file);
    console.log(
      `| ${path.basename(file)} | ${fmt(size / MB, 2)} | ${src.messages} | ${fmt(size / MB / (rp.ms / 1000))} | ${fmt(src.messages / (src.ms / 1000))} | ${fmt(end.ms / 1000, 2)} | ${fmt(size / MB / (end.ms / 1000))} | ${fmt(end.messages / (end.ms / 1000))} |`,
    );
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-pst-dir-'));
  try {
    for (let i = 0; i < COPIES; i++) copyFileSync(largest, path.join(dir, `copy-${String(i).padStart(2, '0')}.pst`));
    const one = await readpstAlone(largest);
    const total = statSync(largest).size * COPIES;
    const end = await cli(dir);
    console.log(`\n\`pst:DIR\` with ${COPIES} copies of ${path.basename(largest)} (${fmt(total / MB)} MB):`);
    console.log(`${fmt(end.ms / 1000, 2)} s, ${fmt(total / MB / (end.ms / 1000))} MB/s, ${end.messages} messages, ${fmt(end.messages / (end.ms / 1000))} msg/s;`);
    console.log(`peak temp disk ${fmt(end.peakTempBytes / MB)} MB (one expansion: ${fmt(one.expandedBytes / MB)} MB; all copies expanded at once would be ${fmt((one.expandedBytes * COPIES) / MB)} MB).`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
