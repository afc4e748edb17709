/**
 * `--since-last` (the setting `sinceLast`): each folder resumes after its checkpoint in the state
 * folder. Scans run as scan sessions in this process (the library; what `scan` runs).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, tempDir } from '../helpers/cli.js';
import { scanInProcess } from '../helpers/session.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;

async function scan(source: string, state: string, sinceLast: boolean): Promise<{ messages: unknown; ids: unknown[] }> {
  const r = await scanInProcess({ sources: [source], ...(sinceLast ? { sinceLast: true } : {}) }, { PHI_SCAN_STATE: state });
  expect(r.stderr).toBe('');
  const records = jsonLines(r.stdout);
  return {
    messages: records.find((x) => x.type === 'mailbox')?.messages,
    ids: records.filter((x) => x.type === 'message').map((x) => x.messageId),
  };
}

describe('--since-last', () => {
  it('mbox: scans only appended messages, nothing when nothing is new, everything after a rewrite', async () => {
    const dir = tempDir();
    const state = tempDir();
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'hello'));
    expect(await scan(`mbox:${file}`, state, true)).toEqual({ messages: 2, ids: ['<a@x>'] });
    expect(await scan(`mbox:${file}`, state, true)).toEqual({ messages: 0, ids: [] });
    appendFileSync(file, msg('c', 'SSN: 514-14-8905') + msg('d', 'bye'));
    expect(await scan(`mbox:${file}`, state, true)).toEqual({ messages: 2, ids: ['<c@x>'] });
    // Without --since-last everything is scanned again (and the checkpoint stays at the end).
    expect(await scan(`mbox:${file}`, state, false)).toEqual({ messages: 4, ids: ['<a@x>', '<c@x>'] });
    expect(await scan(`mbox:${file}`, state, true)).toEqual({ messages: 0, ids: [] });
    // Rewritten (compacted) so the checkpoint no longer points at a message: start over.
    writeFileSync(file, msg('e', 'SSN: 690-05-5315') + msg('a', 'SSN: 489-36-8350 with more text to move offsets'));
    expect(await scan(`mbox:${file}`, state, true)).toEqual({ messages: 2, ids: ['<e@x>', '<a@x>'] });
  });

  it('maildir: new deliveries only, per folder', async () => {
    const root = path.join(tempDir(), 'alice');
    const state = tempDir();
    for (const d of ['cur', 'new', '.Sent/cur']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'cur', '1000.A:2,S'), 'Message-ID: <m1@x>\nSubject: 1\n\nSSN: 489-36-8350\n');
    writeFileSync(path.join(root, '.Sent', 'cur', '1001.B:2,S'), 'Message-ID: <m2@x>\nSubject: 2\n\nhi\n');
    expect(await scan(`maildir:${root}`, state, true)).toEqual({ messages: 2, ids: ['<m1@x>'] });
    writeFileSync(path.join(root, 'new', '1002.C'), 'Message-ID: <m3@x>\nSubject: 3\n\nSSN: 514-14-8905\n');
    expect(await scan(`maildir:${root}`, state, true)).toEqual({ messages: 1, ids: ['<m3@x>'] });
  });
});
