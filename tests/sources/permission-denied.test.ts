/**
 * Permission denied, as a non-root user meets it. Tests run as root (CI), where chmod 000 stops
 * nothing: node:fs/promises is wrapped so that paths holding `DENIED` fail with EACCES, as the
 * kernel would fail them. Everything else is the real filesystem.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const denied = (p: unknown): void => {
    if (String(p).includes('DENIED')) throw Object.assign(new Error(`EACCES: permission denied, open '${String(p)}'`), { code: 'EACCES' });
  };
  return {
    ...real,
    readdir: (async (p: string, o?: unknown) => (denied(p), real.readdir(p, o as never))) as typeof real.readdir,
    open: (async (p: string, ...rest: unknown[]) => (denied(p), real.open(p, ...(rest as [never])))) as typeof real.open,
  };
});

const { emlSource } = await import('../../src/sources/eml.js');
const { maildirSource } = await import('../../src/sources/maildir.js');
const { mboxSource } = await import('../../src/sources/mbox.js');
const { isCursorAdvance } = await import('../../src/model/message.js');
type UnitProblem = import('../../src/sources/types.js').UnitProblem;
type Source = import('../../src/sources/types.js').Source;

function put(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
const opts = { maxMessageBytes: 1024 * 1024 };

async function run(source: Source): Promise<{ problems: UnitProblem[]; read: string[]; errors: string[] }> {
  const problems: UnitProblem[] = [];
  const read: string[] = [];
  const errors: string[] = [];
  for (const unit of await source.units((p) => problems.push(p))) {
    for await (const item of source.messages(unit)) {
      if (isCursorAdvance(item)) errors.push(`${unit.folder}: ${item.item ?? ''}: ${item.problem?.message ?? ''}`);
      else read.push(/Subject: (.*)/.exec(item.bytes.toString())?.[1] ?? '');
    }
  }
  return { problems, read, errors };
}

describe('permission denied (as for a user other than root)', () => {
  it('eml: an unreadable subfolder is a unit problem, an unreadable file an error item; the rest is read', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phi-perm-'));
    put(path.join(root, 'a.eml'), 'Subject: a\n\nx\n');
    put(path.join(root, 'b DENIED.eml'), 'Subject: b\n\nx\n');
    put(path.join(root, 'c.eml'), 'Subject: c\n\nx\n');
    put(path.join(root, 'DENIED folder', 'd.eml'), 'Subject: d\n\nx\n');
    put(path.join(root, 'later', 'e.eml'), 'Subject: e\n\nx\n');
    const r = await run(emlSource(`eml:${root}`, root, opts));
    expect(r.problems.map((p) => [p.folder, p.problem.code, p.problem.message])).toEqual([
      ['DENIED folder', 'read-failed', 'folder permission denied (EACCES); the messages in it are not scanned'],
    ]);
    expect(r.read).toEqual(['a', 'c', 'e']);
    expect(r.errors).toEqual(['INBOX: b DENIED.eml: message file permission denied (EACCES); not scanned']);
  });

  it('maildir: an unreadable folder is a unit problem; the other folders are read', async () => {
    const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'phi-perm-')), 'alice');
    put(path.join(root, 'cur', '1.A:2,S'), 'Subject: one\n\nx\n');
    put(path.join(root, '.DENIED', 'cur', '2.B:2,S'), 'Subject: two\n\nx\n');
    put(path.join(root, '.Sent', 'cur', '3.C:2,S'), 'Subject: three\n\nx\n');
    put(path.join(root, 'cur', '4.DENIED:2,S'), 'Subject: four\n\nx\n');
    const r = await run(maildirSource(`maildir:${root}`, root, opts));
    expect(r.problems.map((p) => [p.folder, p.problem.message])).toEqual([['DENIED', 'folder permission denied (EACCES); its messages are not scanned']]);
    expect(r.read).toEqual(['one', 'three']);
    expect(r.errors).toEqual(['INBOX: cur/4.DENIED:2,S: message file permission denied (EACCES); not scanned']);
  });

  it('mbox:DIR: an mbox file that cannot be opened is a unit problem (was: skipped without a record)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phi-perm-'));
    const From = 'From a@b Mon Mar  4 09:15:00 2024\n';
    put(path.join(root, 'alice.mbox'), `${From}Subject: a\n\nx\n`);
    put(path.join(root, 'bob DENIED.mbox'), `${From}Subject: b\n\nx\n`);
    put(path.join(root, 'DENIED', 'carol.mbox'), `${From}Subject: c\n\nx\n`);
    const r = await run(mboxSource(`mbox:${root}`, root, opts));
    expect(r.problems.map((p) => [p.mailbox, p.problem.message])).toEqual([
      ['DENIED', 'folder permission denied (EACCES); the mbox files in it are not scanned'],
      ['bob DENIED', 'file permission denied (EACCES); it is not scanned'],
    ]);
    expect(r.read).toEqual(['a']);
  });
});
