/**
 * `phi-scan diff RUN_A RUN_B` through the CLI: new and resolved PHI messages per mailbox. The
 * runs it compares are made by scan sessions in this process (the library; what `scan` runs).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { scanInProcess } from '../helpers/session.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;

describe('phi-scan diff', () => {
  it('lists messages newly holding PHI and those scanned clean since', async () => {
    const dir = tempDir();
    const state = tempDir();
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'hello'));
    expect((await scanInProcess({ sources: [`mbox:${file}`] }, { PHI_SCAN_STATE: state })).code).toBe(1);
    // The SSN was removed from <a>; <b> now holds one; <c> is new and clean.
    writeFileSync(file, msg('a', 'nothing here any more') + msg('b', 'SSN: 514-14-8905') + msg('c', 'bye'));
    expect((await scanInProcess({ sources: [`mbox:${file}`] }, { PHI_SCAN_STATE: state })).code).toBe(1);
    const r = await runCli(['diff', '1', '2', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    // New PHI in run 2: exit 1, so `phi-scan diff` can gate a pipeline.
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(jsonLines(r.stdout)).toEqual([
      { type: 'diff', source: `mbox:${file}`, mailbox: 'box', added: 1, resolved: 1 },
      { type: 'added', source: `mbox:${file}`, mailbox: 'box', folder: 'INBOX', messageId: '<b@x>', categories: ['ssn'], maskedSubject: 'b', locations: ['body'] },
      { type: 'resolved', source: `mbox:${file}`, mailbox: 'box', folder: 'INBOX', messageId: '<a@x>', categories: ['ssn'], gone: false, maskedSubject: 'a', locations: ['body'] },
    ]);
    const table = await runCli(['diff', '1', '2'], { env: { PHI_SCAN_STATE: state } });
    expect(table.code).toBe(1);
    expect(table.stdout).toBe('box (mbox:' + file + '): 1 new, 1 resolved\n  + INBOX  <b@x>  "b"  ssn  in body\n  - INBOX  <a@x>  "a"  ssn  in body\n');
    // Reversed order: said on stderr; run 1's <a> is then "new" relative to run 2.
    const reversed = await runCli(['diff', '2', '1', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(reversed.stderr).toMatch(/^phi-scan: warning: run 2 is later than run 1.*did you mean diff 1 2\?/);
    expect(reversed.code).toBe(1);
    // Nothing new between a run and itself: exit 0.
    const same = await runCli(['diff', '2', '2'], { env: { PHI_SCAN_STATE: state } });
    expect(same.code).toBe(0);
    expect(same.stdout).toBe('no change in messages holding PHI between run 2 and run 2\n');
    // The picture as of run 1 still shows <a>.
    const before = await runCli(['report', '--run', '1'], { env: { PHI_SCAN_STATE: state } });
    expect(jsonLines(before.stdout).filter((x) => x.type === 'message').map((x) => x.messageId)).toEqual(['<a@x>']);
    const now = await runCli(['report'], { env: { PHI_SCAN_STATE: state } });
    expect(jsonLines(now.stdout).find((x) => x.type === 'mailbox')).toMatchObject({ messages: 3, messagesWithPhi: 1 });
    const bad = await runCli(['diff', '1', '7'], { env: { PHI_SCAN_STATE: state } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/run 7: no such run/);
  });
});

describe('phi-scan diff: masked subjects and finding locations', () => {
  it('masks an identifier in the subject and names the attachment the PHI is in; no raw value in any output', async () => {
    const dir = tempDir();
    const state = tempDir();
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'hello'));
    expect((await scanInProcess({ sources: [`mbox:${file}`] }, { PHI_SCAN_STATE: state })).code).toBe(0);
    const attached = [
      FROM,
      'Message-ID: <z@x>',
      'Subject: claim for SSN 489-36-8350',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="BB"',
      '',
      '--BB',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--BB',
      'Content-Type: text/plain; name="patient.txt"',
      'Content-Disposition: attachment; filename="patient.txt"',
      '',
      'Member SSN: 514-14-8905',
      '--BB--',
      '',
    ].join('\n');
    writeFileSync(file, msg('a', 'hello') + attached + '\n');
    expect((await scanInProcess({ sources: [`mbox:${file}`] }, { PHI_SCAN_STATE: state })).code).toBe(1);
    const r = await runCli(['diff', '1', '2', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(r.code).toBe(1);
    const added = jsonLines(r.stdout).find((x) => x.type === 'added');
    expect(added).toMatchObject({ messageId: '<z@x>', locations: ['attachment:patient.txt', 'subject'] });
    expect(String(added?.maskedSubject)).toMatch(/^claim for SSN .*8350$/);
    const table = await runCli(['diff', '1', '2'], { env: { PHI_SCAN_STATE: state } });
    for (const out of [r.stdout, r.stderr, table.stdout, table.stderr]) {
      for (const raw of ['489-36-8350', '489368350', '514-14-8905', '514148905']) expect(out).not.toContain(raw);
    }
  });
});
