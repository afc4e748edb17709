/** DOCX: mammoth's raw text (paragraphs and table cells), after the ZIP limits were checked. */
import mammoth from 'mammoth';
import type { ExtractContext } from './context.js';
import type { ZipArchive } from './zip.js';

export async function extractDocx(bytes: Uint8Array, zip: ZipArchive, ctx: ExtractContext): Promise<void> {
  // mammoth inflates every part itself: charge the whole declared size up front
  let total = 0;
  for (const e of zip.entries.values()) total += e.size;
  ctx.reserve(total, 'docx');
  const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  ctx.text('text', result.value);
}
