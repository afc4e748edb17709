/**
 * The JSONL sink (sinks/jsonl.ts) writes a message's lines as UTF-8 bytes when its output takes
 * bytes, and as text to an output that takes only text (a library caller's own): the same
 * records either way, masked values with `•` included.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/finding.js';
import type { ScanEvent } from '../../src/model/records.js';
import { jsonlSink } from '../../src/sinks/jsonl.js';
import { textOutput, type TextOutput } from '../../src/sinks/output.js';

const finding = (i: number): Finding => ({
  rule: 'ssn',
  category: 'ssn',
  confidence: 'high',
  score: 0.95,
  location: i % 2 === 0 ? 'body' : 'attachment:roster é.csv',
  masked: `•••-••-${String(1000 + i)}`,
  fingerprint: (0xabcdef0000 + i).toString(16).padStart(16, '0'),
  why: { pattern: 'dashed', verdict: 'valid', baseScore: 0.5, score: 0.95, label: 'SSN' },
});

const events: ScanEvent[] = [1, 3, 0, 2_000].map((n, m) => ({
  type: 'message',
  context: { source: 'mbox:a.mbox', mailbox: 'a', folder: 'INBOX', locator: `a.mbox@${m}` },
  outcome: { messageId: `<m${m}@example.org>`, date: null, maskedSubject: 'Re: ••••', findings: Array.from({ length: n }, (_, i) => finding(i)), problems: [] },
}));

async function written(out: TextOutput): Promise<void> {
  const sink = jsonlSink(out);
  for (const e of events) await sink.write(e);
}

describe('jsonlSink', () => {
  it('writes the same lines to an output that takes bytes and to one that takes only text', async () => {
    let text = '';
    await written({ write: async (t) => void (text += t), end: async () => undefined });
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
    await written(textOutput(stream, false));
    expect(Buffer.concat(chunks).toString('utf8')).toBe(text);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; masked?: string; messageId: string });
    expect(lines.filter((l) => l.type === 'finding')).toHaveLength(2_004);
    expect(lines.filter((l) => l.type === 'message').map((l) => l.messageId)).toEqual(['<m0@example.org>', '<m1@example.org>', '<m3@example.org>']);
    expect(lines.find((l) => l.type === 'finding')?.masked).toBe('•••-••-1000');
  });
});
