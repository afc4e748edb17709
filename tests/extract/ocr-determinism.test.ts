/**
 * A page's OCR reading depends on that page alone: the same pictures read in another order, or
 * twice in a row, by the same engine give the same text, confidence and records. Before the
 * engine's memory was restored for each reading, pictures with almost no writing (icons, logos)
 * were read differently depending on what the engine had read before, so whether such a picture
 * gave a `no-text` record depended on the thread that read it (--threads).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../fixtures/generate.js';
import { blank, doodle, drawText, encodeGif, encodePng } from '../../fixtures/ocr.js';
import { DEFAULT_LIMITS, extractAttachment, messageExtraction } from '../../src/extract/index.js';
import { closeOcr } from '../../src/extract/ocr.js';
import type { Problem } from '../../src/model/problem.js';
import type { Segment } from '../../src/model/segment.js';

const rng = new Rng('ocr-determinism');
const sizes: [number, number][] = [[16, 16], [19, 19], [24, 32], [40, 40], [40, 40], [50, 50], [60, 60], [42, 32], [64, 24], [90, 110], [120, 48], [33, 80]];
const pictures = sizes.map(([w, h], i) => {
  const g = doodle(rng, w, h);
  return { name: `picture-${i}.${i % 2 ? 'gif' : 'png'}`, bytes: i % 2 ? encodeGif(g) : encodePng(g) };
});
// one picture with real text among them
const line = blank(420, 60);
drawText(line, 'MRN 55501234', 10, 44, 34);
pictures.push({ name: 'label.png', bytes: encodePng(line) });

type Reading = { segments: Segment[]; problems: Problem[] };

async function read(p: { name: string; bytes: Uint8Array }): Promise<Reading> {
  const segments: Segment[] = [];
  const problems: Problem[] = [];
  const extraction = messageExtraction({ ...DEFAULT_LIMITS, maxAttachmentMillis: 120_000, maxOcrPageMillis: 60_000 }, 5, segments, problems, async () => undefined);
  await extractAttachment(p.bytes, extraction.attachment(`attachment:${p.name}`, 0), { name: p.name });
  return { segments, problems };
}

async function readAll(order: readonly { name: string; bytes: Uint8Array }[]): Promise<Map<string, Reading>> {
  const out = new Map<string, Reading>();
  for (const p of order) out.set(p.name, await read(p));
  return out;
}

afterAll(() => closeOcr());

describe('OCR readings depend on the page alone', () => {
  it('the same pictures in two orders, and each twice in a row, read alike by one engine', { timeout: 240_000 }, async () => {
    const forward = await readAll(pictures);
    const backward = await readAll([...pictures].reverse());
    const twice = await readAll(pictures.flatMap((p) => [{ ...p, name: `${p.name}#1` }, p]));
    for (const p of pictures) {
      expect(backward.get(p.name), `${p.name}, read after the others`).toEqual(forward.get(p.name));
      expect(twice.get(p.name), `${p.name}, read twice in a row`).toEqual(forward.get(p.name));
    }
    // the test reads something: the text picture is text, and some doodles are no-text
    expect(forward.get('label.png')?.segments.map((s) => s.text).join(' ')).toContain('55501234');
    expect([...forward.values()].filter((r) => r.problems.some((x) => x.code === 'no-text')).length).toBeGreaterThan(0);
  });
});
