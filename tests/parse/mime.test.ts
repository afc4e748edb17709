import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mayHaveBoundarylessMultipart, parseMessage } from '../../src/parse/mime.js';
import { safeReason } from '../../src/common/safe-reason.js';
import { headerFields } from '../../src/parse/header-values.js';
import { flatHtmlToText, htmlDepthOver, htmlToText, MAX_HTML_DEPTH } from '../../src/parse/html.js';

const opts = { maxNestingDepth: 5 };
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

const b64 = (s: string): string => Buffer.from(s).toString('base64').replace(/.{76}/g, '$&\n');

describe('HTML to text', () => {
  it('keeps table rows as lines with cells apart, decodes entities, drops images, URLs and data: URIs', () => {
    const html =
      '<p>Dear&nbsp;team &amp; co</p><table><tr><th>Name</th><th>SSN</th></tr><tr><td>Jane <b>Roe</b></td><td>536<b>-</b>90-4399</td></tr></table>' +
      '<img src="data:image/png;base64,QUJDMTIzNDU2Nzg5"><a href="https://x.example/536904399">link</a><p>data:image/gif;base64,R0lGODlh end</p>';
    const text = htmlToText(html);
    expect(text).toContain('Dear team & co');
    expect(text).toContain('Name | SSN\nJane Roe | 536-90-4399');
    expect(text).not.toContain('536904399');
    expect(text).not.toContain('base64');
    expect(text).toContain('end');
  });
});

describe('parseMessage', () => {
  it('yields subject, text body and HTML body as text, never other headers', async () => {
    const raw = crlf(`Message-ID: <m1@example.org>
Date: Mon, 4 Mar 2024 09:15:00 +0000
Subject: Referral
X-Secret-Header: 536-90-4399
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

plain body
--b1
Content-Type: text/html; charset=utf-8

<p>html&nbsp;body</p>
--b1--
`);
    const parsed = await parseMessage(raw, opts);
    expect(parsed.messageId).toBe('<m1@example.org>');
    expect(parsed.date).toBe('2024-03-04T09:15:00.000Z');
    expect(parsed.segments.map((s) => [s.location, s.format, s.text.trim()])).toEqual([
      ['subject', 'subject', 'Referral'],
      ['body', 'text', 'plain body'],
      ['body', 'html', 'html body'],
    ]);
    expect(parsed.problems).toEqual([]);
  });

  it.each([
    { name: 'a readable Date', dates: ['Mon, 4 Mar 2024 09:15:00 +0000'], date: '2024-03-04T09:15:00.000Z' },
    { name: 'a folded Date', dates: ['Mon, 4 Mar 2024\n 09:15:00 +0000'], date: '2024-03-04T09:15:00.000Z' },
    { name: 'no Date', dates: [], date: null },
    { name: 'a Date that is not a date (mailparser would give the time of parsing)', dates: ['sometime next week'], date: null },
    { name: 'an empty Date', dates: [''], date: null },
    { name: 'an unreadable Date, then a readable one', dates: ['garbage', 'Tue, 5 Mar 2024 10:00:00 +0000'], date: '2024-03-05T10:00:00.000Z' },
  ])('dates the message by its Date header: $name', async ({ dates, date }) => {
    const raw = crlf(`Message-ID: <d1@example.org>\n${dates.map((d) => `Date: ${d}\n`).join('')}Subject: s\n\nbody\n`);
    expect((await parseMessage(raw, opts)).date).toEqual(date);
  });

  it('reads text-like attachments, recurses into attached messages, and reports what it cannot read', async () => {
    const inner = `Subject: inner subject\nContent-Type: multipart/mixed; boundary="i"\n\n--i\nContent-Type: text/plain\n\ninner body\n--i\nContent-Type: text/plain; name="notes.txt"\nContent-Disposition: attachment; filename="notes.txt"\n\ninner notes\n--i--\n`;
    const raw = crlf(`Subject: outer
Content-Type: multipart/mixed; boundary="o"

--o
Content-Type: text/plain

outer body
--o
Content-Type: text/csv; name="roster.csv"
Content-Disposition: attachment; filename="roster.csv"
Content-Transfer-Encoding: base64

${b64('Name,SSN\nJane Roe,536-90-4399\n')}
--o
Content-Type: message/rfc822
Content-Disposition: attachment; filename="fwd.eml"

${inner}
--o
Content-Type: application/pdf; name="scan.pdf"
Content-Disposition: attachment; filename="scan.pdf"
Content-Transfer-Encoding: base64

${b64('%PDF-1.4 fake')}
--o
Content-Type: image/png
Content-Disposition: inline
Content-ID: <logo>
Content-Transfer-Encoding: base64

${b64('png')}
--o--
`);
    const parsed = await parseMessage(raw, opts);
    expect(parsed.messageId).toBe(`<sha256:${createHash('sha256').update(raw).digest('hex')}>`);
    expect(parsed.segments.map((s) => [s.location, s.format, s.text.trim()])).toEqual([
      ['subject', 'subject', 'outer'],
      ['body', 'text', 'outer body'],
      ['attachment:roster.csv', 'csv', 'Name,SSN\nJane Roe,536-90-4399'],
      ['attachment:fwd.eml', 'subject', 'inner subject'],
      ['attachment:fwd.eml', 'text', 'inner body'],
      ['attachment:fwd.eml/notes.txt', 'text', 'inner notes'],
    ]);
    expect(parsed.problems).toEqual([
      // sniffed as a PDF (and read as one): it is not a valid PDF, which is said, not skipped
      { code: 'corrupt-attachment', message: 'pdf: cannot be read (invalid or truncated)', location: 'attachment:scan.pdf' },
    ]);
  });

  it('stops at the nesting limit with a problem', async () => {
    let msg = 'Subject: deepest\n\nbottom\n';
    for (let i = 0; i < 4; i++) {
      msg = `Subject: level ${i}\nContent-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="m${i}.eml"\n\n${msg}\n--b${i}--\n`;
    }
    const parsed = await parseMessage(Buffer.from(msg), { maxNestingDepth: 2 });
    expect(parsed.problems.map((p) => p.code)).toEqual(['nesting-too-deep']);
    expect(parsed.segments.some((s) => s.text.includes('bottom'))).toBe(false);
  });

  it('never throws on garbage', async () => {
    for (const raw of [Buffer.alloc(0), Buffer.from('\x00\x01\x02binary'), Buffer.from('Content-Type: multipart/mixed; boundary=x\n\n--x\n')]) {
      const parsed = await parseMessage(raw, opts);
      expect(parsed.messageId).toMatch(/^<sha256:[0-9a-f]{64}>$/);
    }
  });
});

describe('header fields of an unparsed head', () => {
  it('reads folded Message-ID and Date', () => {
    expect(headerFields(Buffer.from('Message-ID:\r\n <abc@x>\r\nDate: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\nbody Message-ID: <no>'))).toEqual({
      messageId: '<abc@x>',
      date: 'Mon, 4 Mar 2024 09:15:00 +0000',
    });
  });
});

describe('error reasons', () => {
  it('masks tokens with digits so a quoted header value cannot leak', () => {
    expect(safeReason(new Error('Invalid header SSN 536-90-4399 here'))).toBe('Invalid header SSN … here');
  });
});

describe('deeply nested HTML (a part that html-to-text cannot walk costs nothing else)', () => {
  const withDeepHtml = (html: string): Buffer =>
    crlf(`Message-ID: <deep@example.org>
Subject: Referral for Jane
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain; charset=utf-8

plain part SSN 536-90-4399
--a
Content-Type: text/html; charset=utf-8

${html}
--a--
--m
Content-Type: text/csv; name="roster.csv"
Content-Disposition: attachment; filename="roster.csv"

Name,MRN
Jane Roe,MRN 7734412
--m--
`);

  it.each([
    ['3,000 nested <font>', '<font>'.repeat(3000) + 'deep text DOB 03/14/1952' + '</font>'.repeat(3000)],
    ['100,000 nested <div>', '<div>'.repeat(100_000) + 'deep text DOB 03/14/1952' + '</div>'.repeat(100_000)],
    ['100,000 unclosed <font/>', '<font/>'.repeat(100_000) + 'deep text DOB 03/14/1952'],
    ['3,000 nested lists', '<ul><li>'.repeat(3000) + 'deep text DOB 03/14/1952' + '</li></ul>'.repeat(3000)],
  ])('%s: Message-ID, subject, text part, attachment and the deep text itself are all read', async (_name, html) => {
    const started = Date.now();
    const parsed = await parseMessage(withDeepHtml(html), opts);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(parsed.messageId).toBe('<deep@example.org>');
    expect(parsed.problems).toEqual([]);
    const texts = parsed.segments.map((s) => [s.location, s.format, s.text.replace(/\r\n/g, '\n').trim()]);
    expect(texts).toContainEqual(['subject', 'subject', 'Referral for Jane']);
    expect(texts).toContainEqual(['body', 'text', 'plain part SSN 536-90-4399']);
    expect(texts).toContainEqual(['body', 'html', 'deep text DOB 03/14/1952']);
    expect(texts).toContainEqual(['attachment:roster.csv', 'csv', 'Name,MRN\nJane Roe,MRN 7734412']);
  });

  it('an attached message with deep HTML keeps its siblings and its own text', async () => {
    const inner = `Subject: inner\nContent-Type: text/html\n\n${'<font>'.repeat(3000)}inner deep text${'</font>'.repeat(3000)}\n`;
    const raw = crlf(`Message-ID: <outer@example.org>\nSubject: outer\nContent-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: text/plain\n\nouter body\n--o\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="fwd.eml"\n\n${inner}\n--o--\n`);
    const parsed = await parseMessage(raw, opts);
    expect(parsed.messageId).toBe('<outer@example.org>');
    expect(parsed.problems).toEqual([]);
    expect(parsed.segments.map((s) => [s.location, s.text.trim()])).toEqual([
      ['subject', 'outer'],
      ['body', 'outer body'],
      ['attachment:fwd.eml', 'inner'],
      ['attachment:fwd.eml', 'inner deep text'],
    ]);
  });
});

describe('HTML deeper than html-to-text can walk', () => {
  it('is detected by depth, not by size: a wide document is converted as usual', () => {
    expect(htmlDepthOver('<p>x</p>'.repeat(10_000), MAX_HTML_DEPTH)).toBe(false);
    expect(htmlDepthOver('<br>'.repeat(10_000), MAX_HTML_DEPTH)).toBe(false);
    expect(htmlDepthOver('<div>'.repeat(MAX_HTML_DEPTH) + '</div>'.repeat(MAX_HTML_DEPTH), MAX_HTML_DEPTH)).toBe(false);
    expect(htmlDepthOver('<div>'.repeat(MAX_HTML_DEPTH + 1), MAX_HTML_DEPTH)).toBe(true);
    expect(htmlDepthOver('<b/>'.repeat(MAX_HTML_DEPTH + 1), MAX_HTML_DEPTH)).toBe(true);
  });

  it('the flat reader keeps every word, table rows as lines, entities decoded, head/style/script dropped', () => {
    const html =
      '<html><head><title>T 123</title><style>p{color:red}</style></head><body><p>Dear&nbsp;team &amp; co</p>' +
      '<table><tr><th>Name</th><th>SSN</th></tr><tr><td>Jane <b>Roe</b></td><td>536<b>-</b>90-4399</td></tr></table>' +
      '<script>var x = 123456789;</script><div>last   line</div></body></html>';
    expect(flatHtmlToText(html)).toBe('Dear\u00a0team & co\n\nName | SSN\nJane Roe | 536-90-4399\n\nlast line');
    // and through htmlToText when deep: the same words, &nbsp; as a space
    const deep = '<div>'.repeat(MAX_HTML_DEPTH + 5) + html + '</div>'.repeat(MAX_HTML_DEPTH + 5);
    expect(htmlToText(deep)).toContain('Dear team & co');
    expect(htmlToText(deep)).toContain('Name | SSN\nJane Roe | 536-90-4399');
    expect(htmlToText(deep)).not.toContain('123456789');
  });
});

describe('multipart/* without a boundary (mailparser reads its body as the space between parts)', () => {
  const message = (contentType: string, body: string): Buffer =>
    crlf(`Message-ID: <nb@example.org>\nSubject: Lab results\nMIME-Version: 1.0\nContent-Type: ${contentType}\n\n${body}`);

  it.each([
    ['no boundary parameter', 'multipart/mixed'],
    ['an empty boundary', 'multipart/mixed; boundary=""'],
    ['a boundary that is not ASCII', 'multipart/alternative; boundary="grenzé"'],
    ['a folded header in capitals', 'MULTIPART/RELATED;\n charset=utf-8'],
  ])('%s: the body is scanned as text, as mail clients show it', async (_name, contentType) => {
    const parsed = await parseMessage(message(contentType, 'Patient SSN 536-90-4399, seen today.\n'), opts);
    expect(parsed.messageId).toBe('<nb@example.org>');
    expect(parsed.segments.map((s) => [s.location, s.format, s.text.trim()])).toEqual([
      ['subject', 'subject', 'Lab results'],
      ['body', 'text', 'Patient SSN 536-90-4399, seen today.'],
    ]);
    expect(parsed.problems).toEqual([]);
  });

  it('a nested part without a boundary is read beside its siblings; parts with boundaries stay parts', async () => {
    const raw = crlf(`Message-ID: <nb2@example.org>
Subject: y
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="o"

--o
Content-Type: text/plain

outer body
--o
Content-Type: multipart/related

inner SSN 536-90-4399
--o
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

attached notes
--o--
`);
    const parsed = await parseMessage(raw, opts);
    expect(parsed.segments.map((s) => [s.location, s.text.replace(/\r\n/g, '\n').trim()])).toEqual([
      ['subject', 'y'],
      ['body', 'outer body\ninner SSN 536-90-4399'],
      ['attachment:notes.txt', 'attached notes'],
    ]);
  });

  it('an attached message whose only body is a boundary-less multipart is read too', async () => {
    const raw = crlf(`Subject: outer\nContent-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="fwd.eml"\n\nSubject: inner\nContent-Type: multipart/mixed\n\ninner SSN 536-90-4399\n\n--o--\n`);
    const parsed = await parseMessage(raw, opts);
    expect(parsed.segments.map((s) => [s.location, s.text.trim()])).toContainEqual(['attachment:fwd.eml', 'inner SSN 536-90-4399']);
  });

  it('the prefilter lets ordinary messages through untouched', () => {
    expect(mayHaveBoundarylessMultipart(crlf('Content-Type: multipart/mixed; boundary="b"\n\n--b\n\nx\n--b--\n'))).toBe(false);
    expect(mayHaveBoundarylessMultipart(crlf('Content-Type: multipart/mixed;\n boundary=b\n\n--b\n\nx\n--b--\n'))).toBe(false);
    expect(mayHaveBoundarylessMultipart(crlf('Content-Type: text/plain\n\nmultipart/mixed\n'))).toBe(false);
    expect(mayHaveBoundarylessMultipart(crlf('Content-Type: multipart/mixed\n\nx\n'))).toBe(true);
    expect(mayHaveBoundarylessMultipart(crlf('content-type :\n multipart/mixed; charset=x\n\nx\n'))).toBe(true);
  });
});
