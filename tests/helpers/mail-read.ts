/**
 * What parse/mime.ts reads of a parsed message, as comparable data: tests that claim two ways
 * of parsing read the same (header-fields, single-part) compare these.
 */
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { MimeContent } from '../../src/parse/single-part.js';
import { splitMbox } from '../../src/sources/mbox-split.js';
import { ENRON_MBOX, ROOT, TORTURE_MBOX } from './cli.js';

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

/** Every message of the bundled demo (mbox and EML) and of the attachment fixture. */
export async function fixtureMessages(): Promise<Buffer[]> {
  const files = [
    ...readdirSync(path.join(ROOT, 'fixtures/demo/mbox')).map((f) => path.join(ROOT, 'fixtures/demo/mbox', f)),
    path.join(ROOT, 'fixtures/attachments/attachments.mbox'),
  ];
  const emlDir = path.join(ROOT, 'fixtures/demo/eml');
  const emls = readdirSync(emlDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(path.join(emlDir, f)));
  return [...(await Promise.all(files.map(mboxMessages))).flat(), ...emls];
}

/** The optional real-mail corpora as mbox files, by name (tests skip loudly without them: optionalCorpus). */
export const MAIL_CORPORA = [
  ['mime-torture', TORTURE_MBOX],
  ['enron-sample', ENRON_MBOX],
] as const;
