/**
 * The default thread plan (pipeline/scanner.ts): on two cores or fewer, one worker thread parses
 * messages (MIME, bodies, attachments into text) under its time and memory limits and the main
 * thread runs the rules; on more cores, cores − 1 threads scan whole messages; an explicit
 * --threads always sends every message to its threads whole.
 * The pool runs compiled worker files only: the built modules (`npm run build` first).
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pdf } from '../../fixtures/attachments.js';
import { PARSE_AHEAD, PARSE_SEND_BATCH, PARSE_THREAD_YOUNG_MB, threadPlan } from '../../src/pipeline/scanner.js';
import type { MessageOutcome } from '../../src/model/records.js';
import { tempDir } from '../helpers/cli.js';
import { built, threadsNow } from '../helpers/built.js';

describe('default thread plan', () => {
  it.each([
    [undefined, 1, { threads: 1, parseOnly: true }],
    [undefined, 2, { threads: 1, parseOnly: true }],
    [undefined, 3, { threads: 2, parseOnly: false }],
    [undefined, 4, { threads: 3, parseOnly: false }],
    [undefined, 8, { threads: 7, parseOnly: false }],
    [0, 2, { threads: 0, parseOnly: false }],
    [1, 2, { threads: 1, parseOnly: false }],
    [2, 8, { threads: 2, parseOnly: false }],
  ])('--threads %s on %i cores', (threads, cores, plan) => {
    expect(threadPlan(threads, cores)).toEqual(plan);
  });
});


async function setup() {
  const [{ createScanner, startScanner }, { createEngine }, { BUNDLED_RULES_DIR, loadRules }] = await Promise.all([
    built<typeof import('../../src/pipeline/scanner.js')>('pipeline/scanner.js'),
    built<typeof import('../../src/engine/engine.js')>('engine/engine.js'),
    built<typeof import('../../src/rules/load.js')>('rules/load.js'),
  ]);
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  // libuv's pool starts its threads on first use: used here, so threadsNow() counts only workers.
  await readFile(import.meta.filename);
  const key = Buffer.from('pool-default-test-key-0123456789');
  const today = new Date('2026-01-01T00:00:00Z');
  const settings = (threads: number | undefined, messageTimeoutMs = 60_000, threadMemoryMb = 96) => ({
    rules,
    key,
    today,
    options: { minConfidence: 'low' as const, maxNestingDepth: 5 },
    threads,
    messageTimeoutMs,
    threadMemoryMb,
  });
  /** A scanner as a 2-core machine's default makes it (`cores` given), or with `threads`. */
  const engine = () => createEngine(rules, key, { today });
  const scanner = (threads: number | undefined, messageTimeoutMs?: number) => createScanner(engine(), settings(threads, messageTimeoutMs), 2);
  /** Threads started before the engine is built, as the session starts them. */
  const starting = (threads: number | undefined, threadMemoryMb?: number) => startScanner(settings(threads, undefined, threadMemoryMb), 2);
  /** A scanner whose threads cannot start: a heap too small to load their modules. */
  const broken = (threads: number | undefined) => createScanner(engine(), settings(threads, undefined, 1), 2);
  return { scanner, starting, engine, broken };
}

/** A message: `body`, and attachments as (name, type, bytes); `hook` names the fault it triggers. */
function message(id: string, body: string, attachments: [string, string, Buffer][] = [], hook?: string): Buffer {
  const head = `From: a@example.org\r\nTo: b@example.org\r\nSubject: intake ${id}\r\nMessage-ID: <${id}@example.org>\r\n${hook ? `X-Phi-Scan-Test-Hook: ${hook}\r\n` : ''}`;
  if (attachments.length === 0) return Buffer.from(`${head}Content-Type: text/plain\r\n\r\n${body}\r\n`, 'latin1');
  const parts = attachments.map(
    ([name, type, bytes]) =>
      `--b\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`,
  );
  return Buffer.from(`${head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${body}\r\n${parts.join('')}--b--\r\n`, 'latin1');
}

const input = (bytes: Buffer) => ({ bytes, size: bytes.length });
/** Waits (up to 20 s) for `done`: a terminated thread ends soon after, not at once. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 50) {
    if (waited > 20_000) throw new Error('still not done after 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const categories = (o: MessageOutcome): string[] => o.findings.map((f) => `${f.location} ${f.category}`).sort();

describe('on a small machine, the default thread parses and the main thread runs the rules', () => {
  afterEach(() => {
    delete process.env.PHI_SCAN_TEST_HOOKS;
  });

  it('every outcome is the one of --threads 0: plain mail, a text attachment, a PDF', { timeout: 120_000 }, async () => {
    const { scanner } = await setup();
    const messages = [
      message('plain', 'Patient SSN 489-36-8350, DOB 03/04/1961.'),
      message('text', 'See the list.', [['list.txt', 'text/plain', Buffer.from('Member SSN 512-84-3921\r\n')]]),
      message('pdf', 'Referral attached.', [['referral.pdf', 'application/pdf', pdf([['Patient: Ann Roe', 'SSN 536-90-4399', 'DOB 04/05/1950']])]]),
    ];
    const reference = await scanner(0);
    const expected = await Promise.all(messages.map((m) => reference.scan(input(m))));
    await reference.close();
    expect(reference.ahead).toBeUndefined();

    const before = threadsNow();
    const small = await scanner(undefined);
    try {
      expect(threadsNow()).toBeGreaterThan(before);
      expect(small.ahead).toBe(PARSE_AHEAD);
      const got = await Promise.all(messages.map((m) => small.scan(input(m))));
      expect(got).toEqual(expected);
      expect(categories(got[2] as MessageOutcome)).toEqual(expect.arrayContaining(['attachment:referral.pdf ssn']));
    } finally {
      await small.close();
    }
  });

  it('the thread starts before the engine is built (the session builds it meanwhile); cancel stops a thread never used', { timeout: 120_000 }, async () => {
    const { scanner, starting, engine } = await setup();
    const messages = [message('plain', 'Patient SSN 489-36-8350, DOB 03/04/1961.'), message('text', 'See the list.', [['list.txt', 'text/plain', Buffer.from('Member SSN 512-84-3921\r\n')]])];
    const reference = await scanner(0);
    const expected = await Promise.all(messages.map((m) => reference.scan(input(m))));
    await reference.close();

    const before = threadsNow();
    const started = starting(undefined);
    expect(threadsNow()).toBeGreaterThan(before); // running before there is an engine
    const small = started.withEngine(engine());
    try {
      expect(await Promise.all(messages.map((m) => small.scan(input(m))))).toEqual(expected);
    } finally {
      await small.close();
      await started.cancel(); // after close: nothing left to stop
    }
    await until(() => threadsNow() === before);

    // A scan that stops before it begins (a bad --ignore-file, an output that cannot be opened):
    // its thread must not outlive it, or the process would never exit.
    const unused = starting(undefined);
    expect(threadsNow()).toBeGreaterThan(before);
    await unused.cancel();
    await until(() => threadsNow() === before);
  });

  it('a scanner waits for its thread only when a message needs it: one closed unused stops it still loading', { timeout: 120_000 }, async () => {
    const { starting, engine } = await setup();
    const before = threadsNow();
    const started = starting(undefined);
    let ready = false;
    void started.ready.then(() => (ready = true));
    // The thread takes a few hundred ms to load its modules; made and closed at once, the
    // scanner neither waits for that (an empty mbox, a --since-last run with nothing new) ...
    const unused = started.withEngine(engine());
    await unused.close();
    expect(ready).toBe(false);
    // ... nor leaves the thread behind.
    await until(() => threadsNow() === before);
  });

  it('threads that cannot start reject every message with ScannerFailed (the scan ends), not a message record', { timeout: 120_000 }, async () => {
    const { starting, engine, broken } = await setup();
    const { ScannerFailed } = await built<typeof import('../../src/pipeline/scanner.js')>('pipeline/scanner.js');
    const before = threadsNow();
    for (const threads of [undefined, 2]) {
      const started = starting(threads, 1);
      const scanner = started.withEngine(engine());
      try {
        const scans = [message('a', 'SSN 489-36-8350'), message('b', 'nothing')].map((m) => scanner.scan(input(m)));
        for (const scan of scans) await expect(scan).rejects.toBeInstanceOf(ScannerFailed);
        await expect(started.ready).rejects.toThrow(/a worker thread could not start \(out of memory: over 1 MB of heap\)/);
        // Given after the failure too.
        await expect(scanner.scan(input(message('c', 'late')))).rejects.toBeInstanceOf(ScannerFailed);
      } finally {
        await scanner.close();
      }
      // A scanner made when the engine is built already (a queue worker's) fails at once instead.
      await expect(broken(threads)).rejects.toBeInstanceOf(ScannerFailed);
    }
    await until(() => threadsNow() === before);
  });

  it('a scan whose units run on queue workers starts no thread: it scans no message itself', { timeout: 120_000 }, async () => {
    const [{ scan }, { BUNDLED_RULES_DIR, loadRules }] = await Promise.all([
      built<typeof import('../../src/pipeline/run.js')>('pipeline/run.js'),
      built<typeof import('../../src/rules/load.js')>('rules/load.js'),
    ]);
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const file = path.join(tempDir(), 'one.mbox');
    writeFileSync(file, `From a@example.org Mon Mar  4 09:15:00 2024\n${message('one', 'Patient SSN 489-36-8350.').toString('latin1')}\n`);
    const before = threadsNow();
    const seen: number[] = [];
    const remote = {
      start: async (work: readonly unknown[]) => void seen.push(work.length, threadsNow()),
      run: async () => undefined, // the unit ran elsewhere, and found nothing
    };
    // threads: 2 would start two threads that scan whole messages, were the scan to scan any.
    const options = { sources: [`mbox:${file}`], rules, key: Buffer.from('pool-default-test-key-0123456789'), minConfidence: 'low' as const, concurrency: 4, maxMessageBytes: 1_000_000, maxNestingDepth: 5, sinks: [], threads: 2 };
    const result = await scan({ ...options, remote });
    expect(seen).toEqual([1, before]);
    expect(result.summary.mailboxes).toHaveLength(1);
  });

  it('a message that hangs, crashes, exhausts or exits its thread while parsing costs that message only', { timeout: 120_000 }, async () => {
    process.env.PHI_SCAN_TEST_HOOKS = '1'; // copied into the worker's environment when it starts
    const { scanner } = await setup();
    const good = pdf([['Referral', 'SSN 623-17-2894']]);
    // Only the hang needs the time limit; the others end their thread by themselves, under a long
    // limit, so that a loaded machine (V8 slow to run out of its heap) cannot make them timeouts.
    const cases: [string, string, RegExp, number][] = [
      ['hang', 'timeout', /^message not scanned: still scanning after 2 s \(--message-timeout\); its worker thread was stopped$/, 2_000],
      ['crash', 'scan-failed', /^message not scanned: its worker thread stopped/, 60_000],
      ['oom', 'scan-failed', /^message not scanned: its worker thread stopped \(out of memory: over 96 MB/, 60_000],
      ['exit', 'scan-failed', /^message not scanned: its worker thread stopped \(exit code 7\)$/, 60_000],
    ];
    for (const [hook, code, why, timeoutMs] of cases) {
      const small = await scanner(undefined, timeoutMs);
      try {
        const next = message(`${hook}-next`, 'Patient SSN 401-22-6130.', [['next.pdf', 'application/pdf', good]]);
        // Sent together: the next message waits behind the faulty one and goes to its replacement.
        const [faulty, after] = await Promise.all([small.scan(input(message(hook, 'Patient SSN 401-22-6130.', [], hook))), small.scan(input(next))]);
        expect(faulty, hook).toEqual({ messageId: `<${hook}@example.org>`, date: null, maskedSubject: null, findings: [], problems: [{ code, message: expect.stringMatching(why) }] });
        expect(after.problems, hook).toEqual([]);
        expect(categories(after), hook).toEqual(['attachment:next.pdf ssn', 'body ssn']);
        // A parse that throws is the caller's to report (run.ts: a parse-failed record), like a scan that throws.
        if (hook === 'exit') await expect(small.scan(input(message('throw', 'Note.', [], 'throw')))).rejects.toThrow('test hook: thrown');
      } finally {
        await small.close();
      }
    }
  });

  it('messages go to the thread in batches: a hang inside one costs that message only, every other is scanned once', { timeout: 120_000 }, async () => {
    process.env.PHI_SCAN_TEST_HOOKS = '1';
    const { scanner } = await setup();
    const SSNS = ['489-36-8350', '536-90-4399', '401-22-6130', '623-17-2894'];
    const hung = PARSE_SEND_BATCH + 2; // inside the second batch
    const messages = Array.from({ length: 3 * PARSE_SEND_BATCH + 1 }, (_, i) =>
      message(`m${i}`, `Patient SSN ${SSNS[i % SSNS.length]}.`, [], i === hung ? 'hang' : undefined),
    );
    const reference = await scanner(0);
    const expected = await Promise.all(messages.map((m, i) => (i === hung ? undefined : reference.scan(input(m)))));
    await reference.close();
    const small = await scanner(undefined, 2_000);
    try {
      const got = await Promise.all(messages.map((m) => small.scan(input(m))));
      got.forEach((outcome, i) => {
        if (i === hung) expect(outcome.problems).toEqual([{ code: 'timeout', message: expect.stringContaining('still scanning after 2 s') }]);
        else expect(outcome, `message ${i}`).toEqual(expected[i]);
      });
      expect(got.filter((o) => o.findings.length > 0)).toHaveLength(messages.length - 1);
    } finally {
      await small.close();
    }
  });

  it('the parsing thread runs with a small young generation; an explicit --threads keeps V8 defaults', { timeout: 120_000 }, async () => {
    process.env.PHI_SCAN_TEST_HOOKS = '1';
    const { scanner } = await setup();
    const limits = (id: string) => input(message(id, 'Note.', [], 'limits'));
    const parsing = await scanner(undefined);
    try {
      await expect(parsing.scan(limits('parsing'))).rejects.toThrow(`test hook: young generation ${PARSE_THREAD_YOUNG_MB} MB, old generation 96 MB`);
    } finally {
      await parsing.close();
    }
    const whole = await scanner(1);
    try {
      const why = await whole.scan(limits('whole')).then(
        () => 'resolved',
        (err: Error) => err.message,
      );
      expect(why).toMatch(/^test hook: young generation \d+ MB, old generation 96 MB$/);
      expect(why).not.toContain(`young generation ${PARSE_THREAD_YOUNG_MB} MB`);
    } finally {
      await whole.close();
    }
  });
});
