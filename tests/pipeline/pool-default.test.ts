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
