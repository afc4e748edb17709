/**
 * parse/header-fields.ts: mailparser is given only the header fields that are read. A table of
 * what goes and what stays, then the claim itself: on every message at hand mailparser reads the
 * same subject, Message-ID, date, bodies and attachments (all that parse/mime.ts takes from it)
 * with and without the other fields.
 */
import { existsSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { withReadFieldsOnly } from '../../src/parse/header-fields.js';
import { PARSER_OPTIONS } from '../../src/parse/mime.js';
import { withServerHeader } from '../../fixtures/server-header.js';
import { optionalCorpus } from '../helpers/cli.js';
import { MAIL_CORPORA, fixtureMessages, mboxMessages, readOf } from '../helpers/mail-read.js';

const lf = (lines: string[]): Buffer => Buffer.from(lines.join('\n'));
const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

describe('withReadFieldsOnly', () => {
  const BODY = ['', 'To: a body line stays', 'Received: so does this', ''];
  const cases: { name: string; input: Buffer; output: Buffer }[] = [
    {
      name: 'address, trace and signature fields go, folded lines with them',
      input: crlf(['Message-ID: <a@x>', 'From: "Roe, Jane" <j@x>', 'To: a@x,', ' b@x', 'Received: from x', '\tby y; Mon', 'DKIM-Signature: v=1;', ' b=abc', 'Subject: s', ...BODY]),
      output: crlf(['Message-ID: <a@x>', 'Subject: s', ...BODY]),
    },
    {
      name: 'Subject, Message-ID, Date, MIME-Version and every Content-* field stay, folded or not, any case',
      input: lf(['Date: Mon, 4 Mar 2024', 'X-Mailer: m', 'SUBJECT: a', ' b', 'mime-version: 1.0', 'Content-Type: multipart/mixed;', ' boundary="b1"', 'Content-Transfer-Encoding : 7bit', 'content-disposition: inline', 'Content-ID: <c>', ...BODY]),
      output: lf(['Date: Mon, 4 Mar 2024', 'SUBJECT: a', ' b', 'mime-version: 1.0', 'Content-Type: multipart/mixed;', ' boundary="b1"', 'Content-Transfer-Encoding : 7bit', 'content-disposition: inline', 'Content-ID: <c>', ...BODY]),
    },
    {
      name: 'the first line stays whatever it is (mailsplit reads it apart)',
      input: lf(['From: j@x', ' (folded)', 'To: k@x', 'Subject: s', ...BODY]),
      output: lf(['From: j@x', ' (folded)', 'Subject: s', ...BODY]),
    },
    {
      name: 'a line that is not name: stays with its continuation; so does a name longer than the window',
      input: lf(['Subject: s', 'no colon here', ' continued: yes', 'Cc: c@x', `X-${'N'.repeat(220)}: v`, ...BODY]),
      output: lf(['Subject: s', 'no colon here', ' continued: yes', `X-${'N'.repeat(220)}: v`, ...BODY]),
    },
    {
      name: 'a line of spaces is a continuation, not the end of the header',
      input: lf(['Subject: s', 'To: a@x', '   ', 'Date: d', ...BODY]),
      output: lf(['Subject: s', 'Date: d', ...BODY]),
    },
    {
      name: 'a header without a body, CRLF, ends at the last byte',
      input: crlf(['Subject: s', 'Reply-To: r@x', 'Return-Path: <p@x>']),
      output: crlf(['Subject: s', '']),
    },
    {
      name: 'a bare CR is no line break',
      input: lf(['Subject: s\rTo: x', 'Bcc: y', ...BODY]),
      output: lf(['Subject: s\rTo: x', ...BODY]),
    },
    {
      name: 'a message that starts with its empty line has no header',
      input: crlf(['', 'To: x', 'Subject: y']),
      output: crlf(['', 'To: x', 'Subject: y']),
    },
  ];
  it.each(cases)('$name', ({ input, output }) => {
    expect(withReadFieldsOnly(input).toString('latin1')).toBe(output.toString('latin1'));
  });

  it('gives the same buffer back when there is nothing to leave out', () => {
    const raw = crlf(['Subject: s', 'Content-Type: text/plain', '', 'body']);
    expect(withReadFieldsOnly(raw)).toBe(raw);
  });
});

async function readAlike(raw: Buffer): Promise<{ same: boolean; trimmed: boolean }> {
  const trimmed = withReadFieldsOnly(raw);
  const read = (bytes: Buffer): Promise<unknown> => simpleParser(bytes, PARSER_OPTIONS).then(readOf, (err: unknown) => `failed: ${String(err)}`);
  const [a, b] = await Promise.all([read(raw), read(trimmed)]);
  return { same: JSON.stringify(a) === JSON.stringify(b), trimmed: trimmed !== raw };
}

describe('mailparser reads the same with only the read fields', () => {
  it('on the bundled demo and attachment fixtures, also behind a mail server\'s header', { timeout: 120_000 }, async () => {
    const messages = await fixtureMessages();
    expect(messages.length).toBeGreaterThan(20);
    let trimmed = 0;
    for (const raw of [...messages, ...messages.map(withServerHeader)]) {
      const r = await readAlike(raw);
      expect(r.same).toBe(true);
      if (r.trimmed) trimmed++;
    }
    expect(trimmed).toBeGreaterThanOrEqual(messages.length); // every message behind the server's header
  });

  for (const [name, file] of MAIL_CORPORA) {
    it(`on the ${name} corpus (optional)`, { timeout: 300_000 }, async () => {
      if (!optionalCorpus(name, existsSync(file))) return;
      const differ: number[] = [];
      const messages = await mboxMessages(file);
      for (const [i, raw] of messages.entries()) if (!(await readAlike(raw)).same) differ.push(i + 1);
      expect(differ).toEqual([]);
    });
  }
});
