/**
 * IMAP benchmark: the same synthetic messages scanned over IMAP (a local Dovecot, imaps://) and
 * from an mbox file, in the same run; the bare imapflow FETCH of those messages for reference;
 * peak RSS of each; and a large folder (default 100,000 messages) scanned over IMAP to show that
 * memory stays bounded. Prints a Markdown table.
 *
 *   npx tsx bench/imap.ts [--messages 20000] [--large 100000] [--rounds 2] [--threads N]
 *
 * --threads: the scan's worker threads (default: the scan's default, cores - 1; 0: main thread only).
 *
 * Needs Debian's dovecot-imapd (tests/imap/dovecot.sh). Every measurement runs in a fresh child
 * process, so peak RSS (getrusage maxrss) belongs to that measurement alone. All data is
 * synthetic (seeded PRNG); nothing real is read.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from './prng.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

interface Measure {
  ms: number;
  maxRssMb: number;
  messages: number;
  bytes: number;
}

// ---------------------------------------------------------------- synthetic messages

const WORDS = (
  'the patient order delivery oxygen concentrator wheelchair invoice schedule pickup referral ' +
  'insurance claim billing office please confirm thanks regards monday tuesday meeting quote ' +
  'equipment rental return service technician address phone follow up request update account'
).split(' ');

function* syntheticMessages(count: number, seed: number): Generator<{ raw: Buffer; date: Date }> {
  const rng = new Rng(seed);
  const rnd = (): number => rng.float();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const start = Date.UTC(2023, 0, 1);
  for (let i = 0; i < count; i++) {
    const date = new Date(start + i * 60_000 * 17);
    const lines: string[] = [];
    const paragraphs = 3 + Math.floor(rnd() * 12);
    for (let p = 0; p < paragraphs; p++) {
      const words = Array.from({ length: 20 + Math.floor(rnd() * 60) }, () => pick(WORDS));
      lines.push(words.join(' ').replace(/(.{1,72})(\s|$)/g, '$1\n').trimEnd(), '');
    }
    if (rnd() < 0.2) {
      // A made-up SSN-shaped number (area 100-665, never a published sample).
      const ssn = `${100 + Math.floor(rnd() * 565)}-${String(1 + Math.floor(rnd() * 98)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 9998)).padStart(4, '0')}`;
      lines.splice(2, 0, `Patient SSN: ${ssn}`, '');
    }
    const body = lines.join('\n');
    const raw =
      `From: office${i % 37}@northwind-hme.example\n` +
      `To: billing@northwind-hme.example\n` +
      `Subject: ${pick(WORDS)} ${pick(WORDS)} #${i}\n` +
      `Date: ${date.toUTCString().replace('GMT', '+0000')}\n` +
      `Message-ID: <bench-${seed}-${i}@northwind-hme.example>\n` +
      `MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n${body}\n`;
    yield { raw: Buffer.from(raw.replace(/\n/g, '\r\n')), date };
  }
}

/** Writes the messages as a Maildir (for Dovecot) and, optionally, as an mboxrd file. */
async function writeCorpus(count: number, seed: number, maildir: string, mbox?: string): Promise<number> {
  const cur = path.join(maildir, 'cur');
  mkdirSync(cur, { recursive: true });
  mkdirSync(path.join(maildir, 'new'), { recursive: true });
  mkdirSync(path.join(maildir, 'tmp'), { recursive: true });
  const out = mbox ? createWriteStream(mbox) : undefined;
  let bytes = 0;
  let i = 0;
  for (const { raw, date } of syntheticMessages(count, seed)) {
    writeFileSync(path.join(cur, `${Math.floor(date.getTime() / 1000)}.M${i}P1.bench:2,S`), raw);
    bytes += raw.length;
    if (out) {
      // mboxrd (RFC 4155): a From_ line, and ">"-quoting of body lines that start with ">*From ".
      const text = raw.toString('utf8').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
      const from = `From bench@northwind-hme.example ${date.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, '$1 $3 $2 $5 $4')}\n`;
      if (!out.write(`${from}${text}\n`)) await once(out, 'drain');
    }
    i++;
  }
  if (out) await new Promise<void>((resolve) => out.end(resolve));
  return bytes;
}

// ---------------------------------------------------------------- workers (child processes)

async function worker(mode: string, arg: string): Promise<void> {
  const started = process.hrtime.bigint();
  let messages = 0;
  let bytes = 0;
  if (mode === 'fetch') {
    const { ImapFlow } = await import('imapflow');
    const { readFileSync } = await import('node:fs');
    const [port, user] = arg.split(',') as [string, string];
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: Number(port),
      secure: true,
      tls: { ca: readFileSync(process.env.PHI_SCAN_IMAP_CA as string) },
      auth: { user, pass: process.env.PHI_SCAN_IMAP_PASSWORD as string },
      logger: false,
      disableAutoIdle: true,
    });
    client.on('error', () => {});
    await client.connect();
    await client.mailboxOpen('INBOX', { readOnly: true });
    for await (const m of client.fetch('1:*', { uid: true, source: true }, { uid: true })) {
      messages++;
      bytes += m.source?.length ?? 0;
    }
    await client.logout();
  } else {
    // The built library (npm run build), as the CLI runs it: the IMAP client in a worker thread.
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const { scan, loadRules, BUNDLED_RULES_DIR, createSink, textOutput } = (await import(dist)) as typeof import('../src/index.js');
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const sink = createSink('jsonl', textOutput(createWriteStream('/dev/null'), true));
    const t0 = process.hrtime.bigint();
    const result = await scan({
      sources: [arg],
      rules,
      key: Buffer.from('bench-key-0123456789abcdef0123456789'),
      minConfidence: 'medium',
      concurrency: 8,
      maxMessageBytes: 50 * 1024 * 1024,
      maxNestingDepth: 5,
      sourceRuntime: { env: process.env },
      ...(process.env.BENCH_THREADS ? { threads: Number(process.env.BENCH_THREADS) } : {}),
      sinks: [sink],
    });
    messages = result.summary.messages;
    bytes = result.summary.bytes;
    // Rule loading is not part of the scan: time from here.
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(`${JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, messages, bytes })}\n`);
    return;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, messages, bytes })}\n`);
}

function runWorker(mode: string, arg: string, env: Record<string, string>): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--worker', mode, arg], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 && !line.startsWith('{')) reject(new Error(`worker ${mode} exited with ${code}`));
      else resolve(JSON.parse(line) as Measure);
    });
  });
}

// ---------------------------------------------------------------- orchestration

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const count = flag('messages', 20_000);
  const large = flag('large', 100_000);
  const rounds = Math.max(1, flag('rounds', 2));
  const threads = flag('threads', -1);
  const { startDovecot, dovecotInstalled } = await import('../tests/helpers/dovecot.js');
  if (!dovecotInstalled()) {
    process.stderr.write('bench/imap.ts: dovecot is not installed (apt-get install dovecot-imapd); skipped\n');
    process.exitCode = 1;
    return;
  }
  const work = path.join(os.tmpdir(), `phi-bench-imap-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const mbox = path.join(work, 'bench.mbox');
  let corpusBytes = 0;
  const t0 = Date.now();
  const server = await startDovecot({ bench: 'bench-pw', large: 'large-pw' }, {}, async (base) => {
    corpusBytes = await writeCorpus(count, 1, path.join(base, 'mail', 'bench', 'Maildir'), mbox);
    if (large > 0) await writeCorpus(large, 2, path.join(base, 'mail', 'large', 'Maildir'));
  });
  process.stderr.write(`corpus written and Dovecot started in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const env = { PHI_SCAN_IMAP_CA: server.caFile, PHI_SCAN_IMAP_PASSWORD: 'bench-pw', ...(threads >= 0 ? { BENCH_THREADS: String(threads) } : {}) };
  const rows: { what: string; m: Measure }[] = [];
  try {
    // Warm-up: Dovecot builds its index on first access; the OS caches the files.
    await runWorker('fetch', `${server.tlsPort},bench`, env);
    const best = (ms: Measure[]): Measure => ms.reduce((a, b) => (b.ms < a.ms ? b : a));
    const fetches: Measure[] = [];
    const imapScans: Measure[] = [];
    const mboxScans: Measure[] = [];
    for (let r = 0; r < rounds; r++) {
      fetches.push(await runWorker('fetch', `${server.tlsPort},bench`, env));
      imapScans.push(await runWorker('scan', `imaps://bench@127.0.0.1:${server.tlsPort}`, env));
      mboxScans.push(await runWorker('scan', `mbox:${mbox}`, env));
    }
    rows.push({ what: `scan over IMAP (imaps://, Dovecot on loopback), ${count} msgs`, m: best(imapScans) });
    rows.push({ what: `scan of the same messages from an mbox, ${count} msgs`, m: best(mboxScans) });
    rows.push({ what: `bare imapflow FETCH BODY.PEEK[] of the same messages`, m: best(fetches) });
    if (large > 0) {
      await runWorker('fetch', `${server.tlsPort},large`, { ...env, PHI_SCAN_IMAP_PASSWORD: 'large-pw' });
      rows.push({
        what: `scan over IMAP of one ${large}-message folder (bounded memory)`,
        m: await runWorker('scan', `imaps://large@127.0.0.1:${server.tlsPort}`, { ...env, PHI_SCAN_IMAP_PASSWORD: 'large-pw' }),
      });
    }
    const roundRatios = imapScans.map((m, i) => m.ms / (mboxScans[i] as Measure).ms);
    const imap = rows[0]?.m as Measure;
    const fromMbox = rows[1]?.m as Measure;
    const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
    const lines = [
      '',
      `IMAP benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(1)}; ` +
        `${count} synthetic messages (${mb(corpusBytes)} MB), best of ${rounds} rounds, --concurrency 8, ${threads >= 0 ? `--threads ${threads}` : `default threads (${Math.max(1, os.availableParallelism() - 1)})`}`,
      '',
      '| measurement | messages | MB | seconds | messages/s | peak RSS MB |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(
        ({ what, m }) =>
          `| ${what} | ${m.messages} | ${mb(m.bytes)} | ${(m.ms / 1000).toFixed(2)} | ${Math.round(m.messages / (m.ms / 1000))} | ${m.maxRssMb.toFixed(0)} |`,
      ),
      '',
      `IMAP / mbox scan time ratio: **${(imap.ms / fromMbox.ms).toFixed(2)}** (best of each; target ≤ 1.2)`,
      // On a busy machine: each round runs both scans back to back, so their ratio shares its load.
      `per-round ratios: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}; median **${median(roundRatios).toFixed(2)}**`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (imap.messages !== count || fromMbox.messages !== count) {
      process.stderr.write(`message counts differ: imap ${imap.messages}, mbox ${fromMbox.messages}, expected ${count}\n`);
      process.exitCode = 1;
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') await worker(process.argv[3] as string, process.argv[4] as string);
else await main();
