/**
 * `npx tsx bench/state.ts [--findings N]`: state store figures, measured now.
 *  - write rate: findings/s written through the store's Sink + CheckpointStore interface, the way
 *    a scan writes them (a checkpoint after every message, commits batched by the store);
 *  - report build time for the whole store: jsonl picture, json summary (breach sizing), csv
 *    remediation list, html page.
 * Findings are generated directly (synthetic fingerprints), not by parsing mail. Default 1,000,000
 * findings: 200,000 messages with 5 findings each over 40 mailboxes. Work data lives in .bench/.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import path from 'node:path';
import type { Category, Finding } from '../src/model/finding.js';
import { textOutput } from '../src/sinks/output.js';
import { writeReport, type ReportFormat } from '../src/report/report.js';
import { openStateDb, openStateStore } from '../src/state/store.js';

const arg = process.argv.indexOf('--findings');
const FINDINGS = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;
const PER_MESSAGE = 5;
const MAILBOXES = 40;
const CATS: Category[] = ['ssn', 'medicare-id', 'date-of-birth', 'health-condition', 'insurance'];

const dir = path.resolve('.bench', 'state');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'state.db');

const store = openStateStore(file, { sources: ['mbox:bench'], sinceLast: false, minConfidence: 'medium' });
const messages = Math.ceil(FINDINGS / PER_MESSAGE);
const t0 = performance.now();
for (let i = 0; i < messages; i++) {
  const mailbox = `user${i % MAILBOXES}`;
  const findings: Finding[] = [];
  for (let j = 0; j < PER_MESSAGE; j++) {
    const category = CATS[j % CATS.length] as Category;
    findings.push({
      rule: category === 'insurance' ? 'member-id' : category,
      category,
      confidence: 'high',
      score: 0.95,
      location: j === 0 ? 'subject' : 'body',
      masked: '•••-••-1234',
      // ~1 in 3 identifiers repeats, as the same patient recurs in a mailbox.
      fingerprint: ((i * PER_MESSAGE + j) % Math.ceil((FINDINGS * 2) / 3)).toString(16).padStart(16, '0'),
      why: { pattern: 'bench', verdict: 'valid', baseScore: 0.95, score: 0.95 },
    });
  }
  await store.write({
    type: 'message',
    context: { source: 'mbox:bench', mailbox, folder: 'INBOX', locator: `bench/${mailbox}.mbox@${i}` },
    outcome: { messageId: `<m${i}@bench.test>`, date: '2024-03-04T09:15:00.000Z', maskedSubject: 'Claim •••-••-1234', findings, problems: [] },
  });
  store.put({ unitId: `bench:${mailbox}`, cursor: String(i) });
}
await store.flush();
const writeMs = performance.now() - t0;
await store.close({
  sources: ['mbox:bench'],
  startedAt: '',
  finishedAt: new Date().toISOString(),
  minConfidence: 'medium',
  mailboxes: [],
  messages,
  messagesWithPhi: messages,
  errors: 0,
  skipped: 0,
  bytes: 0,
  strict: false,
  status: 'complete',
});
store.dispose();

const sizeMb = statSync(file).size / 1e6;
console.log(`| figure | value |\n| --- | --- |`);
console.log(`| findings written | ${(messages * PER_MESSAGE).toLocaleString('en-US')} in ${messages.toLocaleString('en-US')} messages, ${MAILBOXES} mailboxes |`);
console.log(`| write time | ${(writeMs / 1000).toFixed(2)} s |`);
console.log(`| write rate | ${Math.round((messages * PER_MESSAGE) / (writeMs / 1000)).toLocaleString('en-US')} findings/s (${Math.round(messages / (writeMs / 1000)).toLocaleString('en-US')} messages/s) |`);
console.log(`| database size | ${sizeMb.toFixed(0)} MB |`);

for (const format of ['jsonl', 'json', 'csv', 'html'] as ReportFormat[]) {
  const db = openStateDb(file, { create: false });
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb();
    },
  });
  const t = performance.now();
  await writeReport(db, format, textOutput(sink, false));
  const ms = performance.now() - t;
  db.close();
  console.log(`| report --format ${format} | ${(ms / 1000).toFixed(2)} s (${(bytes / 1e6).toFixed(0)} MB) |`);
}
console.log(`| peak RSS | ${Math.round(process.resourceUsage().maxRSS / 1024)} MB |`);
