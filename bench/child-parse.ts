/**
 * Child process for the parse-side measurements (run by bench/run.ts, from .bench/build/).
 *
 *   bare FILE    split FILE with the project's splitMbox and run mailparser's simpleParser with its
 *                default options on every message, one after the other (the baseline).
 *   stages FILE [BYTES]  the pipeline's own steps, sequential, each timed: split, parseMessage
 *                (mailparser with the project's options + HTML to text), engine.scan per segment;
 *                over the first BYTES of messages when given.
 *
 * Prints one JSON line on stdout.
 */
import { createReadStream } from 'node:fs';
import { simpleParser } from 'mailparser';
import { createEngine } from '../src/engine/engine.js';
import { parseMessage } from '../src/parse/mime.js';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import { splitMbox, type SplitMessage } from '../src/sources/mbox-split.js';

const READ_CHUNK = 1024 * 1024; // as src/sources/mbox.ts reads
const MAX_MESSAGE_BYTES = 50 * 1024 * 1024; // the CLI's --max-message-size default

export interface BareResult {
  readonly mode: 'bare';
  readonly messages: number;
  readonly bytes: number;
  readonly attachments: number;
  readonly seconds: number;
}

export interface StagesResult {
  readonly mode: 'stages';
  readonly messages: number;
  readonly bytes: number;
  readonly segments: number;
  readonly segmentChars: number;
  readonly hits: number;
  readonly seconds: { readonly split: number; readonly parse: number; readonly engine: number; readonly total: number };
}

async function* timedSplit(file: string, timer: { split: number }): AsyncGenerator<SplitMessage> {
  const it = splitMbox(createReadStream(file, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>, { maxMessageBytes: MAX_MESSAGE_BYTES })[
    Symbol.asyncIterator
  ]();
  for (;;) {
    const t0 = performance.now();
    const r = await it.next();
    timer.split += performance.now() - t0;
    if (r.done) return;
    yield r.value;
  }
}

async function bare(file: string): Promise<BareResult> {
  const started = performance.now();
  let messages = 0;
  let bytes = 0;
  let attachments = 0;
  for await (const m of splitMbox(createReadStream(file, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>, { maxMessageBytes: MAX_MESSAGE_BYTES })) {
    const parsed = await simpleParser(m.bytes);
    messages++;
    bytes += m.size;
    attachments += parsed.attachments.length;
  }
  return { mode: 'bare', messages, bytes, attachments, seconds: (performance.now() - started) / 1000 };
}

async function stages(file: string, limit: number): Promise<StagesResult> {
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  const engine = createEngine(rules, Buffer.from('phi-scan bench key, not a secret'));
  const timer = { split: 0 };
  let parse = 0;
  let scan = 0;
  let messages = 0;
  let bytes = 0;
  let segments = 0;
  let segmentChars = 0;
  let hits = 0;
  const started = performance.now();
  for await (const m of timedSplit(file, timer)) {
    const t0 = performance.now();
    const parsed = await parseMessage(m.bytes, { maxNestingDepth: 5 });
    const t1 = performance.now();
    for (const segment of parsed.segments) {
      hits += engine.scan(segment).length;
      segments++;
      segmentChars += segment.text.length;
    }
    const t2 = performance.now();
    parse += t1 - t0;
    scan += t2 - t1;
    messages++;
    bytes += m.size;
    if (bytes >= limit) break;
  }
  const total = (performance.now() - started) / 1000;
  return {
    mode: 'stages',
    messages,
    bytes,
    segments,
    segmentChars,
    hits,
    seconds: { split: timer.split / 1000, parse: parse / 1000, engine: scan / 1000, total },
  };
}

const [mode, file, limit] = process.argv.slice(2);
if (!file || (mode !== 'bare' && mode !== 'stages')) {
  process.stderr.write('usage: child-parse.js bare FILE | stages FILE [BYTES]\n');
  process.exit(2);
}
const result = mode === 'bare' ? await bare(file) : await stages(file, limit ? Number(limit) : Infinity);
process.stdout.write(`${JSON.stringify(result)}\n`);
