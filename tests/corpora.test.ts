/**
 * Real-world mail from ../common/corpora (optional, never copied into the repository; each test
 * skips loudly without it, so a fresh clone passes): thermometers, not targets. mime-torture: ~270 malformed and odd messages the scanner must finish on, counting every
 * one. enron-sample: business mail without planted PHI, for the false-positive rate.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENRON_MBOX, TORTURE_MBOX, jsonLines, optionalCorpus, runCli } from './helpers/cli.js';
import { AnyRecord } from './helpers/records.js';

const TORTURE = TORTURE_MBOX;
const ENRON = ENRON_MBOX;

describe('mime-torture corpus', () => {
  it('finishes on every message, counts all 273, and every record is valid', { timeout: 120_000 }, async () => {
    if (!optionalCorpus(TORTURE, existsSync(TORTURE))) return;
    const { code, stdout, stderr } = await runCli(['scan', `mbox:${TORTURE}`, '--format', 'jsonl', '--min-confidence', 'low']);
    expect(stderr).toBe('');
    expect([0, 1, 3]).toContain(code);
    const records = jsonLines(stdout).map((r) => AnyRecord.parse(r));
    const mailbox = records.filter((r) => r.type === 'mailbox');
    expect(mailbox).toEqual([expect.objectContaining({ mailbox: 'mime-torture', messages: 273 })]);
    // What could not be read is said, with a reason.
    for (const e of records.filter((r) => r.type === 'error')) expect(e.error.length).toBeGreaterThan(10);
  });
});

describe('enron-sample corpus (business mail, no planted PHI)', () => {
  it('flags at most 1 message per 1,000 at the default threshold', { timeout: 300_000 }, async () => {
    if (!optionalCorpus(ENRON, existsSync(ENRON))) return;
    const { stdout } = await runCli(['scan', `mbox:${ENRON}`, '--format', 'jsonl']);
    const mailbox = jsonLines(stdout).find((r) => r.type === 'mailbox') as { messages: number; messagesWithPhi: number };
    expect(mailbox.messages).toBe(10_502);
    expect(mailbox.messagesWithPhi / mailbox.messages).toBeLessThanOrEqual(1 / 1000);
  });
});
