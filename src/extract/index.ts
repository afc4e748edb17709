/**
 * Attachment → text: sniff the bytes, pick the reader, report what cannot be read. Containers
 * (ZIP, TNEF, .msg, attached messages) hand their members back here, one level deeper.
 * Never throws for bad input: every failure becomes a problem at the file's location.
 */
import { htmlToText } from '../parse/html.js';
import { safeReason } from '../common/safe-reason.js';
import { ExtractError, OutOfTime, type Declared, type ExtractContext } from './context.js';
import { extractDocx } from './docx.js';
import { extractOdf } from './odf.js';
import { extractPptx } from './pptx.js';
import { rtfToText } from './rtf.js';
import { oleKind, sniff, zipKind, type OleKind } from './sniff.js';
import { extractTnef } from './tnef.js';
import { extractXlsx } from './xlsx.js';
import { extractZip, openZip, readZipDirectory, readZipEntry } from './zip.js';

export { DEFAULT_LIMITS, messageExtraction, type ExtractContext, type ExtractLimits } from './context.js';

const LEGACY_OFFICE: Partial<Record<OleKind, string>> = {
  doc: 'legacy Word .doc',
  xls: 'legacy Excel .xls',
  ppt: 'legacy PowerPoint .ppt',
  ole: 'OLE compound file',
};

function decodeText(bytes: Uint8Array, encoding: string, charset: string | undefined): string {
  const label = encoding === 'declared' ? (charset?.toLowerCase() ?? 'utf-8') : encoding;
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    // unknown charset label: UTF-8 keeps ASCII digits and keywords intact
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Reads one attachment (or archive member) into segments and problems at `ctx.location`. */
export async function extractAttachment(bytes: Uint8Array, ctx: ExtractContext, declared: Declared): Promise<void> {
  let what = (declared.contentType ?? '').toLowerCase() || 'attachment';
  try {
    if (bytes.length > ctx.limits.maxAttachmentBytes) {
      throw new ExtractError('attachment-limit', `${what}: ${bytes.length} bytes, over the ${ctx.limits.maxAttachmentBytes}-byte attachment limit; not read`);
    }
    const sniffed = sniff(bytes, declared);
    what = sniffed.kind;
    switch (sniffed.kind) {
      case 'text': {
        const text = decodeText(bytes, sniffed.encoding, declared.charset);
        ctx.text(sniffed.format, sniffed.format === 'html' ? htmlToText(text) : text);
        return;
      }
      case 'message':
        await ctx.readMessage(bytes);
        return;
      case 'pdf':
        await (await import('./pdf.js')).extractPdf(bytes, ctx); // loaded with the first PDF (as pdf.js itself)
        return;
      case 'rtf':
        ctx.text('text', rtfToText(new TextDecoder('latin1').decode(bytes), ctx));
        return;
      case 'tnef':
        await extractTnef(bytes, ctx, member);
        return;
      case 'ole': {
        let kind = oleKind(bytes);
        // a damaged .msg may have lost its directory: say it is a broken message, not an unknown file
        if (kind === 'ole' && (/\.msg$/i.test(declared.name) || /ms-outlook/i.test(declared.contentType ?? ''))) kind = 'msg';
        if (kind === 'msg') {
          what = 'msg';
          if (ctx.depth + 1 > ctx.maxDepth) throw new ExtractError('nesting-too-deep', `msg: nested deeper than ${ctx.maxDepth} levels, not read`);
          await (await import('./msg.js')).extractMsg(bytes, ctx, member); // msgreader: with the first .msg
        } else if (kind === 'encrypted-office') throw new ExtractError('encrypted', 'office document: password-protected, no text extracted');
        else throw new ExtractError('unsupported-attachment', `${LEGACY_OFFICE[kind] ?? kind}: format not supported (not scanned)`);
        return;
      }
      case 'zip': {
        const entries = readZipDirectory(bytes, ctx.limits.maxArchiveEntries);
        const kind = zipKind(entries, () => {
          const e = entries.find((x) => x.name === 'mimetype');
          return e && e.size < 200 ? new TextDecoder().decode(readZipEntry(bytes, e, ctx)) : undefined;
        });
        what = kind;
        if (kind === 'zip') return await extractZip(bytes, entries, ctx, member);
        const zip = openZip(bytes, ctx, kind);
        if (kind === 'docx') await extractDocx(zip, ctx);
        else if (kind === 'xlsx') await extractXlsx(zip, ctx);
        else if (kind === 'pptx') await extractPptx(zip, ctx);
        else await extractOdf(zip, ctx, kind);
        return;
      }
      case 'image':
        await (await import('./ocr-pages.js')).extractImage(bytes, sniffed.type, ctx); // image decoders: with the first image
        return;
      case 'binary':
        ctx.problem('unsupported-attachment', `attachment type ${declared.contentType || 'unknown'} is not read by this version (not scanned)`);
        return;
    }
  } catch (err) {
    if (err instanceof OutOfTime) return; // its problem is recorded
    if (err instanceof ExtractError) ctx.problem(err.code, err.message);
    else ctx.problem('corrupt-attachment', `${what}: cannot be read (${safeReason(err)})`);
  }
}

/** A member of a container: its name is all that is declared. */
function member(bytes: Uint8Array, ctx: ExtractContext, name: string): Promise<void> {
  return extractAttachment(bytes, ctx, { name });
}
