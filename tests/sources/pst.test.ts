/**
 * `pst:` source: Outlook PST/OST exports read through readpst. The PST files are Microsoft's public
 * PST SDK samples vendored in fixtures/pst (provenance and licence in fixtures/pst/SOURCE.md;
 * tests copy them into temp folders).
 * Synthetic PHI cannot be planted in a PST (nothing here writes PSTs), so text extraction is
 * proven with a probe rule matching words known to be in the fixtures' subjects and bodies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCursorAdvance, type UnitItem } from '../../src/model/message.js';
import { pstSource } from '../../src/sources/pst.js';
import { listItems, stableBoundaries, wrapItem } from '../../src/sources/pst/items.js';
import { readPstHeader } from '../../src/sources/pst/header.js';
import { expandPst } from '../../src/sources/pst/readpst.js';
import { parseMessage } from '../../src/parse/mime.js';
import { AnyRecord } from '../helpers/records.js';
import { CLI, ROOT, jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';

const FIXTURES = path.join(ROOT, 'fixtures', 'pst');
const SAMPLE1 = path.join(FIXTURES, 'pstsdk-sample1.pst');
const SAMPLE2 = path.join(FIXTURES, 'pstsdk-sample2.pst'); // ANSI
const SUBMESSAGE = path.join(FIXTURES, 'pstsdk-submessage.pst');

const hasFixtures = existsSync(SAMPLE1) && existsSync(SAMPLE2) && existsSync(SUBMESSAGE);
const hasReadpst = spawnSync('readpst', ['-V'], { stdio: 'ignore' }).status === 0;
const ready = requireOrSkip('fixtures/pst', hasFixtures) && requireOrSkip('readpst (apt-get install pst-utils)', hasReadpst);

/** A rule that fires on words known to be in the fixtures: proves their text reaches the engine. */
const PROBE_RULE = `id: pst-probe
category: health-condition
detector: term
description: Test probe for words in the PST fixtures.
dictionary: [puppy, body of an embedded message, body of the regular message, sample message, embedded message attached]
dictionaryScore: 0.9
examples:
  match: [our puppy]
  noMatch: [nothing here]
`;

type Rec = Record<string, unknown>;

/**
 * For tests about files, folders and state rather than attachments: the samples' photo
 * (leah_thumper.jpg) costs 3-4 CPU-seconds of OCR per scan, and the Unicode and ANSI sample
 * tests read it (with OCR) already.
 */
const NO_OCR = '--no-ocr';

/** Every stdout line must be a contract record: no library or readpst noise on stdout. */
function records(stdout: string): Rec[] {
  const recs = jsonLines(stdout);
  for (const r of recs) AnyRecord.parse(r);
  return recs;
}

function noExpansionsLeft(tmp: string): void {
  expect(readdirSync(tmp).filter((n) => n.startsWith('phi-scan-pst-'))).toEqual([]);
}

describe.runIf(ready)('pst: source', () => {
  let rules: string;
  let tmp: string | undefined;
  beforeAll(() => {
    rules = tempDir('phi-pst-rules-');
    writeFileSync(path.join(rules, 'probe.yaml'), PROBE_RULE);
  });
  afterAll(() => {
    if (tmp) noExpansionsLeft(tmp);
  });

  const scan = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    tmp = tmp ?? tempDir('phi-pst-tmp-');
    const r = await runCli(['scan', '--format', 'jsonl', ...args], { env: { TMPDIR: tmp, ...env } });
    noExpansionsLeft(tmp);
    return r;
  };

  it('reads the Unicode sample: folder, message, subject and body text, the JPEG as an attachment', async () => {
    const r = await scan([`pst:${SAMPLE1}`, '--rules', rules]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // the JPEG cannot be read (no OCR): an error record of severity skipped, not a failure
    const recs = records(r.stdout);
    const mailbox = recs.find((x) => x.type === 'mailbox');
    expect(mailbox).toMatchObject({ mailbox: 'pstsdk-sample1', messages: 1, messagesWithPhi: 1, errors: 0, skipped: 1 });
    const message = recs.find((x) => x.type === 'message');
    expect(message).toMatchObject({
      folder: 'Sample1',
      messageId: '<B2FDDB8BE384C94794441DB4A7F3D8B804AE624B@TK5EX14MBXC114.redmond.corp.microsoft.com>',
      date: '2010-03-15T17:12:05.000Z',
    });
    const findings = recs.filter((x) => x.type === 'finding').map((x) => [x.location, x.rule]);
    expect(findings).toEqual([
      ['subject', 'pst-probe'],
      ['body', 'pst-probe'],
    ]);
    const errors = recs.filter((x) => x.type === 'error');
    // An image without a text layer: reported, never skipped (its code belongs to the attachment readers).
    expect(errors).toEqual([expect.objectContaining({ folder: 'Sample1', location: 'attachment:leah_thumper.jpg' })]);
  });

  it('reads the ANSI (Outlook 97-2002) sample', async () => {
    const recs = records((await scan([`pst:${SAMPLE2}`, '--rules', rules])).stdout);
    expect(recs.find((x) => x.type === 'mailbox')).toMatchObject({ mailbox: 'pstsdk-sample2', messages: 1, messagesWithPhi: 1 });
    expect(recs.filter((x) => x.type === 'finding').map((x) => [x.folder, x.location])).toEqual([
      ['Sample2', 'subject'],
      ['Sample2', 'body'],
    ]);
    expect(recs.filter((x) => x.type === 'error').map((x) => x.location)).toEqual(['attachment:leah_thumper.jpg']);
  });

  it('scans the embedded message (attachMethod 5) as an attachment of its outer message', async () => {
    const r = await scan([`pst:${SUBMESSAGE}`, '--rules', rules]);
    expect(r.code).toBe(1);
    const recs = records(r.stdout);
    expect(recs.find((x) => x.type === 'mailbox')).toMatchObject({ mailbox: 'pstsdk-submessage', messages: 1, messagesWithPhi: 1, errors: 0 });
    const findings = recs.filter((x) => x.type === 'finding');
    expect(findings.map((x) => [x.folder, x.location])).toEqual([
      ['submessage', 'subject'],
      ['submessage', 'body'],
      ['submessage', 'attachment:message-1.eml'],
    ]);
    expect(findings.every((x) => x.messageId === '<B2FDDB8BE384C94794441DB4A7F3D8B804AF79BC@TK5EX14MBXC114.redmond.corp.microsoft.com>')).toBe(true);
  });

  it('pst:DIR: every .pst/.ost below it, one mailbox per file named after it; --mailbox keeps files apart by folder', async () => {
    const dir = tempDir('phi-pst-dir-');
    mkdirSync(path.join(dir, '2019'), { recursive: true });
    mkdirSync(path.join(dir, 'deep', 'er'), { recursive: true });
    copyFileSync(SAMPLE1, path.join(dir, '2019', 'alice.pst'));
    copyFileSync(SUBMESSAGE, path.join(dir, 'deep', 'er', 'bob.OST'));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a pst');
    const recs = records((await scan([`pst:${dir}`, NO_OCR])).stdout);
    expect(recs.filter((x) => x.type === 'mailbox').map((x) => [x.mailbox, x.messages])).toEqual([
      ['alice', 1],
      ['bob', 1],
    ]);
    const one = records((await scan([`pst:${dir}`, '--mailbox', 'audit', '--rules', rules, NO_OCR])).stdout);
    expect(one.filter((x) => x.type === 'mailbox').map((x) => [x.mailbox, x.messages])).toEqual([['audit', 2]]);
    expect(one.filter((x) => x.type === 'message').map((x) => x.folder)).toEqual(['2019/alice/Sample1', 'deep/er/bob/submessage']);
  });

  it('a truncated or damaged file is an error record; the other files are still scanned', async () => {
    const dir = tempDir('phi-pst-bad-');
    const whole = readFileSync(SAMPLE1);
    copyFileSync(SUBMESSAGE, path.join(dir, 'good.pst'));
    writeFileSync(path.join(dir, 'half.pst'), whole.subarray(0, whole.length / 2));
    writeFileSync(path.join(dir, 'stub.pst'), whole.subarray(0, 2000));
    writeFileSync(path.join(dir, 'zeros.pst'), Buffer.alloc(4096));
    const r = await scan([`pst:${dir}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    const recs = records(r.stdout);
    expect(recs.filter((x) => x.type === 'mailbox').map((x) => [x.mailbox, x.messages, x.errors])).toEqual([
      ['good', 1, 0],
      ['half', 0, 1],
      ['stub', 0, 2],
      ['zeros', 0, 1],
    ]);
    const errors = recs.filter((x) => x.type === 'error');
    expect(errors.every((e) => e.code === 'pst-corrupt' && e.folder === undefined && !String(e.error).includes(dir))).toBe(true);
    expect(errors.map((e) => [e.mailbox, String(e.error).split(' ').slice(0, 3).join(' ')])).toEqual([
      ['half', 'file is truncated'],
      ['stub', 'file is truncated'],
      ['stub', 'readpst could not'],
      ['zeros', 'not a PST/OST'],
    ]);
  });

  it('an identifier typed into a PST file name never reaches a report or the state store', async () => {
    const dir = tempDir('phi-pst-leak-');
    const state = tempDir('phi-pst-leak-state-');
    mkdirSync(path.join(dir, 'SSN 489-36-8350'));
    copyFileSync(SAMPLE1, path.join(dir, 'SSN 489-36-8350', 'SSN 489-36-8350.pst'));
    writeFileSync(path.join(dir, 'SSN 489-36-8350', 'MRN 4410-2267 SSN 514-14-8905.pst'), Buffer.alloc(4096));
    const runs = [
      // The bundled rules: names are masked by what the loaded rules recognise.
      await scan([`pst:${dir}`, NO_OCR], { PHI_SCAN_STATE: state }),
      await scan([`pst:${dir}`, '--mailbox', 'x', '--format', 'csv', NO_OCR], { PHI_SCAN_STATE: state }),
      await runCli(['report', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } }),
    ];
    expect(runs[0]?.stdout).toContain('"type":"mailbox"');
    for (const r of runs) {
      for (const raw of ['489-36-8350', '489368350', '514-14-8905', '514148905']) {
        expect(r.stdout + r.stderr).not.toContain(raw);
      }
    }
  });

  it('--since-last: a second run scans nothing; a changed file is scanned again', async () => {
    const dir = tempDir('phi-pst-inc-');
    const state = tempDir('phi-pst-state-');
    copyFileSync(SAMPLE1, path.join(dir, 'a.pst'));
    copyFileSync(SUBMESSAGE, path.join(dir, 'b.pst'));
    const run = async (): Promise<[unknown, unknown][]> =>
      records((await scan([`pst:${dir}`, '--since-last', NO_OCR], { PHI_SCAN_STATE: state })).stdout)
        .filter((x) => x.type === 'mailbox')
        .map((x) => [x.mailbox, x.messages]);
    expect(await run()).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(await run()).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(dir, 'b.pst'), later, later); // a new export under the same name
    expect(await run()).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
  });

  it('a single file that is not a PST, or no PST in a folder, is bad usage (exit 2)', async () => {
    const dir = tempDir('phi-pst-usage-');
    writeFileSync(path.join(dir, 'x.pst'), 'hello');
    const notPst = await scan([`pst:${path.join(dir, 'x.pst')}`]);
    expect(notPst.code).toBe(2);
    expect(notPst.stdout).toBe('');
    expect(notPst.stderr).toMatch(/not a PST\/OST file/);
    const empty = tempDir('phi-pst-empty-');
    const none = await scan([`pst:${empty}`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no \.pst or \.ost files/);
  });

  it('Ctrl-C (SIGINT) part way through a folder of exports leaves no expansion behind', async () => {
    const dir = tempDir('phi-pst-int-');
    for (let i = 0; i < 40; i++) copyFileSync(SUBMESSAGE, path.join(dir, `x${String(i).padStart(2, '0')}.pst`));
    const tmpInt = tempDir('phi-pst-int-tmp-');
    const child = spawn(process.execPath, [CLI, 'scan', '--format', 'jsonl', `pst:${dir}`], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: 'test-fingerprint-key-0123456789abcdef', PHI_SCAN_STATE: tempDir('phi-state-'), TMPDIR: tmpInt },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    // Interrupted as soon as the first expansion exists, i.e. while readpst or a scan is running.
    let sawExpansion = false;
    const poll = setInterval(() => {
      if (!sawExpansion && readdirSync(tmpInt).some((n) => n.startsWith('phi-scan-pst-'))) {
        sawExpansion = true;
        child.kill('SIGINT');
      }
    }, 2);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(poll);
    const mailboxes = records(stdout).filter((x) => x.type === 'mailbox');
    const scanned = mailboxes.reduce((n, m) => n + Number(m.messages), 0);
    expect(scanned).toBeLessThan(40); // stopped part way
    expect(code).toBe(3);
    expect(sawExpansion).toBe(true);
    noExpansionsLeft(tmpInt);
  });

  it('without readpst: one clear line naming pst-utils, exit 2', async () => {
    const r = await scan([`pst:${SAMPLE1}`], { PHI_SCAN_READPST: '/nonexistent/readpst' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/apt-get install pst-utils/);
  });
});

describe.runIf(ready)('pst: source, in process', () => {
  const collect = async (items: AsyncIterable<UnitItem>, stopAfter = Infinity): Promise<UnitItem[]> => {
    const out: UnitItem[] = [];
    for await (const item of items) {
      out.push(item);
      if (out.length >= stopAfter) break;
    }
    return out;
  };

  it('cursors resume after the last item done, skip a completed file without expanding it, and restart on a changed file', async () => {
    const source = pstSource(`pst:${SAMPLE1}`, SAMPLE1, { maxMessageBytes: 1 << 20 });
    const [unit] = await source.units(() => {});
    if (!unit) throw new Error('no unit');
    expect(unit).toMatchObject({ mailbox: 'pstsdk-sample1', folder: '', ref: SAMPLE1 });
    const first = await collect(source.messages(unit));
    const identity = (await readPstHeader(SAMPLE1)).identity;
    expect(first.map((i) => (isCursorAdvance(i) ? i.cursor : `${i.unit.folder} ${i.cursor}`))).toEqual([
      `Sample1 pst1:${identity}:1`,
      `pst1:${identity}:done`,
    ]);
    const msg = first[0];
    if (!msg || isCursorAdvance(msg)) throw new Error('no message');
    expect(msg.locator).toBe(`${SAMPLE1}#sample1/Sample1/1.eml`);
    expect(await collect(source.messages(unit, { unitId: unit.id, cursor: `pst1:${identity}:done` }))).toEqual([]);
    expect((await collect(source.messages(unit, { unitId: unit.id, cursor: `pst1:${identity}:1` }))).map((i) => isCursorAdvance(i))).toEqual([true]);
    expect(await collect(source.messages(unit, { unitId: unit.id, cursor: 'pst1:other-identity:done' }))).toHaveLength(2);
    // The same message reads to the same bytes on every run (readpst's boundaries are random).
    const again = (await collect(source.messages(unit)))[0];
    expect(again && !isCursorAdvance(again) && again.bytes.equals(msg.bytes)).toBe(true);
    await source.close?.();
  });

  it('a readpst that hangs is stopped at its time limit', async () => {
    const bin = path.join(tempDir('phi-pst-bin-'), 'readpst');
    writeFileSync(bin, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const out = tempDir('phi-pst-out-');
    const started = Date.now();
    await expect(expandPst(bin, SAMPLE1, out, { timeLimitMs: 300 })).rejects.toThrow(/did not finish within/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('removes its expansion when a unit is stopped part way', async () => {
    const tmp = tempDir('phi-pst-stop-');
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const source = pstSource(`pst:${SUBMESSAGE}`, SUBMESSAGE, { maxMessageBytes: 1 << 20 });
      const [unit] = await source.units(() => {});
      if (!unit) throw new Error('no unit');
      expect(await collect(source.messages(unit), 1)).toHaveLength(1);
      noExpansionsLeft(tmp);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });
});

describe('pst: readpst output handling', () => {
  it('lists items folder by folder in numeric order, below the store root', async () => {
    const dir = tempDir('phi-pst-items-');
    const put = (rel: string): void => {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), 'x');
    };
    for (const rel of ['Top/Inbox/10.eml', 'Top/Inbox/2.eml', 'Top/Inbox/Projects/1.eml', 'Top/Calendar/1.ics', 'Top/Contacts/1.vcf', 'Top/3.eml', 'Top/Inbox/1.eml'])
      put(rel);
    const items = await listItems(dir);
    expect(items.map((i) => [i.folder, path.basename(i.file), i.kind])).toEqual([
      ['Calendar', '1.ics', 'appointment'],
      ['Contacts', '1.vcf', 'contact'],
      ['Inbox', '1.eml', 'message'],
      ['Inbox', '2.eml', 'message'],
      ['Inbox', '10.eml', 'message'],
      ['Inbox/Projects', '1.eml', 'message'],
      ['Top', '3.eml', 'message'],
    ]);
  });

  it('numbers readpst boundaries in order of appearance, so bytes are the same on every run', () => {
    const a = Buffer.from('boundary="--boundary-LibPST-iamunique-99_-_-"\n----boundary-LibPST-iamunique-99_-_-\nx\n--boundary-LibPST-iamunique-7_-_-');
    const b = Buffer.from('boundary="--boundary-LibPST-iamunique-5_-_-"\n----boundary-LibPST-iamunique-5_-_-\nx\n--boundary-LibPST-iamunique-123_-_-');
    expect(stableBoundaries(a).equals(stableBoundaries(b))).toBe(true);
    expect(stableBoundaries(a).toString()).toContain('iamunique-1_-_-');
    const plain = Buffer.from('no boundary here');
    expect(stableBoundaries(plain)).toBe(plain);
  });

  it('wraps appointments and contacts as a calendar/vCard attachment, without export-time stamps', () => {
    const ics = (stamp: string): Buffer => Buffer.from(`BEGIN:VEVENT\r\nDTSTAMP:${stamp}\r\nSUMMARY:Follow-up\r\nEND:VEVENT\r\n`);
    const one = wrapItem('appointment', ics('20260101T000000Z'));
    expect(one.equals(wrapItem('appointment', ics('20270202T000000Z')))).toBe(true);
    expect(one.toString()).toMatch(/^MIME-Version: 1.0\r\nContent-Type: text\/calendar; charset=utf-8\r\nContent-Disposition: attachment; filename="appointment.ics"/);
    expect(one.toString()).not.toContain('DTSTAMP');
    expect(wrapItem('contact', Buffer.from('BEGIN:VCARD\r\nEND:VCARD\r\n')).toString()).toContain('Content-Type: text/vcard');
  });

  it('a wrapped appointment or contact reaches the parser as a calendar / vCard attachment', async () => {
    const ics = wrapItem('appointment', Buffer.from('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Oxygen follow-up\r\nDESCRIPTION:Patient visit notes\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'));
    const parsed = await parseMessage(ics, { maxNestingDepth: 3 });
    expect(parsed.problems).toEqual([]);
    expect(parsed.segments.map((g) => [g.location, g.format])).toEqual([['attachment:appointment.ics', 'calendar']]);
    expect(parsed.segments[0]?.text).toContain('Patient visit notes');
    const vcf = await parseMessage(wrapItem('contact', Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Test Person\r\nNOTE:card note\r\nEND:VCARD\r\n')), { maxNestingDepth: 3 });
    expect(vcf.segments.map((g) => [g.location, g.format])).toEqual([['attachment:contact.vcf', 'vcard']]);
    const other = await parseMessage(wrapItem('other', Buffer.from([0, 1, 2])), { maxNestingDepth: 3 });
    expect(other.problems.map((p) => p.location)).toEqual(['attachment:item']); // reported, never skipped
  });
});
