/**
 * The default thread plan (pipeline/scanner.ts): on two cores or fewer, messages are scanned on
 * the main thread and one worker thread reads their file attachments (PDF, Office, archives,
 * images) under its time and memory limits; on more cores, cores − 1 threads scan whole
 * messages; an explicit --threads always sends every message to its threads.
 * The pool runs compiled worker files only: the built modules (`npm run build` first).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pdf } from '../../fixtures/attachments.js';
import { threadPlan } from '../../src/pipeline/scanner.js';
import type { MessageOutcome } from '../../src/model/records.js';

describe('default thread plan', () => {
  it.each([
    [undefined, 1, { threads: 1, attachmentsOnly: true }],
    [undefined, 2, { threads: 1, attachmentsOnly: true }],
    [undefined, 3, { threads: 2, attachmentsOnly: false }],
    [undefined, 4, { threads: 3, attachmentsOnly: false }],
    [undefined, 8, { threads: 7, attachmentsOnly: false }],
    [0, 2, { threads: 0, attachmentsOnly: false }],
    [1, 2, { threads: 1, attachmentsOnly: false }],
    [2, 8, { threads: 2, attachmentsOnly: false }],
  ])('--threads %s on %i cores', (threads, cores, plan) => {
    expect(threadPlan(threads, cores)).toEqual(plan);
  });
});

const DIST = path.resolve(import.meta.dirname, '..', '..', 'dist');
const built = <T>(file: string): Promise<T> => import(pathToFileURL(path.join(DIST, file)).href) as Promise<T>;

async function setup() {
  const [{ createScanner }, { createEngine }, { BUNDLED_RULES_DIR, loadRules }] = await Promise.all([
    built<typeof import('../../src/pipeline/scanner.js')>('pipeline/scanner.js'),
    built<typeof import('../../src/engine/engine.js')>('engine/engine.js'),
    built<typeof import('../../src/rules/load.js')>('rules/load.js'),
  ]);
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  const key = Buffer.from('pool-default-test-key-0123456789');
  const today = new Date('2026-01-01T00:00:00Z');
  const settings = (threads: number | undefined, messageTimeoutMs = 60_000) => ({
    rules,
    key,
    today,
    options: { minConfidence: 'low' as const, maxNestingDepth: 5 },
    threads,
    messageTimeoutMs,
    threadMemoryMb: 96,
  });
  /** A scanner as a 2-core machine's default makes it (`cores` given), or with `threads`. */
  const scanner = (threads: number | undefined, messageTimeoutMs?: number) => createScanner(createEngine(rules, key, { today }), settings(threads, messageTimeoutMs), 2);
  return { scanner };
}

/** A message: `body`, and attachments as (name, type, bytes). */
function message(id: string, body: string, attachments: [string, string, Buffer][] = []): Buffer {
  const head = `From: a@example.org\r\nTo: b@example.org\r\nSubject: intake ${id}\r\nMessage-ID: <${id}@example.org>\r\n`;
  if (attachments.length === 0) return Buffer.from(`${head}Content-Type: text/plain\r\n\r\n${body}\r\n`, 'latin1');
  const parts = attachments.map(
    ([name, type, bytes]) =>
      `--b\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`,
  );
  return Buffer.from(`${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${body}\r\n${parts.join('')}--b--\r\n`, 'latin1');
}

/** A "PDF" (by its first bytes) whose header block names a test hook: the worker thread misbehaves on it. */
const hooked = (hook: string): Buffer => Buffer.from(`%PDF-1.4\nX-Phi-Scan-Test-Hook: ${hook}\n\n%%EOF\n`, 'latin1');
const input = (bytes: Buffer) => ({ bytes, size: bytes.length });
/** Threads of this process (Linux): a worker thread is one more. */
const threadsNow = (): number => readdirSync('/proc/self/task').length;
const categories = (o: MessageOutcome): string[] => o.findings.map((f) => `${f.location} ${f.category}`).sort();

describe('on a small machine, the default thread reads attachments and the main thread scans', () => {
  afterEach(() => {
    delete process.env.PHI_SCAN_TEST_HOOKS;
  });

  it('plain mail and text attachments start no thread; a PDF does; every outcome is the one of --threads 0', { timeout: 120_000 }, async () => {
    const { scanner } = await setup();
    const plain = message('plain', 'Patient SSN 489-36-8350, DOB 03/04/1961.');
    const text = message('text', 'See the list.', [['list.txt', 'text/plain', Buffer.from('Member SSN 512-84-3921\r\n')]]);
    const withPdf = message('pdf', 'Referral attached.', [['referral.pdf', 'application/pdf', pdf([['Patient: Ann Roe', 'SSN 536-90-4399', 'DOB 04/05/1950']])]]);

    const reference = await scanner(0);
    const expected = [await reference.scan(input(plain)), await reference.scan(input(text)), await reference.scan(input(withPdf))];
    await reference.close();

    const before = threadsNow();
    const small = await scanner(undefined);
    try {
      const got = [await small.scan(input(plain)), await small.scan(input(text))];
      expect(threadsNow()).toBe(before);
      got.push(await small.scan(input(withPdf)));
      expect(threadsNow()).toBeGreaterThan(before);
      expect(got).toEqual(expected);
      expect(categories(got[2] as MessageOutcome)).toEqual(expect.arrayContaining(['attachment:referral.pdf ssn']));
    } finally {
      await small.close();
    }
  });

  it('an attachment that hangs, crashes, exhausts or exits its thread costs that attachment only; the message and the next ones are scanned', { timeout: 120_000 }, async () => {
    process.env.PHI_SCAN_TEST_HOOKS = '1'; // copied into the worker's environment when it starts
    const { scanner } = await setup();
    const good = pdf([['Referral', 'SSN 623-17-2894']]);
    const cases: [string, string, RegExp][] = [
      ['hang', 'timeout', /^attachment not read: still reading after 2 s \(--message-timeout\); its worker thread was stopped$/],
      ['crash', 'scan-failed', /^attachment not read: its worker thread stopped/],
      ['oom', 'scan-failed', /^attachment not read: its worker thread stopped \(out of memory: over 96 MB/],
      ['exit', 'scan-failed', /^attachment not read: its worker thread stopped \(exit code 7\)$/],
      ['throw', 'parse-failed', /^attachment could not be converted to text: test hook: thrown$/],
    ];
    const small = await scanner(undefined, 2_000);
    try {
      for (const [hook, code, why] of cases) {
        const faulty = await small.scan(input(message(hook, 'Patient SSN 401-22-6130.', [['bad.pdf', 'application/pdf', hooked(hook)], ['good.pdf', 'application/pdf', good]])));
        expect(faulty.problems, hook).toEqual([{ code, message: expect.stringMatching(why), location: 'attachment:bad.pdf' }]);
        // The body and the message's other attachment (read by the replacement thread) are scanned.
        expect(categories(faulty), hook).toEqual(['attachment:good.pdf ssn', 'body ssn']);
        const next = await small.scan(input(message(`${hook}-next`, 'Note.', [['next.pdf', 'application/pdf', good]])));
        expect(next.problems, hook).toEqual([]);
        expect(categories(next), hook).toEqual(['attachment:next.pdf ssn']);
      }
    } finally {
      await small.close();
    }
  });
});
