/**
 * PDF filter chains that expand (LZW, RunLength, ASCII85, FlateDecode behind another filter) are
 * decoded by the pre-pass, counted against the per-message inflation budget and thrown away,
 * before pdf.js decodes them without a limit. Decoders are checked against known inputs; the
 * fixtures' encoders are checked against pdf.js itself (it reads text written through them).
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ascii85, asciiHex, bombAttachment, lzwBomb, lzwCodes, lzwPack, pdfWithStream, runLengthBomb } from '../../fixtures/bombs.js';
import { DEFAULT_LIMITS, extractAttachment, messageExtraction, type ExtractLimits } from '../../src/extract/index.js';
import { ascii85Stage, asciiHexStage, chainStages, flateStage, lzwStage, runLengthStage, type FilterStep, type Stage } from '../../src/extract/pdf-filters.js';
import { checkPdfStreams } from '../../src/extract/pdf.js';
import type { Problem } from '../../src/model/problem.js';
import type { Segment } from '../../src/model/segment.js';

/** Runs `make(sink)` over `input` in pieces of `piece` bytes; returns what came out. */
function decode(make: (out: (c: Uint8Array) => void) => Stage, input: Uint8Array, piece = 7): Buffer {
  const parts: Buffer[] = [];
  const stage = make((c) => parts.push(Buffer.from(c)));
  for (let at = 0; at < input.length; at += piece) stage.push(input.subarray(at, at + piece));
  stage.end();
  return Buffer.concat(parts);
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const TEXT = b('TOBEORNOTTOBEORTOBEORNOT#'.repeat(40) + 'Patient intake, quarterly letter.'.repeat(30));
const RANDOMISH = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919 + ((i * i) >> 3)) & 0xff));

describe('the pre-pass decoders decode as pdf.js does', () => {
  it.each([
    // the example of the PDF specification (7.4.4.2), EarlyChange 1
    ['LZW: the specification example', (o: (c: Uint8Array) => void) => lzwStage(o, 1), Buffer.from('800B6050220C0C8501', 'hex'), b('-----A---B')],
    ['LZW: codes not yet in the table repeat the last run (KwKwK)', (o: (c: Uint8Array) => void) => lzwStage(o, 1), lzwPack([256, 65, 258, 259, 257]), b('AAAAAA')],
    ['LZW: text, EarlyChange 1', (o: (c: Uint8Array) => void) => lzwStage(o, 1), lzwPack(lzwCodes(TEXT)), TEXT],
    ['LZW: text, EarlyChange 0', (o: (c: Uint8Array) => void) => lzwStage(o, 0), lzwPack(lzwCodes(TEXT), 0), TEXT],
    ['LZW: 20,000 varied bytes (clears, 12-bit codes)', (o: (c: Uint8Array) => void) => lzwStage(o, 1), lzwPack(lzwCodes(RANDOMISH)), RANDOMISH],
    ['LZW: nothing after EOD is read', (o: (c: Uint8Array) => void) => lzwStage(o, 1), Buffer.concat([lzwPack([256, 66, 257]), Buffer.from([0xff, 0xff, 0xff])]), b('B')],
    ['RunLength: literal, repeat, end', (o: (c: Uint8Array) => void) => runLengthStage(o), Buffer.concat([Buffer.from([2]), b('abc'), Buffer.from([0xfe]), b('x'), Buffer.from([0x80]), b('zz')]), b('abcxxx')],
    ['RunLength: a literal cut short still counts n + 1', (o: (c: Uint8Array) => void) => runLengthStage(o), Buffer.concat([Buffer.from([5]), b('ab')]), Buffer.concat([b('ab'), Buffer.alloc(4)])],
    ['RunLength: 129 is 128 copies', (o: (c: Uint8Array) => void) => runLengthStage(o), Buffer.from([0x81, 0x20, 0x80]), Buffer.alloc(128, 0x20)],
    ['ASCIIHex: digits, spaces, end marker', (o: (c: Uint8Array) => void) => asciiHexStage(o), b('48 65\n6C6c6F>4142'), b('Hello')],
    ['ASCIIHex: a lone last digit is d0', (o: (c: Uint8Array) => void) => asciiHexStage(o), b('616>'), b('a`')],
    ['ASCII85: "Man " is 9jqo^', (o: (c: Uint8Array) => void) => ascii85Stage(o), b('9jqo^~>'), b('Man ')],
    ['ASCII85: z and a short last group', (o: (c: Uint8Array) => void) => ascii85Stage(o), ascii85(Buffer.concat([Buffer.alloc(8), b('Hello')])), Buffer.concat([Buffer.alloc(8), b('Hello')])],
    ['ASCII85: round trip', (o: (c: Uint8Array) => void) => ascii85Stage(o), ascii85(RANDOMISH), RANDOMISH],
    ['Flate: zlib data', (o: (c: Uint8Array) => void) => flateStage(o), deflateSync(TEXT), TEXT],
    ['Flate: a header pdf.js refuses gives nothing', (o: (c: Uint8Array) => void) => flateStage(o), Buffer.from([0x78, 0x9d, 1, 2, 3]), Buffer.alloc(0)],
  ])('%s', (_label, make, input, expected) => {
    expect(decode(make, input)).toEqual(expected);
    expect(decode(make, input, 64 * 1024)).toEqual(expected);
  });

  const lzwText = lzwPack(lzwCodes(TEXT));
  const steps = (...names: string[]): FilterStep[] => names.map((name) => ({ name, params: null }));
  it.each([
    // counted: the output of every expanding step (ASCIIHex only shrinks: not counted)
    ['LZW alone', steps('LZWDecode'), lzwText, TEXT.length],
    ['ASCII85 then LZW', steps('ASCII85Decode', 'LZWDecode'), ascii85(lzwText), lzwText.length + TEXT.length],
    ['ASCIIHex then RunLength', steps('ASCIIHexDecode', 'RunLengthDecode'), asciiHex(runLengthBomb(1)), 1024 * 1024],
    ['Flate then LZW', steps('FlateDecode', 'LZWDecode'), deflateSync(lzwText), lzwText.length + TEXT.length],
    ['LZW then Flate', steps('LZWDecode', 'FlateDecode'), lzwPack(lzwCodes(deflateSync(TEXT))), deflateSync(TEXT).length + TEXT.length],
    ['an unknown filter is skipped, as pdf.js skips it', steps('NoSuchDecode', 'RunLengthDecode'), runLengthBomb(1), 1024 * 1024],
    ['an image filter ends the chain', steps('DCTDecode', 'RunLengthDecode'), runLengthBomb(1), 0],
  ])('chain: %s counts the expanding output', (_label, chain, input, expected) => {
    let counted = 0;
    const stage = chainStages(chain, (n) => (counted += n));
    for (let at = 0; at < input.length; at += 1000) stage.push(input.subarray(at, at + 1000));
    stage.end();
    expect(counted).toBe(expected);
  });

  it('LZW bomb: decoded in linear time and stopped at the first piece past the limit', () => {
    const bomb = lzwBomb(100);
    let counted = 0;
    let largest = 0;
    const started = Date.now();
    const stage = chainStages(steps('LZWDecode'), (n) => {
      counted += n;
      largest = Math.max(largest, n);
      if (counted > 50 * 1024 * 1024) throw new Error('over');
    });
    expect(() => stage.push(bomb)).toThrow('over');
    expect(largest).toBeLessThanOrEqual(64 * 1024);
    expect(counted).toBeLessThan(50 * 1024 * 1024 + 64 * 1024 + 1);
    expect(Date.now() - started).toBeLessThan(20_000);
    // the whole bomb decodes to its 100 MiB and no more
    let all = 0;
    const full = chainStages(steps('LZWDecode'), (n) => (all += n));
    full.push(bomb);
    full.end();
    // runs of 1 … 3,743 spaces, then 3,743 spaces as often as 100 MiB needs
    expect(all).toBe((3743 * 3744) / 2 + Math.ceil((100 * 1024 * 1024) / 3743) * 3743);
    expect(bomb.length).toBeLessThan(100 * 1024); // ~2,500 to 1
  });
});

async function extract(data: Uint8Array, limits: Partial<ExtractLimits> = {}): Promise<{ segments: Segment[]; problems: Problem[]; rssGrowthMb: number }> {
  const segments: Segment[] = [];
  const problems: Problem[] = [];
  const extraction = messageExtraction({ ...DEFAULT_LIMITS, ...limits }, 5, segments, problems, async () => undefined);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sample = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
  await extractAttachment(data, extraction.attachment('attachment:letter.pdf', 0), { name: 'letter.pdf' });
  clearInterval(sample);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  return { segments, problems, rssGrowthMb: (rssPeak - rssBefore) / 1024 / 1024 };
}

const LIMIT_MESSAGE = (bytes: number): [string, string] => ['attachment-limit', `pdf: inflating would exceed the ${bytes}-byte limit per message; not read`];
const CONTENT = b('BT /F1 12 Tf 72 700 Td (Callback note for the clinic) Tj ET');

describe('PDF streams behind expanding filters are bounded by the inflation budget', () => {
  it.each([
    ['LZWDecode', '/Filter /LZWDecode', lzwPack(lzwCodes(CONTENT))],
    ['LZW, EarlyChange 0', '/Filter /LZW /DecodeParms << /EarlyChange 0 >>', lzwPack(lzwCodes(CONTENT), 0)],
    ['RunLengthDecode', '/Filter /RunLengthDecode', Buffer.concat([Buffer.from([CONTENT.length - 1]), CONTENT, Buffer.from([0x80])])],
    ['ASCII85 then LZW', '/Filter [/A85 /LZW]', ascii85(lzwPack(lzwCodes(CONTENT)))],
    ['ASCIIHex then Flate', '/Filter [/ASCIIHexDecode /FlateDecode]', asciiHex(deflateSync(CONTENT))],
    ['LZW then Flate (#-escaped names)', '/Filter [/LZW#44ecode /Fl]', lzwPack(lzwCodes(deflateSync(CONTENT)))],
  ])('the fixtures encode as pdf.js decodes: text behind %s is read, nothing refused', async (_label, dict, data) => {
    const r = await extract(pdfWithStream(dict, data));
    expect(r.problems).toEqual([]);
    expect(r.segments.map((s) => s.text.trim())).toEqual(['Quarterly letter.', 'Callback note for the clinic']);
  });

  it.each([
    ['pdf-lzw' as const, 'LZW bomb (500 MiB from about 200 KB)'],
    ['pdf-rl' as const, 'RunLength bomb (300 MiB from about 5 MB)'],
  ])('%s, %s: attachment-limit once the budget is spent, memory flat', async (kind, _label) => {
    const r = await extract(bombAttachment(kind).data);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([LIMIT_MESSAGE(DEFAULT_LIMITS.maxInflatedBytes)]);
    expect(r.rssGrowthMb).toBeLessThan(200);
  });

  const mb20 = 20;
  it.each([
    ['ASCII85 then LZW', '/Filter [/ASCII85Decode /LZWDecode]', ascii85(lzwBomb(mb20))],
    ['ASCIIHex then RunLength', '/Filter [/AHx /RL]', asciiHex(runLengthBomb(mb20))],
    ['Flate then LZW', '/Filter [/FlateDecode /LZWDecode]', deflateSync(lzwBomb(mb20))],
    ['LZW then Flate', '/Filter [/LZWDecode /FlateDecode]', lzwPack(lzwCodes(deflateSync(Buffer.alloc(mb20 * 1024 * 1024, 0x20))))],
    ['ASCIIHex then Flate (no zlib header in the file)', '/Filter [/AHx /Fl]', asciiHex(deflateSync(Buffer.alloc(mb20 * 1024 * 1024, 0x20)))],
    ['RunLength, filter given by reference', '/Filter 3 0 R', runLengthBomb(mb20)],
    ['RunLength, a decoy `obj <<` inside a string of the dictionary', '/Foo (1 0 obj << /Filter /Fake >>) /Filter /RL', runLengthBomb(mb20)],
  ])('%s: a 20 MiB stream is refused under a 10 MiB budget', async (label, dict, data) => {
    const pdfBytes = label.includes('reference') ? b(pdfWithStream(dict, data).toString('latin1').replace('3 0 obj\n<< /Type /Font', '99 0 obj\n/RunLengthDecode\nendobj\n3 0 obj\n<< /Type /Font').replace(dict, '/Filter 99 0 R')) : pdfWithStream(dict, data);
    const r = await extract(pdfBytes, { maxInflatedBytes: 10 * 1024 * 1024 });
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([LIMIT_MESSAGE(10 * 1024 * 1024)]);
  });

  it.each([
    ['BrotliDecode (no bounded decoder here)', '/Filter /BrotliDecode', "pdf: a stream's filters (BrotliDecode) cannot be checked for size; not read"],
    ['a filter array with a number in it', '/Filter [/LZW 5]', 'pdf: a stream names a filter that cannot be read, its size cannot be checked; not read'],
  ])('%s: refused, not handed to pdf.js', async (_label, dict, message) => {
    const r = await extract(pdfWithStream(dict, runLengthBomb(1)));
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['corrupt-attachment', message]]);
  });

  it('the stream scan stays linear: 300,000 `stream` keywords with no dictionary', async () => {
    const data = Buffer.concat([pdfWithStream('/Filter /RL', runLengthBomb(1)), b('1 0 obj\nstream\n'.repeat(300_000))]);
    const ctx = messageExtraction(DEFAULT_LIMITS, 5, [], [], async () => undefined).attachment('attachment:letter.pdf', 0);
    let reserved = 0;
    const started = Date.now();
    await checkPdfStreams(data, { ...ctx, reserve: (n: number) => void (reserved += n) });
    expect(Date.now() - started).toBeLessThan(8_000); // ~0.5 s; minutes when each keyword searched to the end of the file
    expect(reserved).toBe(1024 * 1024);
  });

  it('a predictor between two expanding filters cannot be checked: refused, not handed to pdf.js', async () => {
    const r = await extract(pdfWithStream('/Filter [/LZW /RL] /DecodeParms [<< /Predictor 12 /Columns 4 >> null]', lzwPack(lzwCodes(runLengthBomb(1)))));
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['corrupt-attachment', "pdf: a stream's filters (predictor) cannot be checked for size; not read"]]);
  });
});
