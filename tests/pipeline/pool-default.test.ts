/**
 * The default thread plan (pipeline/scanner.ts): on two cores or fewer, one worker thread that
 * takes only messages worth a thread (large, attachments, images), the rest scanned on the main
 * thread; on more cores, cores − 1 threads taking every message; an explicit --threads always
 * sends every message to its threads.
 */
import { describe, expect, it } from 'vitest';
import { THREAD_MIN_BYTES, threadPlan, worthAThread } from '../../src/pipeline/scanner.js';

const msg = (headers: string, body = 'Hello.\r\n'): Buffer => Buffer.from(`From: a@example.org\r\nSubject: s\r\n${headers}\r\n${body}`, 'latin1');

describe('default thread plan', () => {
  it.each([
    [undefined, 1, { threads: 1, choosy: true }],
    [undefined, 2, { threads: 1, choosy: true }],
    [undefined, 3, { threads: 2, choosy: false }],
    [undefined, 4, { threads: 3, choosy: false }],
    [undefined, 8, { threads: 7, choosy: false }],
    [0, 2, { threads: 0, choosy: false }],
    [1, 2, { threads: 1, choosy: false }],
    [2, 8, { threads: 2, choosy: false }],
  ])('--threads %s on %i cores', (threads, cores, plan) => {
    expect(threadPlan(threads, cores)).toEqual(plan);
  });
});

describe('messages worth a thread on a small machine', () => {
  const worth: [string, Buffer][] = [
    ['mixed (attachments)', msg('Content-Type: multipart/mixed; boundary="b"\r\n')],
    ['MIXED, folded header', msg('Content-Type:\r\n multipart/Mixed;\r\n boundary="b"\r\n')],
    ['related (inline images to read)', msg('Content-Type: multipart/related; boundary="b"\r\n')],
    ['a lone PDF', msg('Content-Type: application/pdf\r\n')],
    ['a lone image', msg('content-type: image/png\r\n')],
    ['large plain text', msg('Content-Type: text/plain\r\n', 'x'.repeat(THREAD_MIN_BYTES))],
  ];
  const notWorth: [string, Buffer][] = [
    ['plain text', msg('Content-Type: text/plain; charset=utf-8\r\n')],
    ['no Content-Type', msg('')],
    ['alternative (text and HTML of one body)', msg('Content-Type: multipart/alternative; boundary="b"\r\n')],
    ['HTML', msg('Content-Type: text/html\r\n')],
    ['a multipart/mixed line in the body only', msg('Content-Type: text/plain\r\n', 'Content-Type: multipart/mixed\r\n')],
  ];
  it.each(worth)('%s: to a thread', (_what, bytes) => expect(worthAThread(bytes)).toBe(true));
  it.each(notWorth)('%s: on the main thread', (_what, bytes) => expect(worthAThread(bytes)).toBe(false));
});

describe('the default thread on a small machine starts with the first message worth it', () => {
  // The pool runs compiled worker files only: the built modules (`npm run build` first).
  it('a plain message starts no thread; one with an attachment does, and both read as without threads', { timeout: 120_000 }, async () => {
    const { readdirSync } = await import('node:fs');
    const path = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const dist = path.resolve(import.meta.dirname, '..', '..', 'dist');
    const built = <T>(file: string): Promise<T> => import(pathToFileURL(path.join(dist, file)).href) as Promise<T>;
    const [{ createScanner }, { createEngine }, { BUNDLED_RULES_DIR, loadRules }] = await Promise.all([
      built<typeof import('../../src/pipeline/scanner.js')>('pipeline/scanner.js'),
      built<typeof import('../../src/engine/engine.js')>('engine/engine.js'),
      built<typeof import('../../src/rules/load.js')>('rules/load.js'),
    ]);
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const key = Buffer.from('pool-default-test-key-0123456789');
    const today = new Date('2026-01-01T00:00:00Z');
    const settings = (threads: number | undefined) => ({ rules, key, today, options: { minConfidence: 'low' as const, maxNestingDepth: 5 }, threads, messageTimeoutMs: 60_000, threadMemoryMb: 512 });
    const plain = msg('Content-Type: text/plain\r\n', 'Patient SSN 489-36-8350, DOB 03/04/1961.\r\n');
    const attached = msg(
      'Content-Type: multipart/mixed; boundary="b"\r\n',
      '--b\r\nContent-Type: text/plain\r\n\r\nSee the list.\r\n--b\r\nContent-Type: text/plain; name="list.txt"\r\nContent-Disposition: attachment; filename="list.txt"\r\n\r\nMember SSN 512-84-3921\r\n--b--\r\n',
    );
    // Threads of this process (Linux): a worker thread is one more.
    const threadsNow = (): number => readdirSync('/proc/self/task').length;

    const reference = await createScanner(createEngine(rules, key, { today }), settings(0));
    const expected = [await reference.scan({ bytes: plain, size: plain.length }), await reference.scan({ bytes: attached, size: attached.length })];
    await reference.close();

    const before = threadsNow();
    const scanner = await createScanner(createEngine(rules, key, { today }), settings(undefined), 2);
    try {
      const first = await scanner.scan({ bytes: plain, size: plain.length });
      expect(threadsNow()).toBe(before);
      const second = await scanner.scan({ bytes: attached, size: attached.length });
      expect(threadsNow()).toBeGreaterThan(before);
      expect([first, second]).toEqual(expected);
      expect(second.findings.length).toBeGreaterThan(0);
    } finally {
      await scanner.close();
    }
  });
});
