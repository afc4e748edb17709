/**
 * What parse/mime.ts reads of a parsed message, as comparable data: tests that claim two ways
 * of parsing read the same (header-fields, single-part) compare these.
 */
import { createReadStream } from 'node:fs';
import type { MimeContent } from '../../src/parse/single-part.js';
import { splitMbox } from '../../src/sources/mbox-split.js';

/** Beyond this from now, a date is the message's own; within it, mailparser's "now" for a Date it cannot read. */
const NOW_MS = 60_000;

export function readOf(p: MimeContent): unknown {
  const date = p.date?.getTime();
  return {
    subject: p.subject,
    messageId: p.messageId,
    date: date === undefined ? null : Math.abs(date - Date.now()) < NOW_MS ? 'now' : date,
    // parse/mime.ts dateOf reads the written Date fields
    dateLines: p.headerLines.filter((l) => l.key === 'date'),
    text: p.text,
    html: p.html,
    attachments: p.attachments.map((a) => ({
      contentType: a.contentType,
      filename: a.filename,
      disposition: a.contentDisposition,
      related: a.related,
      contentTypeField: a.headers.get('content-type'),
      content: a.content.toString('base64'),
    })),
  };
}

export async function mboxMessages(file: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const m of splitMbox(createReadStream(file), { maxMessageBytes: 50 * 1024 * 1024 })) out.push(m.bytes);
  return out;
}
