/** `phi-scan diff RUN_A RUN_B` through the CLI: new and resolved PHI messages per mailbox. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;

describe('phi-scan diff', () => {
  it('lists messages newly holding PHI and those scanned clean since', async () => {
    const dir = tempDir();
    const state = tempDir();
    const file = path.join(dir, 'box.mbox');
    writeFileSync(file, msg('a', 'SSN: 489-36-8350') + msg('b', 'hello'));
    expect((await runCli(['scan', `mbox:${file}`], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    // The SSN was removed from <a>; <b> now holds one; <c> is new and clean.
    writeFileSync(file, msg('a', 'nothing here any more') + msg('b', 'SSN: 514-14-8905') + msg('c', 'bye'));
    expect((await runCli(['scan', `mbox:${file}`], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    const r = await runCli(['diff', '1', '2', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([
      { type: 'diff', source: `mbox:${file}`, mailbox: 'box', added: 1, resolved: 1 },
      { type: 'added', source: `mbox:${file}`, mailbox: 'box', folder: 'INBOX', messageId: '<b@x>', categories: ['ssn'] },
      { type: 'resolved', source: `mbox:${file}`, mailbox: 'box', folder: 'INBOX', messageId: '<a@x>', categories: ['ssn'] },
    ]);
    const table = await runCli(['diff', '1', '2'], { env: { PHI_SCAN_STATE: state } });
    expect(table.stdout).toBe('box (mbox:' + file + '): 1 new, 1 resolved\n  + INBOX  <b@x>  ssn\n  - INBOX  <a@x>  ssn\n');
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
