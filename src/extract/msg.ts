/**
 * Outlook .msg (an OLE compound file of MAPI properties) through @kenjiuno/msgreader: the
 * subject and body (plain, else HTML, else compressed RTF) at this location, attachments
 * (embedded .msg included) handed back to the dispatcher by name.
 */
import MsgReaderModule from '@kenjiuno/msgreader';
import { ExtractError, type ExtractContext } from './context.js';
import { htmlToText } from '../parse/html.js';
import { decompressRtf, rtfToText } from './rtf.js';

// The package is CommonJS with `exports.default`: Node's default import is module.exports, while
// bundlers and test runners (vitest) hand over `exports.default` itself.
type MsgReaderClass = typeof MsgReaderModule.default;
const loaded: unknown = MsgReaderModule;
const MsgReader: MsgReaderClass = typeof loaded === 'function' ? (loaded as MsgReaderClass) : (loaded as { default: MsgReaderClass }).default;

export async function extractMsg(
  bytes: Uint8Array,
  ctx: ExtractContext,
  extract: (bytes: Uint8Array, ctx: ExtractContext, name: string) => Promise<void>,
): Promise<void> {
  let reader: InstanceType<typeof MsgReader>;
  let data: ReturnType<InstanceType<typeof MsgReader>['getFileData']>;
  try {
    reader = new MsgReader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    data = reader.getFileData();
  } catch {
    throw new ExtractError('corrupt-attachment', 'msg: not a readable Outlook message');
  }
  if (data.error) throw new ExtractError('corrupt-attachment', 'msg: not a readable Outlook message');
  if (data.subject) ctx.text('subject', data.subject);
  if (data.body) ctx.text('text', data.body);
  else if (data.bodyHtml) ctx.text('html', htmlToText(data.bodyHtml));
  else if (data.html) ctx.text('html', htmlToText(new TextDecoder('utf-8').decode(data.html)));
  else if (data.compressedRtf) {
    try {
      ctx.text('text', rtfToText(new TextDecoder('latin1').decode(decompressRtf(data.compressedRtf, ctx.limits.maxAttachmentBytes)), ctx));
    } catch (err) {
      if (err instanceof ExtractError) ctx.problem(err.code, `msg body: ${err.message}`);
      else throw err;
    }
  }
  const attachments = data.attachments ?? [];
  if (attachments.length > 0 && ctx.depth + 1 > ctx.maxDepth) {
    ctx.problem('nesting-too-deep', `msg: nested deeper than ${ctx.maxDepth} levels, not read`);
    return;
  }
  for (const [index, a] of attachments.entries()) {
    if (!ctx.inTime('msg')) return;
    const name = (a.innerMsgContent ? `${a.name ?? `message-${index + 1}`}.msg` : (a.fileName ?? a.fileNameShort ?? `attachment-${index + 1}`)).replace(/\//g, '_');
    const child = ctx.child(name);
    let content: Uint8Array;
    try {
      content = reader.getAttachment(a).content;
    } catch {
      child.problem('corrupt-attachment', 'msg: attachment could not be read');
      continue;
    }
    await extract(content, child, name);
  }
}
