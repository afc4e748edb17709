/**
 * sinks/line-bytes.ts: lines encoded into one reused buffer are the bytes of the lines joined
 * with newlines, whatever they hold, however long, and a batch handed out stays as it was when
 * the buffer is reused.
 */
import { describe, expect, it } from 'vitest';
import { LineBytes } from '../../src/sinks/line-bytes.js';

const utf8 = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');

const BATCHES: readonly (readonly [string, readonly string[]])[] = [
  ['ASCII', ['{"type":"finding","rule":"ssn"}', '{"type":"message"}']],
  ['two-byte characters (masked values)', ['{"masked":"•••-••-9719"}', 'é’ ü']],
  ['characters outside the BMP (surrogate pairs)', ['🩺 patient 👩‍⚕️', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢']],
  ['a lone surrogate (written as U+FFFD, as Buffer.from writes it)', ['\ud800 x', 'y \udfff']],
  ['empty lines', ['', '', 'z']],
  ['lines far longer than the initial buffer', ['•'.repeat(200_000), 'a'.repeat(300_000), '🩺'.repeat(50_000)]],
  ['many lines (growth within a batch)', Array.from({ length: 20_000 }, (_, i) => `{"n":${i},"masked":"••••••${i % 10_000}"}`)],
  ['a batch over the size kept after it (the buffer is let go)', ['x'.repeat(5_000_000)]],
];

describe('LineBytes', () => {
  it.each(BATCHES)('%s: the bytes of the lines, each followed by a newline', (_name, lines) => {
    const enc = new LineBytes();
    for (const l of lines) enc.add(l);
    expect(enc.take().equals(Buffer.from(utf8(lines)))).toBe(true);
  });

  it('batches handed out keep their bytes while the buffer is reused, and each starts empty', () => {
    const enc = new LineBytes();
    const taken = BATCHES.map(([, lines]) => {
      for (const l of lines) enc.add(l);
      return enc.take();
    });
    taken.forEach((bytes, i) => expect(bytes.equals(Buffer.from(utf8((BATCHES[i] as (typeof BATCHES)[number])[1])))).toBe(true));
    expect(enc.take().length).toBe(0);
  });
});
