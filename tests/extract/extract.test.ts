/** Each format's reader, the sniffer and the limits, on documents built by the fixture generator. */
import { describe, expect, it } from 'vitest';
import { docx, odf, ole, outlookMsg, pdf, pptx, tnef, xlsx, zipFiles } from '../../fixtures/attachments.js';
import { DEFAULT_LIMITS, extractAttachment, messageExtraction, type ExtractLimits } from '../../src/extract/index.js';
import type { Declared } from '../../src/extract/context.js';
import { decompressRtf, rtfToText } from '../../src/extract/rtf.js';
import { sniff } from '../../src/extract/sniff.js';
import { inflateBounded } from '../../src/extract/zip.js';
import type { Segment } from '../../src/model/segment.js';
import type { Problem } from '../../src/model/problem.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function extract(bytes: Uint8Array, declared: Declared, limits: Partial<ExtractLimits> = {}, maxDepth = 5): Promise<{ segments: Segment[]; problems: Problem[] }> {
  const segments: Segment[] = [];
  const problems: Problem[] = [];
  const extraction = messageExtraction({ ...DEFAULT_LIMITS, ...limits }, maxDepth, segments, problems, async (b, ctx) => ctx.text('text', Buffer.from(b).toString('utf8')));
  await extractAttachment(bytes, extraction.attachment(`attachment:${declared.name}`, 0), declared);
  return { segments, problems };
}
const summary = (segments: Segment[]): [string, string | undefined, string][] => segments.map((s) => [s.location, s.part, s.format]);

describe('sniffing: the bytes decide, then the declared type, then the extension', () => {
  const zipped = zipFiles([{ name: 'a.txt', data: enc('x') }]);
  it.each([
    ['PDF named .txt, declared text/plain', pdf([['hello']]), { name: 'scan.txt', contentType: 'text/plain' }, 'pdf'],
    ['ZIP named .dat', zipped, { name: 'x.dat', contentType: 'application/octet-stream' }, 'zip'],
    ['OLE file', ole([{ name: 'WordDocument', data: enc('x') }]), { name: 'a.bin' }, 'ole'],
    ['TNEF', tnef('b', { name: 'a.txt', shortName: 'A.TXT', data: enc('x') }), { name: 'winmail.dat' }, 'tnef'],
    ['RTF named .doc', enc('{\\rtf1 hello}'), { name: 'a.doc', contentType: 'application/msword' }, 'rtf'],
    ['PNG declared octet-stream', Buffer.from('89504e470d0a1a0a0000', 'hex'), { name: 'a', contentType: 'application/octet-stream' }, 'image'],
    ['HTML without a name', enc('<!DOCTYPE html><html><body>x</body></html>'), { name: 'part-2' }, 'text'],
    ['a text file that mentions %PDF- after its start', enc('Notes: the header is %PDF-1.4\n'), { name: 'n.txt', contentType: 'text/plain' }, 'text'],
    ['CSV named .csv, declared octet-stream', enc('a,b\n1,2\n'), { name: 'r.csv', contentType: 'application/octet-stream' }, 'text'],
    ['random bytes', Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256), { name: 'blob.bin' }, 'binary'],
  ] as const)('%s', (_label, bytes, declared, kind) => {
    expect(sniff(bytes, declared).kind).toBe(kind);
  });

  it('keeps the declared text format (csv) and finds HTML by its start', () => {
    expect(sniff(enc('a,b\n'), { name: 'r.csv', contentType: 'application/octet-stream' })).toMatchObject({ format: 'csv' });
    expect(sniff(enc('<html><body>x</body></html>'), { name: 'part-2' })).toMatchObject({ format: 'html' });
  });

  it('reads an XLSX sent as export.dat / octet-stream, and a PDF named scan.txt', async () => {
    const sheet = await extract(xlsx([{ name: 'S', rows: [['SSN'], ['1']] }]), { name: 'export.dat', contentType: 'application/octet-stream' });
    expect(summary(sheet.segments)).toEqual([['attachment:export.dat', 'sheet S', 'tsv']]);
    const page = await extract(pdf([['Patient SSN']]), { name: 'scan.txt', contentType: 'text/plain' });
    expect(summary(page.segments)).toEqual([['attachment:scan.txt', 'page 1', 'text']]);
  });
});

describe('formats', () => {
  it('PDF: one part per page, lines kept', async () => {
    const r = await extract(pdf([['first page'], ['SSN: 123', 'second line']]), { name: 'a.pdf' });
    expect(r.problems).toEqual([]);
    expect(r.segments.map((s) => [s.part, s.text.trim()])).toEqual([
      ['page 1', 'first page'],
      ['page 2', 'SSN: 123\nsecond line'],
    ]);
  });

  it('XLSX: every sheet in order, tab-separated rows under their header, date cells as dates, gaps kept', async () => {
    const book = xlsx([
      { name: 'Cover', rows: [['Roster']] },
      { name: 'Patients', rows: [['Name', 'SSN', 'DOB'], ['Ann', 123456789, { date: 17_635 }], ['Bo', '', { date: 1 }]] },
    ]);
    const r = await extract(book, { name: 'r.xlsx' });
    expect(r.segments.map((s) => [s.part, s.format, s.text])).toEqual([
      ['sheet Cover', 'tsv', 'Roster'],
      ['sheet Patients', 'tsv', 'Name\tSSN\tDOB\nAnn\t123456789\t04/12/1948\nBo\t\t01/01/1900'],
    ]);
  });

  it('DOCX: paragraphs and table cells', async () => {
    const r = await extract(docx(['Dear Dr. Vale,'], [['SSN', '123']]), { name: 'l.docx' });
    expect(r.segments).toHaveLength(1);
    expect(r.segments[0]?.text).toMatch(/Dear Dr\. Vale,[\s\S]*SSN[\s\S]*123/);
  });

  it('PPTX: one part per slide', async () => {
    const r = await extract(pptx([['Title'], ['MBI: X', 'line two']]), { name: 'p.pptx' });
    expect(r.segments.map((s) => [s.part, s.text.trim()])).toEqual([
      ['slide 1', 'Title'],
      ['slide 2', 'MBI: X\nline two'],
    ]);
  });

  it('ODT paragraphs; ODS sheets as tab-separated rows (repeated empty cells not materialised)', async () => {
    const odt = await extract(odf('text', '<text:p>Line one</text:p><text:p>SSN<text:s/>123</text:p>'), { name: 'a.odt' });
    expect(odt.segments.map((s) => s.text.trim())).toEqual(['Line one\nSSN 123']);
    const ods = await extract(
      odf('spreadsheet', '<table:table table:name="Calls"><table:table-row><table:table-cell><text:p>SSN</text:p></table:table-cell><table:table-cell table:number-columns-repeated="2"><text:p>x</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16000"/></table:table-row></table:table>'),
      { name: 'a.ods' },
    );
    expect(ods.segments.map((s) => [s.part, s.format, s.text])).toEqual([['sheet Calls', 'tsv', 'SSN\tx\tx\n']]);
  });

  it('RTF: control words dropped, hex escapes in the code page, \\uN, skipped destinations', () => {
    const text = rtfToText("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}{\\*\\generator Secret 1.0;}caf\\'e9 \\u8212? ok\\par next\\tab cell\\par}");
    expect(text).toBe('café — ok\nnext\tcell\n');
  });

  it('compressed RTF (LZFu, MS-OXRTFCP): dictionary references and the end marker', () => {
    // '{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}' as compressed by a reference implementation (xrtf)
    const compressed = Buffer.from('1a0000001c0000004c5a4675e2d44b514100042057585a590d6e7d010eb0'.replace('57585a59', '5758595a'), 'hex');
    expect(Buffer.from(decompressRtf(compressed, 1_000_000)).toString('latin1')).toBe('{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}');
    expect(() => decompressRtf(compressed.subarray(0, 10), 1_000_000)).toThrow(/truncated/);
  });

  it('TNEF: body at the winmail.dat location, attachments by their long names', async () => {
    const r = await extract(tnef('Body text', { name: 'long name.txt', shortName: 'LONGNA~1.TXT', data: enc('inside') }), { name: 'winmail.dat' });
    expect(r.segments.map((s) => [s.location, s.text])).toEqual([
      ['attachment:winmail.dat', 'Body text'],
      ['attachment:winmail.dat/long name.txt', 'inside'],
    ]);
  });

  it('Outlook .msg: subject, body, attachments', async () => {
    const r = await extract(outlookMsg('Subj', 'Body', { name: 'n.txt', data: enc('note') }), { name: 'm.msg' });
    expect(r.segments.map((s) => [s.location, s.format, s.text])).toEqual([
      ['attachment:m.msg', 'subject', 'Subj'],
      ['attachment:m.msg', 'text', 'Body'],
      ['attachment:m.msg/n.txt', 'text', 'note'],
    ]);
  });

  it('Outlook .msg: an embedded message (attach method 5) is opened one level deeper', async () => {
    const u = (t: string): Buffer => Buffer.from(t, 'utf16le');
    const inner = [{ name: '__substg1.0_0037001F', data: u('Inner subject') }, { name: '__substg1.0_1000001F', data: u('Inner body') }];
    const outer = ole([
      { name: '__substg1.0_1000001F', data: u('Outer body') },
      { name: '__attach_version1.0_#00000000', children: [{ name: '__substg1.0_3001001F', data: u('Fwd') }, { name: '__substg1.0_3701000D', children: inner }] },
    ]);
    const r = await extract(outer, { name: 'o.msg' });
    expect(r.segments.map((s) => [s.location, s.text])).toEqual([
      ['attachment:o.msg', 'Outer body'],
      ['attachment:o.msg/Fwd.msg', 'Inner subject'],
      ['attachment:o.msg/Fwd.msg', 'Inner body'],
    ]);
    expect((await extract(outer, { name: 'o.msg' }, {}, 1)).problems).toEqual([expect.objectContaining({ code: 'nesting-too-deep', location: 'attachment:o.msg/Fwd.msg' })]);
  });

  it('ZIP: nested archives, names joined with /', async () => {
    const inner = zipFiles([{ name: 'c.txt', data: enc('deep') }]);
    const r = await extract(zipFiles([{ name: 'dir/a.txt', data: enc('top') }, { name: 'b.zip', data: inner }]), { name: 'o.zip' });
    expect(r.segments.map((s) => [s.location, s.text])).toEqual([
      ['attachment:o.zip/dir/a.txt', 'top'],
      ['attachment:o.zip/b.zip/c.txt', 'deep'],
    ]);
  });
});

describe('what cannot be read is reported, with its type', () => {
  it.each([
    ['password-protected Office file', ole([{ name: 'EncryptedPackage', data: enc('x') }]), 'x.docx', 'encrypted', /^office document: password-protected/],
    ['legacy Excel', ole([{ name: 'Workbook', data: enc('x') }]), 'x.xls', 'unsupported-attachment', /^legacy Excel \.xls/],
    ['truncated PDF', pdf([['abc']]).subarray(0, 100), 'x.pdf', 'corrupt-attachment', /^pdf: /],
    ['encrypted PDF', pdf([['abc']], { userPassword: 'pw' }), 'x.pdf', 'encrypted', /^pdf: encrypted, no text extracted$/],
    ['image-only PDF', pdf([], { image: true }), 'x.pdf', 'no-text', /^pdf: every page is an image without text/],
    ['truncated ZIP', zipFiles([{ name: 'a.txt', data: enc('abc') }]).subarray(0, 40), 'x.zip', 'corrupt-attachment', /^zip: /],
    ['truncated TNEF', tnef('body', { name: 'a.txt', shortName: 'A.TXT', data: enc('x'.repeat(100)) }).subarray(0, 120), 'winmail.dat', 'corrupt-attachment', /^tnef: /],
    ['corrupt .msg', Buffer.concat([ole([{ name: '__substg1.0_0037001F', data: enc('s') }]).subarray(0, 600)]), 'x.msg', 'corrupt-attachment', /^msg: /],
  ] as const)('%s', async (_label, bytes, name, code, message) => {
    const r = await extract(bytes, { name });
    expect(r.problems.map((p) => p.code)).toContain(code);
    expect(r.problems.find((p) => p.code === code)?.message).toMatch(message);
  });
});

describe('limits', () => {
  const zeros = new Uint8Array(8 * 1024 * 1024);

  it('a zip bomb is refused from its central directory, before anything is inflated', async () => {
    const r = await extract(zipFiles([{ name: 'z.bin', data: zeros }]), { name: 'b.zip' });
    expect(r.problems).toEqual([{ code: 'attachment-limit', message: 'zip: compression ratio over 100:1 (zip bomb?); not read', location: 'attachment:b.zip' }]);
  });

  it('an entry that lies about its size stops inflating at the declared size', async () => {
    expect(() => inflateBounded(zipFiles([{ name: 'z', data: zeros }]).subarray(30 + 1, -(46 + 1 + 22)), 1000)).toThrow(/past its declared size/);
    const r = await extract(zipFiles([{ name: 'z.txt', data: zeros, declaredSize: 100 }]), { name: 'l.zip' });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'attachment-limit', location: 'attachment:l.zip/z.txt' })]);
    expect(r.segments).toEqual([]);
  });

  it('total inflated bytes per message, entry count, attachment size', async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: enc('x'.repeat(1000)) }));
    expect((await extract(zipFiles(files), { name: 'a.zip' }, { maxInflatedBytes: 2500 })).problems).toEqual([expect.objectContaining({ code: 'attachment-limit', message: expect.stringMatching(/5000 bytes uncompressed, over the 2500-byte limit/) })]);
    expect((await extract(zipFiles(files), { name: 'a.zip' }, { maxArchiveEntries: 3 })).problems).toEqual([expect.objectContaining({ code: 'attachment-limit', message: expect.stringMatching(/5 entries, over the 3-entry limit/) })]);
    expect((await extract(enc('x'.repeat(100)), { name: 'a.txt' }, { maxAttachmentBytes: 10 })).problems).toEqual([expect.objectContaining({ code: 'attachment-limit' })]);
  });

  it('an archive of many encrypted entries: the first 20 listed, the rest counted in one record', async () => {
    const files = Array.from({ length: 50 }, (_, i) => ({ name: `s${i}.csv`, data: enc('xxxxxxxxxxxx'), encrypted: true }));
    const r = await extract(zipFiles(files), { name: 'e.zip' });
    expect(r.problems).toHaveLength(21);
    expect(r.problems.at(-1)).toEqual({ code: 'encrypted', message: 'zip: 30 more entries not read (encrypted), not listed one by one', location: 'attachment:e.zip' });
  });

  it('nesting depth: archives inside archives stop at --max-depth', async () => {
    const level3 = zipFiles([{ name: 'c.txt', data: enc('deep') }]);
    const level2 = zipFiles([{ name: 'b.zip', data: level3 }]);
    const r = await extract(zipFiles([{ name: 'a.zip', data: level2 }]), { name: 'o.zip' }, {}, 2);
    expect(r.segments).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'nesting-too-deep', location: 'attachment:o.zip/a.zip/b.zip' })]);
  });

  it('pages, text and time', async () => {
    const pages = await extract(pdf([['one'], ['two'], ['three']]), { name: 'a.pdf' }, { maxPages: 2 });
    expect(pages.segments.map((s) => s.part)).toEqual(['page 1', 'page 2']);
    expect(pages.problems).toEqual([expect.objectContaining({ code: 'attachment-limit', message: 'pdf: 3 pages, only the first 2 read (page limit)' })]);
    const text = await extract(enc('x'.repeat(100)), { name: 'a.txt' }, { maxTextChars: 10 });
    expect(text.segments[0]?.text).toHaveLength(10);
    expect(text.problems).toEqual([expect.objectContaining({ code: 'attachment-limit' })]);
    const time = await extract(zipFiles([{ name: 'a.txt', data: enc('x') }]), { name: 'a.zip' }, { maxAttachmentMillis: -1 });
    expect(time.problems).toEqual([expect.objectContaining({ code: 'attachment-limit', message: expect.stringMatching(/^zip: time limit/) })]);
  });
});
