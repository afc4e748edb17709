/**
 * TNEF (winmail.dat, application/ms-tnef), after [MS-OXTNEF]: the message body (plain, HTML,
 * or compressed RTF) and every attachment, handed back to the dispatcher by name.
 * In-house because node-tnef logs to stdout, which carries our JSONL.
 */
import { ExtractError, type ExtractContext } from './context.js';
import { htmlToText } from '../parse/html.js';
import { decompressRtf, rtfToText } from './rtf.js';

export const TNEF_SIGNATURE = 0x223e9f78;

const ATT_SUBJECT = 0x00018004;
const ATT_BODY = 0x0002800c;
const ATT_MAPI_PROPS = 0x00069003;
const ATT_ATTACH_RENDDATA = 0x00069002;
const ATT_ATTACH_TITLE = 0x00018010;
const ATT_ATTACH_DATA = 0x0006800f;
const ATT_ATTACHMENT = 0x00069005;

const PR_BODY = 0x1000;
const PR_BODY_HTML = 0x1013;
const PR_RTF_COMPRESSED = 0x1009;
const PR_ATTACH_DATA = 0x3701;
const PR_ATTACH_LONG_FILENAME = 0x3707;
const PR_ATTACH_FILENAME = 0x3704;

const FIXED_SIZE: Record<number, number> = { 0x0001: 4, 0x0002: 4, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000a: 4, 0x000b: 4, 0x0014: 8, 0x0040: 8, 0x0048: 16 };
const VARIABLE = new Set([0x000d, 0x001e, 0x001f, 0x0102]);

type PropValue = { type: number; data: Uint8Array };

const corrupt = (what: string): ExtractError => new ExtractError('corrupt-attachment', `tnef: ${what}`);

class Reader {
  private p = 0;
  constructor(private readonly b: Uint8Array) {}
  get offset(): number {
    return this.p;
  }
  get left(): number {
    return this.b.length - this.p;
  }
  need(n: number): void {
    if (n < 0 || this.p + n > this.b.length) throw corrupt('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++] as number;
  }
  u16(): number {
    this.need(2);
    const v = (this.b[this.p] as number) | ((this.b[this.p + 1] as number) << 8);
    this.p += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = ((this.b[this.p] as number) | ((this.b[this.p + 1] as number) << 8) | ((this.b[this.p + 2] as number) << 16)) + (this.b[this.p + 3] as number) * 0x1000000;
    this.p += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.p += n;
  }
}

/** A MAPI property list (attMAPIProps, attAttachment) → property id → first value. */
function mapiProps(data: Uint8Array): Map<number, PropValue> {
  const r = new Reader(data);
  const props = new Map<number, PropValue>();
  const count = r.u32();
  for (let n = 0; n < count && r.left > 0; n++) {
    const type = r.u16();
    const id = r.u16();
    if (id >= 0x8000) {
      r.skip(16); // property set GUID
      if (r.u32() === 0) r.skip(4);
      else {
        const len = r.u32();
        r.skip(len + ((4 - (len % 4)) % 4));
      }
    }
    const base = type & 0x0fff;
    const multi = (type & 0x1000) !== 0;
    const values = multi || VARIABLE.has(base) ? r.u32() : 1;
    if (values > r.left) throw corrupt('bad property count');
    for (let v = 0; v < values; v++) {
      let value: Uint8Array;
      if (VARIABLE.has(base)) {
        const len = r.u32();
        value = r.bytes(len);
        r.skip((4 - (len % 4)) % 4);
      } else {
        const size = FIXED_SIZE[base];
        if (size === undefined) throw corrupt(`unknown property type ${base}`);
        value = r.bytes(size);
      }
      if (v === 0 && !props.has(id)) props.set(id, { type: base, data: value });
    }
  }
  return props;
}

function str(v: PropValue | undefined): string | undefined {
  if (!v) return undefined;
  if (v.type === 0x001f) return new TextDecoder('utf-16le').decode(v.data).replace(/\0+$/, '');
  return new TextDecoder('windows-1252').decode(v.data).replace(/\0+$/, '');
}

interface TnefAttachment {
  title?: string;
  data?: Uint8Array;
  props?: Map<number, PropValue>;
}

export async function extractTnef(
  bytes: Uint8Array,
  ctx: ExtractContext,
  extract: (bytes: Uint8Array, ctx: ExtractContext, name: string) => Promise<void>,
): Promise<void> {
  const r = new Reader(bytes);
  if (r.u32() !== TNEF_SIGNATURE) throw corrupt('bad signature');
  r.u16(); // legacy key
  let body: string | undefined;
  let messageProps: Map<number, PropValue> | undefined;
  const attachments: TnefAttachment[] = [];
  let truncated = false;
  try {
    while (r.left > 0) {
      r.u8(); // level: message or attachment; the attribute id says enough
      const id = r.u32();
      const len = r.u32();
      const data = r.bytes(len);
      r.u16(); // checksum
      const current = attachments[attachments.length - 1];
      switch (id) {
        case ATT_BODY:
          body = new TextDecoder('windows-1252').decode(data).replace(/\0+$/, '');
          break;
        case ATT_SUBJECT:
          break; // the subject of the wrapping message is already scanned
        case ATT_MAPI_PROPS:
          messageProps = mapiProps(data);
          break;
        case ATT_ATTACH_RENDDATA:
          attachments.push({});
          break;
        case ATT_ATTACH_TITLE:
          if (current) current.title = new TextDecoder('windows-1252').decode(data).replace(/\0+$/, '');
          break;
        case ATT_ATTACH_DATA:
          if (current) current.data = data;
          break;
        case ATT_ATTACHMENT:
          if (current) current.props = mapiProps(data);
          break;
        default:
      }
    }
  } catch (err) {
    if (!(err instanceof ExtractError)) throw err;
    truncated = true; // keep what was read before the damage
  }

  const props = messageProps ?? new Map<number, PropValue>();
  const text = str(props.get(PR_BODY)) ?? body;
  if (text) ctx.text('text', text);
  else if (props.get(PR_BODY_HTML)) ctx.text('html', htmlToText(str(props.get(PR_BODY_HTML)) ?? ''));
  else {
    const rtf = props.get(PR_RTF_COMPRESSED);
    if (rtf) {
      try {
        ctx.text('text', rtfToText(new TextDecoder('latin1').decode(decompressRtf(rtf.data, ctx.limits.maxAttachmentBytes)), ctx));
      } catch (err) {
        if (err instanceof ExtractError) ctx.problem(err.code, `tnef body: ${err.message}`);
        else throw err;
      }
    }
  }
  if (truncated) ctx.problem('corrupt-attachment', 'tnef: truncated or malformed; what came before was read');

  if (attachments.length > 0 && ctx.depth + 1 > ctx.maxDepth) {
    ctx.problem('nesting-too-deep', `tnef: nested deeper than ${ctx.maxDepth} levels, not read`);
    return;
  }
  for (const [index, a] of attachments.entries()) {
    if (!ctx.inTime('tnef')) return;
    const name = str(a.props?.get(PR_ATTACH_LONG_FILENAME)) ?? str(a.props?.get(PR_ATTACH_FILENAME)) ?? a.title ?? `attachment-${index + 1}`;
    let data = a.data ?? a.props?.get(PR_ATTACH_DATA)?.data;
    const child = ctx.child(name.replace(/\//g, '_'));
    if (!data) continue;
    // an embedded message (attach method 5) is PT_OBJECT: a 16-byte interface id, then TNEF
    if (a.props?.get(PR_ATTACH_DATA)?.type === 0x000d && data.length > 16) data = data.subarray(16);
    await extract(data, child, name);
  }
}
