/**
 * An mbox over 4 GB (sparse, so it costs no disk): offsets past 2^32 stay exact, an oversize
 * message keeps memory bounded, and a checkpoint past 4 GB resumes without re-reading.
 */
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

describe('mbox over 4 GB', () => {
  it('reads the message after the 4 GB mark and resumes there', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.mbox');
    writeFileSync(file, 'From a@b Mon Jan  1 00:00:00 2001\nMessage-ID: <first@x>\nSubject: first\n\n');
    truncateSync(file, 4_400_000_000); // a 4.4 GB body of zero bytes, never written to disk
    appendFileSync(file, '\n\nFrom a@b Mon Jan  1 00:00:00 2001\nMessage-ID: <second@x>\nSubject: after 4 GB\n\nSSN: 489-36-8350\n');
    const state = tempDir();
    const first = await runCli(['scan', `mbox:${file}`], { env: { PHI_SCAN_STATE: state } });
    expect(first.code).toBe(3);
    const records = jsonLines(first.stdout);
    expect(records.map((r) => [r.type, r.messageId ?? null, r.code ?? null])).toEqual([
      ['error', '<first@x>', 'oversize'],
      ['finding', '<second@x>', null],
      ['message', '<second@x>', null],
      ['mailbox', null, null],
      ['run', null, null],
    ]);
    expect(records[0]?.error).toContain('4399999968 bytes');
    const again = await runCli(['scan', `mbox:${file}`, '--since-last'], { env: { PHI_SCAN_STATE: state } });
    expect(jsonLines(again.stdout)).toEqual([expect.objectContaining({ type: 'mailbox', messages: 0 }), expect.objectContaining({ type: 'run', messages: 0 })]);
  });
});
