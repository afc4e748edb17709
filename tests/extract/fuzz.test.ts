/**
 * Fuzz: mutated attachments (every format of the attachment fixtures) and mutated MIME messages,
 * seeded and bounded. Nothing may throw; every non-text input yields text or a problem; heap and
 * RSS stay bounded. Then seeded fuzz mail (fixtures/fuzz.ts: random MIME structure around random
 * or damaged OOXML, PDF, RTF, TNEF, ZIP and HTML, small bombs included) through the built CLI:
 * every message has a record, peak RSS and time stay bounded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../fixtures/generate.js';
import { DEFAULT_LIMITS, extractAttachment, messageExtraction } from '../../src/extract/index.js';
import { sniff } from '../../src/extract/sniff.js';
import type { Problem } from '../../src/model/problem.js';
import type { Segment } from '../../src/model/segment.js';
import { parseMessage } from '../../src/parse/mime.js';
import { FUZZ_BODY_SSN, fuzzMbox } from '../../fixtures/fuzz.js';
import { jsonLines, ROOT, tempDir } from '../helpers/cli.js';
import { canMeasureRss, runCliMeasured } from './measured.js';

const MBOX = readFileSync(path.join(ROOT, 'fixtures', 'attachments', 'attachments.mbox'), 'utf8');
const MESSAGES = MBOX.split(/^From .*\n/m).filter((m) => m.trim() !== '').map((m) => Buffer.from(m));
const ITERATIONS = 300;
const RAW = (JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'attachments', 'planted.json'), 'utf8')) as { rawValues: string[] }).rawValues;

function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  const b = Buffer.from(input);
  switch (rng.int(0, 4)) {
    case 0: // flip a few bytes
      for (let k = rng.int(1, 16); k > 0; k--) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
      return b;
    case 1: // truncate
      return b.subarray(0, rng.int(0, b.length));
    case 2: // splice random bytes in
      return Buffer.concat([b.subarray(0, rng.int(0, b.length)), Buffer.from(rng.bytes(rng.int(1, 64))), b.subarray(rng.int(0, b.length))]);
    case 3: // duplicate a range (repeated structures, overlapping offsets)
      {
        const from = rng.int(0, b.length);
        const to = Math.min(b.length, from + rng.int(1, 4096));
        return Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]);
      }
    default: // zero a range (sizes and counts become 0)
      b.fill(0, rng.int(0, b.length), rng.int(0, b.length));
      return b;
  }
}

describe('fuzz: mutated attachments and messages', () => {
  it(`${ITERATIONS} seeded mutations: no throw, text or a problem, bounded heap`, async () => {
    const attachments: { name: string; contentType: string; content: Buffer }[] = [];
    for (const m of MESSAGES) {
      for (const a of (await simpleParser(m)).attachments) attachments.push({ name: a.filename ?? 'x', contentType: a.contentType, content: a.content });
    }
    expect(attachments.length).toBeGreaterThan(20);
    const rng = new Rng('fuzz');
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sample = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 10);
    let problems = 0;
    const limits = { ...DEFAULT_LIMITS, maxInflatedBytes: 64 * 1024 * 1024, maxAttachmentMillis: 5_000 };
    for (let i = 0; i < ITERATIONS; i++) {
      if (i % 3 === 2) {
        const raw = Buffer.from(mutate(rng, rng.pick(MESSAGES)));
        const parsed = await parseMessage(raw, { maxNestingDepth: 5, limits });
        expect(parsed.messageId).toMatch(/^<.+>$/);
        problems += parsed.problems.length;
        continue;
      }
      const a = rng.pick(attachments);
      const bytes = mutate(rng, a.content);
      const segments: Segment[] = [];
      const found: Problem[] = [];
      const extraction = messageExtraction(limits, 5, segments, found, async (b, ctx) => ctx.text('text', Buffer.from(b).toString()));
      const declared = { name: a.name, contentType: a.contentType };
      await expect(extractAttachment(bytes, extraction.attachment(`attachment:${a.name}`, 0), declared)).resolves.toBeUndefined();
      // plain text and RTF may legitimately hold no text at all; a binary document may not
      if (bytes.length > 0 && !['text', 'rtf'].includes(sniff(bytes, declared).kind)) expect(segments.length + found.length, `${a.name} iteration ${i}`).toBeGreaterThan(0);
      for (const p of found) expect(RAW.filter((v) => p.message.includes(v))).toEqual([]); // never content in an error
      problems += found.length;
    }
    clearInterval(sample);
    expect(problems).toBeGreaterThan(ITERATIONS / 4);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(300 * 1024 * 1024);
    expect(Math.max(rssPeak, process.memoryUsage().rss) - rssBefore).toBeLessThan(500 * 1024 * 1024);
  }, 60_000);
});

describe.runIf(canMeasureRss())('fuzz mail through the CLI', () => {
  const MESSAGES = 30;

  it(`${MESSAGES} seeded messages of random structure and damaged attachments: every message has a record, peak RSS < 1 GB, time bounded`, async () => {
    const { mbox, messageIds } = fuzzMbox('fuzz-mail', MESSAGES);
    const file = path.join(tempDir('phi-fuzz-'), 'fuzz.mbox');
    writeFileSync(file, mbox);
    const r = await runCliMeasured(['scan', `mbox:${file}`, '--format', 'jsonl', '--threads', '1']);
    expect(r.peakRssMb, `peak RSS ${r.peakRssMb} MB`).toBeLessThan(1024);
    expect(r.seconds).toBeLessThan(90); // about 25 s on the 2-core machine; generous for load
    expect([1, 3]).toContain(r.code);
    const records = jsonLines(r.stdout);
    expect(records.find((x) => x.type === 'mailbox')).toMatchObject({ messages: MESSAGES });
    // every message's body was read (its planted SSN is a finding): no attachment cost it its message
    const withBody = new Set(records.filter((x) => x.type === 'finding' && x.location === 'body').map((x) => x.messageId));
    expect(messageIds.filter((id) => !withBody.has(id))).toEqual([]);
    expect(records.filter((x) => x.type === 'message').map((x) => x.messageId).sort()).toEqual([...messageIds].sort());
    // no whole-message fence was needed: limits inside the extractors held
    expect(records.filter((x) => x.type === 'error' && (x.code === 'timeout' || x.code === 'scan-failed'))).toEqual([]);
    expect(r.stdout).not.toContain(FUZZ_BODY_SSN);
  }, 150_000);
});
