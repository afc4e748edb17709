import { describe, expect, it, vi } from 'vitest';

// An HTML converter that fails on one marker: stands in for any bug or limit of a converter
// that a real input may hit. The rest of the message must not pay for it.
vi.mock('../../src/parse/html.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/parse/html.js')>();
  return {
    ...real,
    htmlToText: (html: string): string => {
      if (html.includes('BREAK-THE-CONVERTER')) throw new Error('converter failed at node 4711234');
      return real.htmlToText(html);
    },
  };
});

const { parseMessage } = await import('../../src/parse/mime.js');

describe('a part that cannot be converted costs only that part', () => {
  it('HTML body fails: subject, text part, attachment and Message-ID stay; one parse-failed problem at the body', async () => {
    const raw = Buffer.from(
      `Message-ID: <iso@example.org>\r\nSubject: Referral\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nplain part\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>BREAK-THE-CONVERTER</p>\r\n--a--\r\n--m\r\nContent-Type: text/plain; name="notes.txt"\r\nContent-Disposition: attachment; filename="notes.txt"\r\n\r\nattached notes\r\n--m--\r\n`,
    );
    const parsed = await parseMessage(raw, { maxNestingDepth: 5 });
    expect(parsed.messageId).toBe('<iso@example.org>');
    expect(parsed.segments.map((s) => [s.location, s.text.trim()])).toEqual([
      ['subject', 'Referral'],
      ['body', 'plain part'],
      ['attachment:notes.txt', 'attached notes'],
    ]);
    // the reason is masked like every parser reason (no digits run through)
    expect(parsed.problems).toEqual([{ code: 'parse-failed', message: 'HTML body could not be converted to text: converter failed at node …', location: 'body' }]);
  });

  it('an attached message whose HTML fails: the outer message and the attached subject stay', async () => {
    const inner = 'Subject: inner\r\nContent-Type: text/html\r\n\r\n<p>BREAK-THE-CONVERTER</p>\r\n';
    const raw = Buffer.from(
      `Message-ID: <outer@example.org>\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nouter body\r\n--o\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="fwd.eml"\r\n\r\n${inner}\r\n--o--\r\n`,
    );
    const parsed = await parseMessage(raw, { maxNestingDepth: 5 });
    expect(parsed.messageId).toBe('<outer@example.org>');
    expect(parsed.segments.map((s) => [s.location, s.text.trim()])).toEqual([
      ['subject', 'outer'],
      ['body', 'outer body'],
      ['attachment:fwd.eml', 'inner'],
    ]);
    expect(parsed.problems.map((p) => [p.code, p.location])).toEqual([['parse-failed', 'attachment:fwd.eml']]);
  });
});
