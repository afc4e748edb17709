import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maildirSource, parseMaildirName } from '../../src/sources/maildir.js';
import { emlSource } from '../../src/sources/eml.js';
import { createSource } from '../../src/sources/index.js';
import type { Source } from '../../src/sources/types.js';
import { ScanError } from '../../src/common/errors.js';
import { isCursorAdvance } from '../../src/model/message.js';

const noReport = (): void => {};

const opts = { maxMessageBytes: 1024 * 1024 };

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'phi-src-'));
}
function put(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
async function collect(source: Source): Promise<{ folder: string; mailbox: string; subjects: string[] }[]> {
  const out = [];
  for (const unit of await source.units(noReport)) {
    const subjects: string[] = [];
    for await (const m of source.messages(unit)) if (!isCursorAdvance(m)) subjects.push(/Subject: (.*)/.exec(m.bytes.toString())?.[1] ?? '');
    out.push({ folder: unit.folder, mailbox: unit.mailbox, subjects });
  }
  return out;
}

describe('Maildir names', () => {
  it.each([
    ['1700000000.M1P2.host:2,RS', '1700000000.M1P2.host', ['R', 'S']],
    ['1700000000.M1P2.host:2,', '1700000000.M1P2.host', []],
    ['1700000000.M1P2.host', '1700000000.M1P2.host', []],
    ['1700000000.M1P2.host!2,FS', '1700000000.M1P2.host', ['F', 'S']],
    ['1700000000.M1P2.host:2,SRa', '1700000000.M1P2.host', ['R', 'S']],
  ])('%s', (name, unique, flags) => {
    expect(parseMaildirName(name)).toEqual({ unique, flags });
  });
});

describe('maildir source', () => {
  it('reads cur/ and new/, skips tmp/, and maps Maildir++ folders', async () => {
    const root = path.join(tmp(), 'alice');
    put(path.join(root, 'cur', '1700000002.M2.h:2,S'), 'Subject: second\n\nb\n');
    put(path.join(root, 'new', '1700000001.M1.h'), 'Subject: first\n\na\n');
    put(path.join(root, 'tmp', '1700000003.M3.h'), 'Subject: in delivery\n\nc\n');
    put(path.join(root, '.Sent', 'cur', '1700000004.M4.h:2,S'), 'Subject: sent\n\nd\n');
    put(path.join(root, '.Archive.2019', 'cur', '1700000005.M5.h:2,RS'), 'Subject: archived\n\ne\n');
    mkdirSync(path.join(root, '.Empty', 'new'), { recursive: true });
    expect(await collect(maildirSource(`maildir:${root}`, root, opts))).toEqual([
      { folder: 'INBOX', mailbox: 'alice', subjects: ['first', 'second'] },
      { folder: 'Archive/2019', mailbox: 'alice', subjects: ['archived'] },
      { folder: 'Empty', mailbox: 'alice', subjects: [] },
      { folder: 'Sent', mailbox: 'alice', subjects: ['sent'] },
    ]);
  });

  it('resumes after a checkpoint by unique name, whatever the flags are now', async () => {
    const root = path.join(tmp(), 'bob');
    put(path.join(root, 'cur', '1.A:2,S'), 'Subject: one\n\n');
    put(path.join(root, 'cur', '2.B:2,RS'), 'Subject: two\n\n');
    put(path.join(root, 'new', '3.C'), 'Subject: three\n\n');
    const source = maildirSource('maildir:x', root, opts);
    const [unit] = await source.units(noReport);
    const seen: string[] = [];
    for await (const m of source.messages(unit!, { unitId: unit!.id, cursor: '2.B' })) if (!isCursorAdvance(m)) seen.push(m.bytes.toString());
    expect(seen).toEqual(['Subject: three\n\n']);
  });

  it('uses --mailbox when given and rejects a folder that is not a Maildir', async () => {
    const root = path.join(tmp(), 'carol');
    put(path.join(root, 'cur', '1.A:2,S'), 'Subject: one\n\n');
    expect((await maildirSource('maildir:x', root, { ...opts, mailbox: 'Carol C' }).units(noReport))[0]?.mailbox).toBe('Carol C');
    const empty = tmp();
    await expect(maildirSource('maildir:x', empty, opts).units(noReport)).rejects.toThrow(/not a Maildir/);
  });
});

describe('eml source', () => {
  it('reads a folder recursively, one folder per directory, INBOX at the root', async () => {
    const root = path.join(tmp(), 'export');
    put(path.join(root, 'b.eml'), 'Subject: b\n\n');
    put(path.join(root, 'a.EML'), 'Subject: a\n\n');
    put(path.join(root, 'notes.txt'), 'not mail');
    put(path.join(root, 'Sent', '2024', 'c.eml'), 'Subject: c\n\n');
    expect(await collect(emlSource('eml:x', root, opts))).toEqual([
      { folder: 'INBOX', mailbox: 'export', subjects: ['a', 'b'] },
      { folder: 'Sent/2024', mailbox: 'export', subjects: ['c'] },
    ]);
  });

  it('reads a single file', async () => {
    const file = path.join(tmp(), 'one message.eml');
    put(file, 'Subject: solo\n\n');
    expect(await collect(emlSource('eml:x', file, opts))).toEqual([{ folder: 'INBOX', mailbox: 'one message', subjects: ['solo'] }]);
  });
});

describe('source registry', () => {
  it.each([
    ['archive.mbox', /scheme:path/],
    ['ftp:x', /unknown source scheme/],
    ['mbox:', /missing path/],
  ])('rejects %s', (spec, message) => {
    expect(() => createSource(spec, opts)).toThrow(message);
    expect(() => createSource(spec, opts)).toThrow(ScanError);
  });
  it('names the path when it does not exist', async () => {
    await expect(createSource('mbox:/no/such/file.mbox', opts).units(noReport)).rejects.toThrow('/no/such/file.mbox: no such file or directory');
  });
});
