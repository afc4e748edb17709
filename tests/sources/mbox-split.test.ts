import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MboxSplitter, NotAnMboxError, type SplitMessage } from '../../src/sources/mbox-split.js';

const MAX = 50 * 1024 * 1024;

/** Splits `data` fed in chunks of the given sizes (cycled), as a file read would. */
function split(data: Buffer | string, chunkSizes: number[] = [data.length || 1], max = MAX, startOffset = 0): SplitMessage[] {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const splitter = new MboxSplitter(max, startOffset);
  const out: SplitMessage[] = [];
  let pos = 0;
  let i = 0;
  while (pos < buf.length) {
    const size = chunkSizes[i++ % chunkSizes.length] as number;
    splitter.push(buf.subarray(pos, pos + size));
    pos += size;
    out.push(...splitter.ready.splice(0));
  }
  splitter.end();
  out.push(...splitter.ready.splice(0));
  return out;
}

const texts = (msgs: SplitMessage[]): string[] => msgs.map((m) => m.bytes.toString('latin1'));

const FROM_LINE = 'From sender@example.org Mon Mar  4 09:15:00 2024';

describe('mbox splitting', () => {
  it('splits on From_ lines and drops the separator blank line', () => {
    const mbox = `${FROM_LINE}\nSubject: a\n\nbody a\n\n${FROM_LINE}\nSubject: b\n\nbody b\n`;
    expect(texts(split(mbox))).toEqual(['Subject: a\n\nbody a\n', 'Subject: b\n\nbody b\n']);
  });

  it('unescapes mboxrd >From lines by one level', () => {
    const mbox = `${FROM_LINE}\nSubject: a\n\n>From the start\n>>From two\nnot >From mid-line\n`;
    expect(texts(split(mbox))).toEqual(['Subject: a\n\nFrom the start\n>From two\nnot >From mid-line\n']);
  });

  it('unescapes mboxo >From lines', () => {
    const mbox = `From - Thu Jan  1 00:00:00 2015\nSubject: a\n\n>From here on\n`;
    expect(texts(split(mbox))).toEqual(['Subject: a\n\nFrom here on\n']);
  });

  it('treats an unescaped "From " body line as content unless it follows a blank line or has a date', () => {
    const mbox = `${FROM_LINE}\nSubject: a\n\nline one\nFrom my point of view\nmore\n`;
    expect(texts(split(mbox))).toEqual(['Subject: a\n\nline one\nFrom my point of view\nmore\n']);
  });

  it('accepts a From_ line that does not follow a blank line when it carries an asctime date', () => {
    const mbox = `${FROM_LINE}\nSubject: a\n\nbody a\n${FROM_LINE}\nSubject: b\n\nbody b\n`;
    expect(split(mbox)).toHaveLength(2);
  });

  it('handles CRLF files: messages keep CRLF, the separator CRLF blank line is dropped', () => {
    const mbox = `${FROM_LINE}\r\nSubject: a\r\n\r\nbody a\r\n\r\n${FROM_LINE}\r\nSubject: b\r\n\r\n>From b\r\n`;
    expect(texts(split(mbox))).toEqual(['Subject: a\r\n\r\nbody a\r\n', 'Subject: b\r\n\r\nFrom b\r\n']);
  });

  it('honours Content-Length (mboxcl): an unescaped From line inside the counted body is content', () => {
    const body = 'first\n\nFrom the body, unescaped\nlast\n';
    const mbox = `${FROM_LINE}\nSubject: a\nContent-Length: ${body.length}\n\n${body}\n${FROM_LINE}\nSubject: b\n\nb\n`;
    const msgs = texts(split(mbox));
    expect(msgs).toHaveLength(2);
    expect(msgs[0]).toContain('From the body, unescaped');
  });

  it('gives the same messages whatever the chunk boundaries', () => {
    const parts: string[] = [];
    for (let i = 0; i < 40; i++) {
      parts.push(`${FROM_LINE}\nMessage-ID: <${i}@x>\nSubject: m${i}\n\n${'x'.repeat(i * 7)}\n>From ${i}\n${i % 3 === 0 ? 'From me\n' : ''}\n`);
    }
    const mbox = parts.join('');
    const whole = texts(split(mbox));
    expect(whole).toHaveLength(40);
    for (const sizes of [[1], [2, 3], [5], [7, 1, 13], [64], [4096]]) {
      expect(texts(split(mbox, sizes))).toEqual(whole);
    }
  });

  it('reports offsets so a scan can resume at the next message', () => {
    const mbox = `${FROM_LINE}\nSubject: a\n\na\n\n${FROM_LINE}\nSubject: b\n\nb\n\n${FROM_LINE}\nSubject: c\n\nc\n`;
    const msgs = split(mbox, [3]);
    expect(msgs.map((m) => m.offset)).toEqual([0, mbox.indexOf(`${FROM_LINE}\nSubject: b`), mbox.indexOf(`${FROM_LINE}\nSubject: c`)]);
    const resumed = split(mbox.slice(msgs[1]?.end), [mbox.length], MAX, msgs[1]?.end);
    expect(texts(resumed)).toEqual(['Subject: c\n\nc\n']);
    expect(resumed[0]?.offset).toBe(msgs[2]?.offset);
  });

  it('keeps only the head of an oversize message, with the sha256 of all its bytes', () => {
    const big = `Subject: big\n\n${'y'.repeat(200_000)}\n`;
    const mbox = `${FROM_LINE}\n${big}\n${FROM_LINE}\nSubject: small\n\nok\n`;
    const msgs = split(mbox, [8192], 100_000);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]?.oversize?.limit).toBe(100_000);
    expect(msgs[0]?.bytes.length).toBeLessThanOrEqual(64 * 1024);
    expect(msgs[0]?.bytes.toString('latin1').startsWith('Subject: big')).toBe(true);
    // Hash covers the message bytes as stored, including the separator blank line.
    expect(msgs[0]?.oversize?.sha256).toBe(createHash('sha256').update(`${big}\n`).digest('hex'));
    expect(msgs[1]?.oversize).toBeUndefined();
    expect(msgs[1]?.bytes.toString()).toBe('Subject: small\n\nok\n');
  });

  it('copes with a very long line without newlines across many chunks', () => {
    const line = 'A'.repeat(3_000_000);
    const mbox = `${FROM_LINE}\nSubject: long\n\n${line}\n\n${FROM_LINE}\nSubject: next\n\nn\n`;
    const msgs = split(mbox, [65536]);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]?.bytes.length).toBe(`Subject: long\n\n${line}\n`.length);
  });

  it('rejects data that does not start with a From_ line', () => {
    expect(() => split('Subject: not an mbox\n\nhello\n')).toThrow(NotAnMboxError);
    expect(() => split('%PDF-1.7 binary')).toThrow(NotAnMboxError);
  });

  it('accepts an empty file and blank lines before the first From_ line', () => {
    expect(split('')).toEqual([]);
    expect(texts(split(`\n\n${FROM_LINE}\nSubject: a\n\na\n`))).toEqual(['Subject: a\n\na\n']);
  });

  it('keeps a final line without a newline', () => {
    expect(texts(split(`${FROM_LINE}\nSubject: a\n\nno newline at end`))).toEqual(['Subject: a\n\nno newline at end']);
  });
});
