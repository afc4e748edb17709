/** The IMAP source's pure parts: URIs, accounts files, folder globs and selection, cursors. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScanError } from '../../src/common/errors.js';
import { loadAccountsFile, parseCsv, singleAccount } from '../../src/sources/imap/accounts.js';
import { displayName, globToRegExp, selectFolders, type ListedFolder } from '../../src/sources/imap/folders.js';
import { parseImapUri, redactSpec } from '../../src/sources/imap/uri.js';
import { formatCursor, parseCursor, uidSet } from '../../src/sources/imap.js';
import { tempDir } from '../helpers/cli.js';

describe('imap URIs', () => {
  it.each([
    ['imap://alice@mail.example.org', { scheme: 'imap', host: 'mail.example.org', port: 143, user: 'alice' }],
    ['imaps://alice@mail.example.org', { scheme: 'imaps', host: 'mail.example.org', port: 993, user: 'alice' }],
    ['imaps://carol%40tenant.test@127.0.0.1:1993/Archive/2019', { scheme: 'imaps', host: '127.0.0.1', port: 1993, user: 'carol@tenant.test', folder: 'Archive/2019' }],
    ['imap://alice*scanner@[::1]:1143/INBOX/', { scheme: 'imap', host: '::1', port: 1143, user: 'alice*scanner', folder: 'INBOX' }],
    ['imaps://mail.example.org', { scheme: 'imaps', host: 'mail.example.org', port: 993 }],
  ])('%s', (spec, expected) => {
    expect(parseImapUri(spec)).toEqual(expected);
  });

  it('refuses a password in the URI without echoing it', () => {
    let err: unknown;
    try {
      parseImapUri('imaps://alice:Sup3rSecret@mail.example.org');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScanError);
    expect((err as ScanError).code).toBe('usage');
    expect((err as ScanError).message).not.toContain('Sup3rSecret');
    expect((err as ScanError).message).toMatch(/PHI_SCAN_IMAP_PASSWORD/);
    expect(redactSpec('imap://bob:pw@h/INBOX')).toBe('imap://bob:***@h/INBOX');
  });

  it.each(['imap://alice@host:99999', 'imap://alice@host:abc', 'imap://@host', 'imap:/host', 'imaps://'])('rejects %s', (spec) => {
    expect(() => parseImapUri(spec)).toThrow(ScanError);
  });

  it('maps a Dovecot master login to the mailbox it opens', () => {
    const a = singleAccount('alice*scanner', 'imap://x', { PHI_SCAN_IMAP_PASSWORD: 'pw' });
    expect(a).toEqual({ user: 'alice', login: 'alice*scanner', secret: { kind: 'password', value: 'pw' } });
    expect(singleAccount('bob', 'imap://x', { PHI_SCAN_IMAP_PASSWORD: 'pw', PHI_SCAN_IMAP_ACCESS_TOKEN: 'tok' }).secret).toEqual({ kind: 'token', value: 'tok' });
    expect(() => singleAccount('bob', 'imap://x', {})).toThrow(/PHI_SCAN_IMAP_PASSWORD/);
  });
});

describe('--accounts files', () => {
  const env = { MASTER_PW: 'masterpw', BOB_PW: 'bobpw', PHI_SCAN_IMAP_PASSWORD: 'default-pw' };

  it('reads YAML with defaults: authzid and Dovecot-separator masters, own credentials', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'carol.secret'), 'carolpw\n');
    const file = path.join(dir, 'accounts.yaml');
    writeFileSync(
      file,
      [
        'defaults:',
        '  master: scanner',
        '  passwordEnv: MASTER_PW',
        'accounts:',
        '  - user: alice',
        '  - user: dave',
        '    masterStyle: separator',
        '  - user: bob',
        '    master: null             # logs in as himself',
        '    passwordEnv: BOB_PW',
      ].join('\n'),
    );
    expect(loadAccountsFile(file, env)).toEqual([
      { user: 'alice', login: 'scanner', authzid: 'alice', secret: { kind: 'password', value: 'masterpw' } },
      { user: 'dave', login: 'dave*scanner', secret: { kind: 'password', value: 'masterpw' } },
      { user: 'bob', login: 'bob', secret: { kind: 'password', value: 'bobpw' } },
    ]);
    writeFileSync(file, '- {user: alice, master: 42}\n');
    expect(() => loadAccountsFile(file, env)).toThrow(/accounts\.0\.master/);
    writeFileSync(
      file,
      ['defaults: {master: scanner, passwordEnv: MASTER_PW}', 'accounts:', '  - {user: alice}', '  - {user: dave, masterStyle: separator}'].join('\n'),
    );
    expect(loadAccountsFile(file, env)).toEqual([
      { user: 'alice', login: 'scanner', authzid: 'alice', secret: { kind: 'password', value: 'masterpw' } },
      { user: 'dave', login: 'dave*scanner', secret: { kind: 'password', value: 'masterpw' } },
    ]);
    writeFileSync(file, '- user: carol@tenant.test\n  passwordFile: carol.secret\n- user: erin\n');
    expect(loadAccountsFile(file, env)).toEqual([
      { user: 'carol@tenant.test', login: 'carol@tenant.test', secret: { kind: 'password', value: 'carolpw' } },
      { user: 'erin', login: 'erin', secret: { kind: 'password', value: 'default-pw' } },
    ]);
  });

  it('reads CSV with a header row', () => {
    const file = path.join(tempDir(), 'accounts.csv');
    writeFileSync(file, '# mailboxes to scan\nuser,master,passwordEnv\nalice,scanner,MASTER_PW\n"bob",,BOB_PW\r\n\n');
    expect(loadAccountsFile(file, env)).toEqual([
      { user: 'alice', login: 'scanner', authzid: 'alice', secret: { kind: 'password', value: 'masterpw' } },
      { user: 'bob', login: 'bob', secret: { kind: 'password', value: 'bobpw' } },
    ]);
    expect(parseCsv('a,"b,""c"""\n')).toEqual([['a', 'b,"c"']]);
  });

  it.each([
    ['missing.yaml', null, /cannot read/],
    ['bad.yaml', 'accounts: [', /not valid YAML/],
    ['empty.yaml', 'accounts: []', /no accounts/],
    ['typo.yaml', '- user: alice\n  pasword: x\n', /Unrecognized key/],
    ['two.yaml', '- {user: alice, passwordEnv: A, tokenEnv: B}', /one of passwordEnv/],
    ['unset.yaml', '- {user: alice, passwordEnv: NOT_SET_ANYWHERE}', /NOT_SET_ANYWHERE.*not set/],
    ['twice.csv', 'user\nalice\nalice\n', /listed twice/],
    ['nofile.csv', 'user,passwordFile\nalice,does-not-exist\n', /cannot read/],
  ])('%s is a usage/config error (exit 2) that names the problem', (name, content, message) => {
    const file = path.join(tempDir(), name);
    if (content !== null) writeFileSync(file, content);
    let err: unknown;
    try {
      loadAccountsFile(file, env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScanError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('masterpw');
  });
});

describe('folders', () => {
  const f = (p: string, flags: string[] = [], specialUse?: string, delimiter = '/'): ListedFolder => ({
    path: p,
    delimiter,
    flags: new Set(flags),
    ...(specialUse ? { specialUse } : {}),
  });

  it('globs: * within a level, ** across, INBOX case-insensitive', () => {
    expect(globToRegExp('Archive/*').test('Archive/2019')).toBe(true);
    expect(globToRegExp('Archive/*').test('Archive/2019/Q1')).toBe(false);
    expect(globToRegExp('Archive/**').test('Archive/2019/Q1')).toBe(true);
    expect(globToRegExp('inbox').test('INBOX')).toBe(true);
    expect(globToRegExp('[Gmail]/Sp?m').test('[Gmail]/Spam')).toBe(true);
    expect(displayName(f('INBOX.Sent.2019', [], undefined, '.'))).toBe('INBOX/Sent/2019');
    expect(displayName(f('inbox'))).toBe('INBOX');
  });

  it('skips \\Noselect, applies --folders / --exclude-folders', () => {
    const listed = [f('INBOX'), f('Patients', ['\\Noselect', '\\HasChildren']), f('Patients/2024'), f('Trash', [], '\\Trash'), f('Junk', [], '\\Junk')];
    const names = (filter: Parameters<typeof selectFolders>[1]): string[] => selectFolders(listed, filter).map((x) => x.name);
    expect(names({})).toEqual(['INBOX', 'Patients/2024', 'Trash', 'Junk']);
    expect(names({ exclude: ['Trash,Junk'] })).toEqual(['INBOX', 'Patients/2024']);
    expect(names({ include: ['Patients/*', 'inbox'] })).toEqual(['INBOX', 'Patients/2024']);
  });

  it('with a \\All folder (Gmail), scans All, Junk and Trash only, so no message counts twice', () => {
    const listed = [
      f('INBOX'),
      f('[Gmail]', ['\\Noselect']),
      f('[Gmail]/All Mail', ['\\All'], '\\All'),
      f('[Gmail]/Sent Mail', ['\\Sent'], '\\Sent'),
      f('[Gmail]/Spam', ['\\Junk'], '\\Junk'),
      f('[Gmail]/Trash', ['\\Trash'], '\\Trash'),
      f('Patients'),
    ];
    expect(selectFolders(listed, {}).map((x) => x.name)).toEqual(['[Gmail]/All Mail', '[Gmail]/Spam', '[Gmail]/Trash']);
    expect(selectFolders(listed, { exclude: ['[Gmail]/Trash'] }).map((x) => x.name)).toEqual(['[Gmail]/All Mail', '[Gmail]/Spam']);
    // Explicit --folders are taken as asked.
    expect(selectFolders(listed, { include: ['INBOX', 'Patients'] }).map((x) => x.name)).toEqual(['INBOX', 'Patients']);
  });
});

describe('cursors and UID sets', () => {
  it('round-trips UIDVALIDITY:UID[:MODSEQ], rejects anything else', () => {
    expect(parseCursor('1795481356:42:17')).toEqual({ uidValidity: '1795481356', uid: 42, modseq: '17' });
    expect(formatCursor({ uidValidity: '7', uid: 3 })).toBe('7:3');
    expect(parseCursor('12345')).toBeUndefined();
    expect(parseCursor(undefined)).toBeUndefined();
  });
  it('packs UIDs into ranges', () => {
    expect(uidSet([1, 2, 3, 5, 7, 8, 10])).toBe('1:3,5,7:8,10');
    expect(uidSet([4])).toBe('4');
  });
});

describe('read-ahead queue', () => {
  it('bounds queued bytes, always takes one item, hands out the rest before an error', async () => {
    const { ReadAhead } = await import('../../src/sources/imap/read-ahead.js');
    const q = new ReadAhead<number>(10);
    expect(await q.push(1, 25)).toBe(true); // larger than the cap, but the queue was empty
    let second = false;
    const pushing = q.push(2, 5).then((ok) => (second = ok));
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBe(false); // waits: 25 + 5 > 10
    expect(await q.pop()).toBe(1);
    await pushing;
    expect(second).toBe(true);
    q.fail(new Error('connection lost'));
    expect(await q.pop()).toBe(2);
    await expect(q.pop()).rejects.toThrow('connection lost');
    const closed = new ReadAhead<number>(1);
    await closed.push(1, 1);
    const waiting = closed.push(2, 1);
    closed.close();
    expect(await waiting).toBe(false);
  });
});
