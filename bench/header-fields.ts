/**
 * What giving mailparser only the header fields that are read saves (src/parse/header-fields.ts):
 * mailparser with the project's options over every message of an mbox, as it is and behind a mail
 * server's usual header (fixtures/server-header.ts), each with all fields and with the read ones
 * only. CPU seconds of this process, the four passes taken in turn, the median of three rounds.
 *
 *   npm run bench:headers [-- MBOX]     (default: the Enron sample of the corpora)
 */
import { createReadStream, existsSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { withServerHeader } from '../fixtures/server-header.js';
import { ENRON_MBOX } from '../fixtures/corpora.js';
import { withReadFieldsOnly } from '../src/parse/header-fields.js';
import { PARSER_OPTIONS } from '../src/parse/mime.js';
import { splitMbox } from '../src/sources/mbox-split.js';
import { cpuSeconds, median } from './report.js';

const ROUNDS = 3;

async function pass(messages: readonly Buffer[], only: boolean): Promise<number> {
  const t0 = cpuSeconds();
  for (const raw of messages) await simpleParser(only ? withReadFieldsOnly(raw) : raw, PARSER_OPTIONS);
  return cpuSeconds() - t0;
}

const file = process.argv[2] ?? ENRON_MBOX;
if (!existsSync(file)) {
  process.stderr.write(`*** SKIPPED: ${file} is missing (give an mbox, or set PHI_SCAN_CORPORA to the corpora folder) ***\n`);
  process.exit(0);
}
const plain: Buffer[] = [];
for await (const m of splitMbox(createReadStream(file), { maxMessageBytes: 50 * 1024 * 1024 })) plain.push(m.bytes);
const served = plain.map(withServerHeader);
const runs = { plain: { all: [] as number[], read: [] as number[] }, served: { all: [] as number[], read: [] as number[] } };
await pass(plain.slice(0, 500), true); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, messages] of [['plain', plain], ['served', served]] as const) {
    runs[name].all.push(await pass(messages, false));
    runs[name].read.push(await pass(messages, true));
  }
}
const line = (name: string, r: { all: number[]; read: number[] }): string =>
  `${name}: all fields ${median(r.all).toFixed(2)} s, read fields only ${median(r.read).toFixed(2)} s (${(median(r.read) / median(r.all)).toFixed(2)}×)`;
process.stdout.write(`${plain.length} messages of ${file}\n${line('as they are', runs.plain)}\n${line("behind a mail server's header", runs.served)}\n`);
