/**
 * Unreadable items and colliding mailbox names (hardening items 3 and 4). Tests run as root in
 * CI, where permissions do not stop a read: the unreadable items are real filesystem conditions
 * that stop root too (a link to nowhere, a link loop, a FIFO, a folder named like a message).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { baseNameWithoutExtension } from '../../src/sources/files.js';
import { distinctMailboxNames } from '../../src/sources/names.js';
import type { SourceUnit } from '../../src/model/message.js';

/** The identifier planted in file and folder names: it must never appear in any output. */
const SSN = '489-36-8350';
const RAW = [SSN, SSN.replace(/-/g, ''), '8350 '];

const eml = (id: string, body = 'hello'): string => `Message-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n`;
const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const mbox = (id: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\nhello\n\n`;

function put(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
function fifo(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  execFileSync('mkfifo', [file]);
}

async function scan(args: string[], state = tempDir()) {
  const r = await runCli(['scan', ...args], { env: { PHI_SCAN_STATE: state } });
  for (const raw of RAW) {
    expect(r.stdout).not.toContain(raw);
    expect(r.stderr).not.toContain(raw);
  }
  const records = jsonLines(r.stdout);
  return {
    code: r.code,
    stderr: r.stderr,
    ids: records.filter((x) => x.type === 'message').map((x) => x.messageId),
    errors: records.filter((x) => x.type === 'error'),
    mailboxes: records.filter((x) => x.type === 'mailbox').map((x) => [x.mailbox, x.messages, x.errors]),
  };
}

describe('unreadable items: each one an error record, everything else scanned, exit 3', () => {
  it('eml: a link to nowhere, a FIFO and an unreadable subfolder cost only themselves', async () => {
    const root = path.join(tempDir(), 'exports');
    put(path.join(root, 'a.eml'), eml('a', `SSN: ${SSN}`));
    symlinkSync(path.join(root, 'gone.eml'), path.join(root, `b Jane Roe ${SSN}.eml`)); // dangling
    fifo(path.join(root, 'c.eml')); // opening it would wait forever
    put(path.join(root, 'd.eml'), eml('d'));
    put(path.join(root, 'sub', 'e.eml'), eml('e'));
    symlinkSync(`Patient ${SSN}`, path.join(root, `Patient ${SSN}`)); // a link loop among the folders
    put(path.join(root, 'zz', 'f.eml'), eml('f'));
    const r = await scan([`eml:${root}`]);
    expect(r.code).toBe(3);
    expect(r.ids).toEqual(['<a@x>']);
    expect(r.mailboxes).toEqual([['exports', 4, 3]]);
    expect(r.errors.map((e) => [e.folder, e.code])).toEqual([
      ['Patient •••-••-8350', 'read-failed'],
      ['INBOX', 'read-failed'],
      ['INBOX', 'read-failed'],
    ]);
    expect(r.errors[0]?.error).toMatch(/symbolic link loop/);
    expect(r.errors[1]?.error).toMatch(/^b •••• ••• •••-••-8350\.eml: message file broken symbolic link/);
    expect(r.errors[2]?.error).toMatch(/^c\.eml: message file not a regular file/);
  });

  it('maildir: bad entries in cur/ and an unreadable folder are reported; the other folders are read', async () => {
    const root = path.join(tempDir(), 'alice');
    put(path.join(root, 'cur', '1000.A:2,S'), eml('m1'));
    symlinkSync('/nonexistent/x', path.join(root, 'cur', `1001.B ${SSN}:2,S`));
    mkdirSync(path.join(root, 'cur', '1002.C:2,S')); // a folder where a message should be
    put(path.join(root, 'new', '1003.D'), eml('m3'));
    put(path.join(root, '.Sent', 'cur', '1004.E:2,S'), eml('m4'));
    symlinkSync(path.join(root, '.Loop'), path.join(root, '.Loop')); // a folder that cannot be listed
    const r = await scan([`maildir:${root}`]);
    expect(r.code).toBe(3);
    expect(r.mailboxes).toEqual([['alice', 3, 3]]);
    expect(r.errors.map((e) => [e.folder, e.code])).toEqual([
      ['Loop', 'read-failed'],
      ['INBOX', 'read-failed'],
      ['INBOX', 'read-failed'],
    ]);
    expect(r.errors[1]?.error).toMatch(/^cur\/1001\.B •••-••-8350:2,S: message file broken symbolic link/);
    expect(r.errors[2]?.error).toMatch(/^cur\/1002\.C:2,S: message file is a folder/);
  });

  it('mbox:DIR: an unreadable file or folder is an error record, not a silent skip', async () => {
    const root = tempDir();
    put(path.join(root, 'alice.mbox'), mbox('a1'));
    symlinkSync('/nonexistent/x', path.join(root, `bob ${SSN}.mbox`));
    fifo(path.join(root, 'carol.mbox'));
    symlinkSync(path.join(root, 'loop'), path.join(root, 'loop'));
    put(path.join(root, 'notes.txt'), 'not mail');
    const r = await scan([`mbox:${root}`]);
    expect(r.code).toBe(3);
    expect(r.ids).toEqual([]);
    expect(r.mailboxes).toContainEqual(['alice', 1, 0]);
    expect(r.errors.map((e) => [e.mailbox, e.code])).toEqual([
      ['bob •••-••-8350', 'read-failed'],
      ['carol', 'read-failed'],
      ['loop', 'read-failed'],
    ]);
  });

  it('--since-last: the folder goes on past an unreadable file, which is reported each run until it can be read, then scanned once', { timeout: 300_000 }, async () => {
    const root = path.join(tempDir(), 'box');
    const state = tempDir();
    put(path.join(root, 'a.eml'), eml('a'));
    const bad = path.join(root, 'b.eml');
    symlinkSync(path.join(root, 'gone'), bad);
    put(path.join(root, 'c.eml'), eml('c', `SSN: ${SSN}`));
    let r = await scan([`eml:${root}`, '--since-last'], state);
    expect([r.code, r.ids, r.mailboxes, r.errors.length]).toEqual([3, ['<c@x>'], [['box', 2, 1]], 1]);
    r = await scan([`eml:${root}`, '--since-last'], state);
    expect([r.code, r.ids, r.mailboxes, r.errors.length]).toEqual([3, [], [['box', 0, 1]], 1]);
    put(path.join(root, 'd.eml'), eml('d'));
    r = await scan([`eml:${root}`, '--since-last'], state);
    expect([r.code, r.mailboxes, r.errors.length]).toEqual([3, [['box', 1, 1]], 1]);
    rmSync(bad);
    put(bad, eml('b', `SSN: ${SSN}`)); // readable now
    r = await scan([`eml:${root}`, '--since-last'], state);
    expect([r.code, r.ids, r.mailboxes, r.errors.length]).toEqual([1, ['<b@x>'], [['box', 1, 0]], 0]);
    r = await scan([`eml:${root}`, '--since-last'], state);
    expect([r.code, r.ids, r.mailboxes, r.errors.length]).toEqual([0, [], [['box', 0, 0]], 0]);
  });

  it.skipIf(process.getuid?.() === 0)('without root: a file and a folder without read permission (chmod 000)', async () => {
    const root = path.join(tempDir(), 'perm');
    put(path.join(root, 'a.eml'), eml('a'));
    put(path.join(root, 'b.eml'), eml('b'));
    put(path.join(root, 'c.eml'), eml('c'));
    put(path.join(root, 'locked', 'd.eml'), eml('d'));
    execFileSync('chmod', ['000', path.join(root, 'b.eml'), path.join(root, 'locked')]);
    const r = await scan([`eml:${root}`]);
    execFileSync('chmod', ['755', path.join(root, 'locked')]);
    expect(r.code).toBe(3);
    expect(r.mailboxes).toEqual([['perm', 2, 2]]);
    expect(r.errors.map((e) => e.error)).toEqual([expect.stringMatching(/^folder permission denied/), expect.stringMatching(/^b\.eml: message file permission denied/)]);
  });
});

describe('mailbox names', () => {
  it.each([
    ['exports/john.smith', 'john.smith'],
    ['exports/j.doe.2019', 'j.doe.2019'],
    ['a/2019.mbox', '2019'],
    ['a/Outlook.PST', 'Outlook'],
    ['a/archive.ost', 'archive'],
    ['a/one.eml', 'one'],
    ['a/.mbox', '.mbox'],
  ])('%s → %s (only archive extensions are stripped)', (p, name) => {
    expect(baseNameWithoutExtension(p)).toBe(name);
  });

  const unit = (source: string, mailbox: string, origin?: string): { unit: SourceUnit } => ({
    unit: { id: `${source}:${origin ?? mailbox}`, source, mailbox, folder: 'INBOX', ref: origin ?? '', ...(origin ? { origin } : {}) },
  });

  it('two archives named alike get the parent folders that tell them apart; one archive of many folders keeps its name', () => {
    const renamed = distinctMailboxNames([
      unit('mbox:/x/a/2019.mbox', '2019', '/x/a/2019.mbox'),
      unit('mbox:/x/b/2019.mbox', '2019', '/x/b/2019.mbox'),
      unit('maildir:/m/alice', 'alice', '/m/alice'),
      unit('maildir:/m/alice', 'alice', '/m/alice'),
      unit('imap://bob@host', 'bob'),
    ]).map((w) => w.unit.mailbox);
    expect(renamed).toEqual(['a/2019', 'b/2019', 'alice', 'alice', 'bob']);
  });

  it('deeper parents when the first ones are alike; numbers when only the extension differs; --mailbox names stay', () => {
    expect(
      distinctMailboxNames([unit('mbox:/p/alice/mail/Inbox', 'Inbox', '/p/alice/mail/Inbox'), unit('mbox:/p/bob/mail/Inbox', 'Inbox', '/p/bob/mail/Inbox')]).map((w) => w.unit.mailbox),
    ).toEqual(['alice/mail/Inbox', 'bob/mail/Inbox']);
    expect(distinctMailboxNames([unit('mbox:/a', '2019', '/a/2019'), unit('mbox:/a', '2019', '/a/2019.mbox')]).map((w) => w.unit.mailbox)).toEqual(['2019 (1)', '2019 (2)']);
    expect(distinctMailboxNames([unit('mbox:/a/x.mbox', 'alice'), unit('maildir:/b/y', 'alice')]).map((w) => w.unit.mailbox)).toEqual(['alice', 'alice']);
  });

  it('scan: eml:exports/john.smith and eml:exports/john.doe are two mailboxes; two 2019.mbox files are told apart by their folders', { timeout: 180_000 }, async () => {
    const root = tempDir();
    put(path.join(root, 'exports', 'john.smith', 'a.eml'), eml('js'));
    put(path.join(root, 'exports', 'john.doe', 'a.eml'), eml('jd'));
    let r = await scan([`eml:${path.join(root, 'exports', 'john.smith')}`, `eml:${path.join(root, 'exports', 'john.doe')}`]);
    expect(r.mailboxes).toEqual([
      ['john.smith', 1, 0],
      ['john.doe', 1, 0],
    ]);
    put(path.join(root, 'a', '2019.mbox'), mbox('a'));
    put(path.join(root, 'b', '2019.mbox'), mbox('b'));
    r = await scan([`mbox:${path.join(root, 'a', '2019.mbox')}`, `mbox:${path.join(root, 'b', '2019.mbox')}`]);
    expect(r.mailboxes).toEqual([
      ['a/2019', 1, 0],
      ['b/2019', 1, 0],
    ]);
    // in one folder of Thunderbird profiles: alice's and bob's Inbox
    put(path.join(root, 'profiles', 'alice', 'Inbox'), mbox('ai'));
    put(path.join(root, 'profiles', 'bob', 'Inbox'), mbox('bi'));
    r = await scan([`mbox:${path.join(root, 'profiles')}`]);
    expect(r.mailboxes).toEqual([
      ['alice/Inbox', 1, 0],
      ['bob/Inbox', 1, 0],
    ]);
  });
});

describe('pst:DIR', () => {
  it('an unreadable subfolder or PST file is an error record, not exit 2 or a silent skip', { timeout: 120_000 }, async () => {
    const root = tempDir();
    symlinkSync(path.join(root, 'loop'), path.join(root, 'loop'));
    symlinkSync('/nonexistent/x.pst', path.join(root, `bob ${SSN}.pst`));
    const r = await scan([`pst:${root}`]);
    expect(r.code).toBe(3);
    expect(r.errors.map((e) => [e.mailbox, e.code])).toEqual([
      ['bob •••-••-8350', 'read-failed'],
      ['loop', 'read-failed'],
    ]);
  });
});
