/** PPTX: the text of every slide (and its notes), slide by slide in presentation order. */
import type { ExtractContext } from './context.js';
import { paragraphText, type TextDialect } from './xml.js';
import type { ZipArchive } from './zip.js';

const DRAWING: TextDialect = { paragraph: new Set(['a:p']), text: new Set(['a:t']), tab: new Set(['a:tab']), lineBreak: new Set(['a:br']) };

export async function extractPptx(zip: ZipArchive, ctx: ExtractContext): Promise<void> {
  const slideNumber = (name: string, dir: string): number | undefined => {
    const m = new RegExp(`^ppt/${dir}/\\w+?(\\d+)\\.xml$`).exec(name);
    return m ? Number(m[1]) : undefined;
  };
  const slides = [...zip.entries.keys()].filter((n) => slideNumber(n, 'slides') !== undefined).sort((a, b) => (slideNumber(a, 'slides') ?? 0) - (slideNumber(b, 'slides') ?? 0));
  for (const name of slides) {
    if (!ctx.inTime('pptx')) return;
    const n = slideNumber(name, 'slides') ?? 0;
    const notes = zip.text(`ppt/notesSlides/notesSlide${n}.xml`);
    const inTime = (): boolean => ctx.inTime('pptx');
    const text = paragraphText(zip.text(name) ?? '', DRAWING, inTime) + (notes ? `\n${paragraphText(notes, DRAWING, inTime)}` : '');
    ctx.text('text', text, `slide ${n}`);
    await Promise.resolve();
  }
}
