/**
 * Graph source benchmark against the local fake Graph server (tests/graph/fake-graph-server.ts).
 *
 *   npx tsx bench/graph.ts            (needs openssl; builds nothing: run `npm run build` first)
 *
 * Prints a Markdown table:
 * - requests per message scanned on one 5,000-message mailbox (every HTTP request counted,
 *   the token request included; target ≤ 1.1);
 * - messages/s across 10 mailboxes at the per-mailbox concurrency limit (4), end to end through
 *   the CLI (parse + rules included), and for the source alone (fetching only, all 10 mailboxes
 *   at once), with no added latency and with 20 ms added per request (a stand-in for a real
 *   network round trip).
 *
 * The process re-runs itself with NODE_EXTRA_CA_CERTS pointing at the fake server's
 * certificate, which Node reads only at start-up.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSource } from '../src/sources/index.js';
import { newGraphStats } from '../src/sources/graph/http.js';
import { isCursorAdvance, type SourceUnit } from '../src/model/message.js';
import { FakeGraph, makeCertificate } from '../tests/graph/fake-graph-server.js';
import { addGenerated } from '../tests/graph/tenant.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

if (!process.env.PHI_BENCH_CERT_DIR) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'phi-bench-graph-'));
  const { cert } = makeCertificate(dir, 'server');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, PHI_BENCH_CERT_DIR: dir, NODE_EXTRA_CA_CERTS: cert },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main(process.env.PHI_BENCH_CERT_DIR);
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: 'bench-fingerprint-key-0123456789', PHI_SCAN_STATE: mkdtempSync(path.join(os.tmpdir(), 'phi-bench-state-')), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

function scannedMessages(stdout: string): number {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"mailbox"'))
    .reduce((n, l) => n + (JSON.parse(l) as { messages: number }).messages, 0);
}

async function tenant(dir: string, mailboxes: number, perMailbox: number, latencyMs: number): Promise<FakeGraph> {
  const fake = await new FakeGraph({ cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') }, { latencyMs }).start();
  for (let b = 0; b < mailboxes; b++) {
    const u = fake.addUser(`user${b}@${fake.tenant}`);
    addGenerated(fake, fake.folder(u, 'Inbox'), perMailbox, `u${b}`);
  }
  return fake;
}

async function main(dir: string): Promise<void> {
  const rows: string[][] = [];
  const env = (fake: FakeGraph): Record<string, string> => ({ ...fake.env(), NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '' });

  // 1. Requests per message on a 5,000-message mailbox.
  {
    const fake = await tenant(dir, 1, 5000, 0);
    const r = await runCli(['scan', `graph://${fake.tenant}/*`, '--format', 'jsonl'], env(fake));
    const messages = scannedMessages(r.stdout);
    if (messages === 0) throw new Error(`scan failed (exit ${r.code}): ${r.stderr}`);
    const all = fake.requests.length;
    const graph = fake.requests.filter((q) => q.url.startsWith('/v1.0/')).length;
    rows.push(['requests per message, 1 mailbox × 5,000 messages', `${(all / messages).toFixed(4)} (${all} requests incl. token + discovery / ${messages} messages; Graph only: ${(graph / messages).toFixed(4)})`, '≤ 1.1']);
    rows.push(['  scan time, same mailbox (CLI, no added latency)', `${(r.ms / 1000).toFixed(1)} s, ${Math.round(messages / (r.ms / 1000))} msg/s`, '']);
    await fake.close();
  }

  // 2. Messages/s across 10 mailboxes.
  for (const latency of [0, 20]) {
    const fake = await tenant(dir, 10, 500, latency);
    const r = await runCli(['scan', `graph://${fake.tenant}/*`, '--format', 'jsonl'], env(fake));
    const messages = scannedMessages(r.stdout);
    rows.push([
      `CLI end to end, 10 mailboxes × 500, ${latency} ms added latency`,
      `${Math.round(messages / (r.ms / 1000))} msg/s (${messages} in ${(r.ms / 1000).toFixed(1)} s, max ${fake.maxInFlightPerMailbox} in flight per mailbox, ${fake.concurrencyRejections} MailboxConcurrency 429s)`,
      '',
    ]);
    await fake.close();
  }
  for (const latency of [0, 20]) {
    const fake = await tenant(dir, 10, 500, latency);
    const stats = newGraphStats();
    const source = createSource(`graph://${fake.tenant}/*`, { maxMessageBytes: 50 * 1024 * 1024, graph: { env: fake.env(), stats } });
    const units = await source.units(() => {});
    const started = performance.now();
    let messages = 0;
    await Promise.all(
      units.map(async (unit: SourceUnit) => {
        for await (const item of source.messages(unit)) if (!isCursorAdvance(item)) messages++;
      }),
    );
    const ms = performance.now() - started;
    rows.push([
      `source only (fetch, no parsing), 10 mailboxes × 500 at once, ${latency} ms added latency`,
      `${Math.round(messages / (ms / 1000))} msg/s (${messages} in ${(ms / 1000).toFixed(1)} s, max ${fake.maxInFlightPerMailbox} in flight per mailbox, ${fake.concurrencyRejections} MailboxConcurrency 429s)`,
      '',
    ]);
    await fake.close();
  }

  process.stdout.write(`| Graph benchmark (local fake server, ${os.cpus().length} CPUs, Node ${process.version}) | result | target |\n|---|---|---|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
}
