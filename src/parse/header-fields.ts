/**
 * mailparser is given only the fields of a message's own header that are read: Subject,
 * Message-ID and Date (parse/mime.ts), and those that shape its MIME structure (Content-*,
 * MIME-Version). It decodes every field it is given, and parses addresses (From, To, Cc, …) and
 * DKIM/ARC signatures on top, for nothing here: without them mailparser takes 0.54× the CPU on
 * the Enron sample and 0.39× behind a mail server's usual header (Received, DKIM, ARC,
 * X-MS-Exchange-* …; `npm run bench:headers`).
 *
 * Only whole fields go, found as mailsplit (mailparser's splitter) finds them: the header is every
 * line before the first empty one (`\n` or `\r\n`), a line starting with a space or tab continues
 * the field above. The first line stays whatever it is (mailsplit reads it apart, as a possible
 * mbox `From ` line), and so does a line that is not plainly `name:`. Keeping a field is always
 * safe; the bytes after the header are never touched.
 */

/** The fields mailparser reads for us: the structure, and the three the scan uses. */
const READ_FIELD = /^(?:content-[!-9;-~]*|mime-version|subject|message-id|date)[ \t]*:/i;
/** A field's name (printable ASCII but the colon, RFC 5322 2.2) and its colon. */
const NAMED_FIELD = /^[!-9;-~]+[ \t]*:/;
/** Enough of a line to hold any field name seen in mail and its colon; a longer one is kept. */
const NAME_WINDOW = 200;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;

/** `raw` with only the header fields that are read; `raw` itself (no copy) when it has no others. */
export function withReadFieldsOnly(raw: Buffer): Buffer {
  const dropped: [number, number][] = [];
  let dropping = false;
  let start = 0;
  for (let first = true; start < raw.length; first = false) {
    if (raw[start] === LF || (raw[start] === CR && raw[start + 1] === LF)) break; // the empty line ends the header
    const newline = raw.indexOf(LF, start);
    const end = newline === -1 ? raw.length : newline + 1;
    const c = raw[start];
    if (c === SP || c === TAB) {
      if (dropping) dropped[dropped.length - 1]![1] = end; // a continuation goes with its field
    } else {
      const name = raw.toString('latin1', start, Math.min(end, start + NAME_WINDOW));
      dropping = !first && NAMED_FIELD.test(name) && !READ_FIELD.test(name);
      if (dropping) {
        const last = dropped[dropped.length - 1];
        if (last && last[1] === start) last[1] = end; // next to the one before: one piece
        else dropped.push([start, end]);
      }
    }
    start = end;
  }
  if (dropped.length === 0) return raw;
  const pieces: Buffer[] = [];
  let from = 0;
  for (const [a, b] of dropped) {
    pieces.push(raw.subarray(from, a));
    from = b;
  }
  pieces.push(raw.subarray(from));
  return Buffer.concat(pieces);
}
