/**
 * parse/single-part.ts: a message of one text part (plain or HTML) is read without mailparser's
 * streams, to mailparser's own result. Tables of messages it must take (each compared with simpleParser)
 * and must leave to mailparser, then the claim on every message at hand: wherever it takes one,
 * it reads what mailparser reads (subject, Message-ID, date, Date fields, text, HTML, attachments).
 */
import { existsSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { withReadFieldsOnly } from '../../src/parse/header-fields.js';
import { PARSER_OPTIONS, parseMessage } from '../../src/parse/mime.js';
import { singlePartMessage } from '../../src/parse/single-part.js';
import { withServerHeader } from '../../fixtures/server-header.js';
import { optionalCorpus } from '../helpers/cli.js';
import { MAIL_CORPORA, fixtureMessages, mboxMessages, readOf } from '../helpers/mail-read.js';

const lf = (lines: string[]): Buffer => Buffer.from(lines.join('\n'));
const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

/** mailparser's reading and ours, as data; ours null when the message is left to mailparser. */
async function bothReadings(raw: Buffer): Promise<{ ours: unknown; theirs: unknown }> {
  const plain = singlePartMessage(raw);
  const theirs = await simpleParser(raw, PARSER_OPTIONS).then(readOf, (err: unknown) => `failed: ${String(err)}`);
  return { ours: plain && readOf(plain), theirs };
}

describe('singlePartMessage takes a message of one text part, and reads what mailparser reads', () => {
  const cases: { name: string; raw: Buffer; text?: string; subject?: string }[] = [
    {
      name: 'no MIME fields at all, LF',
      raw: lf(['Subject: Lunch', 'Message-ID: <a@x>', 'Date: Mon, 4 Mar 2024 10:00:00 +0000', '', 'See you at noon.', '']),
      text: 'See you at noon.\n',
      subject: 'Lunch',
    },
    {
      name: 'text/plain; charset=us-ascii, 7bit, CRLF (line breaks become LF)',
      raw: crlf(['Subject: Re: notes', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit', '', 'line one', 'line two']),
      text: 'line one\nline two',
    },
    {
      name: 'upper case, quoted charset, a comment, inline disposition',
      raw: crlf(['Content-Type: TEXT/PLAIN; charset="UTF-8" (comment)', 'Content-Disposition: inline', 'Content-Transfer-Encoding: 8bit', '', 'Grüße aus Köln', '']),
      text: 'Grüße aus Köln\n',
    },
    {
      name: 'UTF-8 body without a charset',
      raw: lf(['Subject: s', '', 'naïve café – “quoted”']),
      text: 'naïve café – “quoted”',
    },
    {
      name: 'a 7-bit body in ISO-8859-1 and in ANSI_X3.4-1968',
      raw: lf(['Content-Type: text/plain; charset=ISO-8859-1', 'Content-Transfer-Encoding: 7bit', '', 'plain ascii', 'Content-Type: text/plain; charset=ANSI_X3.4-1968']),
      text: 'plain ascii\nContent-Type: text/plain; charset=ANSI_X3.4-1968',
    },
    {
      name: 'encoded-word subject, folded',
      raw: crlf(['Subject: =?utf-8?B?UmU6IMOcYmVyd2Vpc3VuZw==?=', ' =?iso-8859-1?Q?f=FCr_Sie?=', 'Date: Tue, 5 Mar 2024 09:00:00 -0500', '', 'x']),
      subject: 'Re: Überweisungfür Sie',
    },
    {
      name: 'raw UTF-8 bytes in the subject',
      raw: lf(['Subject: Bestätigung – Termin', '', 'body']),
      subject: 'Bestätigung – Termin',
    },
    {
      name: 'an empty first Subject and Message-ID: the next ones count; a Message-ID without brackets gets them',
      raw: lf(['Subject:', 'Message-ID:', 'Subject: second', 'Message-ID: bare@id', 'Subject: third', 'Message-ID: <third@id>', '', 'b']),
      subject: 'second',
    },
    {
      name: 'an unreadable Date first, a readable one after (dateOf reads the written lines)',
      raw: lf(['Date: not a date', 'Date: Wed, 6 Mar 2024 08:00:00 +0100', 'Subject: d', '', 'b']),
    },
    {
      name: 'two readable Dates: the first counts',
      raw: lf(['Date: Wed, 6 Mar 2024 08:00:00 +0100', 'Date: Thu, 7 Mar 2024 08:00:00 +0100', '', 'b']),
    },
    {
      name: 'an empty Date',
      raw: lf(['Date:', 'Subject: d', '', 'b']),
    },
    {
      name: 'an mbox From_ first line',
      raw: lf(['From someone@example.com Mon Mar  4 10:00:00 2024', 'Subject: mbox', '', 'body', '>From quoted', '']),
      text: 'body\n>From quoted\n',
    },
    {
      name: 'boundary-like and header-like lines in the body',
      raw: lf(['Subject: s', '', '--b1', 'Content-Type: multipart/mixed; boundary=b1', '', '--b1--', '']),
    },
    {
      name: 'an empty body, and a header that ends with its empty line',
      raw: crlf(['Subject: empty', '', '']),
    },
    {
      name: 'a Content-Transfer-Encoding mailparser does not decode (binary, x-unknown)',
      raw: lf(['Content-Type: text/plain', 'Content-Transfer-Encoding: x-unknown', '', '=41 stays', '']),
      text: '=41 stays\n',
    },
    {
      name: 'quoted-printable UTF-8: escapes, soft line breaks, trailing white space, a bad escape',
      raw: crlf(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: Quoted-Printable', '', 'caf=C3=A9 au l=', 'ait  ', '=ZZ stays=3D', '']),
      text: 'café au lait\n=ZZ stays=\n',
    },
    {
      name: 'quoted-printable in ISO-8859-1 that decodes to 7-bit',
      raw: lf(['Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'a=3Db =', '']),
      text: 'a=b ',
    },
    {
      name: 'an HTML body alone: the HTML, and an empty text',
      raw: crlf(['Subject: news', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', '<p>Caf=C3=A9 <b>menu</b></p>', '']),
      text: '',
    },
    {
      name: 'an empty HTML body: neither text nor HTML',
      raw: lf(['Content-Type: text/html', '', '']),
    },
    {
      name: 'a lone CR in the body stays',
      raw: lf(['Subject: s', '', 'a\rb', '']),
      text: 'a\rb\n',
    },
  ];
  it.each(cases)('$name', async ({ raw, text, subject }) => {
    const { ours, theirs } = await bothReadings(raw);
    expect(ours).not.toBeNull();
    expect(ours).toEqual(theirs);
    const plain = singlePartMessage(raw);
    if (text !== undefined) expect(plain?.text).toBe(text);
    if (subject !== undefined) expect(plain?.subject).toBe(subject);
  });
});

describe('singlePartMessage leaves everything else to mailparser', () => {
  const cases: { name: string; raw: Buffer }[] = [
    { name: 'multipart/mixed', raw: lf(['Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'x', '--b--']) },
    { name: 'text/plain with a boundary (mailsplit splits it into parts)', raw: lf(['Content-Type: text/plain; boundary="b"', '', '--b', 'Content-Type: text/html', '', '<p>x</p>', '--b--']) },
    { name: 'text/html with a boundary', raw: crlf(['Content-Type: text/html;', '\tboundary="--b"', '', '----b', 'Content-Type: text/html', '', '<p>x</p>', '----b--']) },
    { name: 'multipart without a boundary', raw: lf(['Content-Type: multipart/alternative', '', 'x']) },
    { name: 'text/xml', raw: lf(['Content-Type: text/xml', '', '<a>x</a>']) },
    { name: 'HTML in base64', raw: lf(['Content-Type: text/html', 'Content-Transfer-Encoding: base64', '', 'PHA+eDwvcD4=']) },
    { name: 'quoted-printable decoding to 8-bit ISO-8859-1', raw: lf(['Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=E9']) },
    { name: 'base64', raw: lf(['Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', 'aGVsbG8=']) },
    { name: 'format=flowed', raw: lf(['Content-Type: text/plain; format=flowed', '', 'a ', 'b']) },
    { name: 'an attachment', raw: lf(['Content-Type: text/plain', 'Content-Disposition: attachment; filename=a.txt', '', 'x']) },
    { name: 'an unknown disposition (mailparser makes it an attachment)', raw: lf(['Content-Disposition: form-data', '', 'x']) },
    { name: 'an 8-bit body in ISO-8859-1', raw: Buffer.concat([lf(['Content-Type: text/plain; charset=iso-8859-1', '', '']), Buffer.from([0x63, 0x61, 0x66, 0xe9])]) },
    { name: 'UTF-16', raw: lf(['Content-Type: text/plain; charset=utf-16', '', 'x']) },
    { name: 'UTF-7', raw: lf(['Content-Type: text/plain; charset=utf-7', '', '+ADw-x']) },
    { name: 'an attached message as the whole message', raw: lf(['Content-Type: message/rfc822', '', 'Subject: inner', '', 'x']) },
    { name: 'a PDF as the whole message', raw: lf(['Content-Type: application/pdf', '', '%PDF-1.4']) },
    { name: 'no empty line after the header', raw: lf(['Subject: s', 'Date: Mon, 4 Mar 2024 10:00:00 +0000']) },
    { name: 'a header of more than 8 KB', raw: lf([`Subject: ${'x'.repeat(9000)}`, '', 'b']) },
  ];
  it.each(cases)('$name', async ({ raw }) => {
    expect(singlePartMessage(raw)).toBeNull();
    // and parse/mime.ts still reads it (through mailparser)
    const parsed = await parseMessage(raw, { maxNestingDepth: 3 });
    expect(parsed.problems.filter((p) => p.code === 'parse-failed')).toEqual([]);
  });
});

describe('wherever singlePartMessage takes a message, it reads what mailparser reads', () => {
  /** Every message it takes is compared; returns how many it took. */
  async function compareAll(messages: readonly Buffer[]): Promise<{ taken: number; differ: number[] }> {
    let taken = 0;
    const differ: number[] = [];
    for (const [i, raw] of messages.entries()) {
      const { ours, theirs } = await bothReadings(raw);
      if (ours === null) continue;
      taken++;
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ.push(i + 1);
    }
    return { taken, differ };
  }

  it('on the bundled demo and attachment fixtures, as given and after header-fields.ts', { timeout: 120_000 }, async () => {
    const messages = await fixtureMessages();
    const all = [...messages, ...messages.map((m) => withReadFieldsOnly(withServerHeader(m)))];
    const { taken, differ } = await compareAll(all);
    expect(differ).toEqual([]);
    expect(taken).toBeGreaterThan(20);
  });

  it('on generated variations of header fields, line breaks, charsets and bodies', { timeout: 120_000 }, async () => {
    const subjects = ['Subject: plain', 'Subject: =?utf-8?Q?caf=C3=A9?=', 'Subject: ', 'Subject: a\n b', 'Subject: Ünïcode'];
    const ids = ['Message-ID: <x@y>', 'Message-ID: x@y', 'Message-Id: ', 'Message-ID: <x@y> (c)'];
    const dates = ['Date: Mon, 4 Mar 2024 10:00:00 +0000', 'Date: junk', 'Date: ', 'Date: 2024-03-04'];
    const types = ['', 'Content-Type: text/plain', 'Content-Type: text/plain; charset=utf-8', 'Content-Type: text/plain; charset="us-ascii"', 'Content-Type: text/plain;\n charset=windows-1252', 'Content-Type: text/plain; charset=iso-8859-15', 'Content-Type: text/html; charset=utf-8', 'Content-Type: TEXT/HTML'];
    const encodings = ['', 'Content-Transfer-Encoding: 7bit', 'Content-Transfer-Encoding: quoted-printable', 'Content-Transfer-Encoding: 8bit'];
    const bodies = ['', 'one line', 'two\nlines\n', 'grüße\n', '--x\n\nFrom me\n', 'tail without newline', 'gr=C3=BC=\n=C3=9Fe =\n', 'x=3D1 \t\n=E9=\n', '<p>a<br>b</p>\n'];
    const messages: Buffer[] = [];
    let n = 0;
    for (const subject of subjects)
      for (const id of ids)
        for (const date of dates)
          for (const type of types) {
            // every body with every encoding, in turn
            const body = bodies[n % bodies.length] as string;
            const encoding = encodings[Math.floor(n++ / bodies.length) % encodings.length] as string;
            const header = [date, subject, id, type, encoding].filter(Boolean);
            messages.push(lf([...header, '', body]), crlf([...header, '', body.replace(/\n/g, '\r\n')]));
          }
    const { taken, differ } = await compareAll(messages);
    expect(differ).toEqual([]);
    expect(taken).toBeGreaterThan(messages.length / 2);
  });

  for (const [name, file] of MAIL_CORPORA) {
    it(`on the ${name} corpus (optional)`, { timeout: 300_000 }, async () => {
      if (!optionalCorpus(name, existsSync(file))) return;
      const messages = (await mboxMessages(file)).map(withReadFieldsOnly);
      const { taken, differ } = await compareAll(messages);
      expect(differ).toEqual([]);
      expect(taken).toBeGreaterThan(0);
    });
  }
});
