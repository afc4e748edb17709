/**
 * Scanning in worker threads (src/pipeline/pool.ts): the same report as scanning on the main
 * thread, byte for byte; and a message that hangs, crashes its thread, runs it out of memory or
 * exits it costs that message alone (an error record), never the others.
 * Faults come from the test hooks (src/pipeline/test-hooks.ts), live only with PHI_SCAN_TEST_HOOKS=1.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TORTURE_MBOX, jsonLines, optionalCorpus, runCli, tempDir, withoutRunTimes } from '../helpers/cli.js';
import { DEMO, planted } from '../helpers/demo.js';
import { AnyRecord } from '../helpers/records.js';

const TORTURE = TORTURE_MBOX;
const DEMO_SOURCES = Object.keys(planted.mailboxes).map((m) => `mbox:${path.join(DEMO, 'mbox', `${m}.mbox`)}`);

describe('worker threads give the same report as the main thread', () => {
  const both = async (args: string[]): Promise<[string, string]> => {
    const [inline, pooled, two] = await Promise.all([
      runCli([...args, '--threads', '0']),
      runCli(args), // the default: one thread per core
      runCli([...args, '--threads', '2']),
    ]);
    for (const r of [inline, pooled, two]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(inline.code);
    }
    // The closing run record's times differ from run to run; everything else must not.
    expect(withoutRunTimes(two.stdout)).toBe(withoutRunTimes(pooled.stdout));
    return [withoutRunTimes(inline.stdout), withoutRunTimes(pooled.stdout)];
  };

  it('on the demo archive (all mailboxes, every format of record)', { timeout: 120_000 }, async () => {
    const [inline, pooled] = await both(['scan', ...DEMO_SOURCES, '--format', 'jsonl', '--min-confidence', 'low']);
    expect(jsonLines(inline).filter((r) => r.type === 'finding').length).toBeGreaterThan(100);
    expect(pooled).toBe(inline);
  });

  it('with oversize messages (reported from their headers, on the main thread)', { timeout: 120_000 }, async () => {
    const [inline, pooled] = await both(['scan', ...DEMO_SOURCES, '--format', 'jsonl', '--max-message-size', '1KB']);
    expect(jsonLines(inline).filter((r) => r.code === 'oversize').length).toBeGreaterThan(10);
    expect(pooled).toBe(inline);
  });

  it('on mime-torture (malformed MIME, error records included, pictures read by OCR)', { timeout: 400_000 }, async () => {
    if (!optionalCorpus(TORTURE, existsSync(TORTURE))) return;
    // OCR on: the corpus's pictures with almost no writing (a stereogram, a clock, icons) must give
    // the same records whichever thread's engine reads them, after whatever it read before. Time
    // limits are raised so that a loaded machine cannot make a page run out of time in one run only.
    const slow = ['--ocr-timeout', '600', '--attachment-timeout', '1200', '--message-timeout', '1200'];
    const [inline, pooled] = await both(['scan', `mbox:${TORTURE}`, '--format', 'jsonl', '--min-confidence', 'low', ...slow]);
    const records = jsonLines(inline);
    expect(records.find((r) => r.type === 'mailbox')).toMatchObject({ messages: 273 });
    expect(records.filter((r) => r.code === 'no-text' && /\(OCR found none\)/.test(String(r.error))).length).toBeGreaterThan(5);
    expect(pooled).toBe(inline);
  });
});

// ---------------------------------------------------------------- faults

const SSNS = ['514-14-8905', '489-36-8350', '536-90-4399', '312-48-7765', '401-22-6130', '623-17-2894'];
/** Message ids in mbox order; `hook` names the fault its message triggers. */
const MESSAGES: { id: string; hook?: string }[] = [
  { id: 'ok-1' },
  { id: 'hang', hook: 'hang' },
  { id: 'ok-2' },
  { id: 'crash', hook: 'crash' },
  { id: 'ok-3' },
  { id: 'oom', hook: 'oom' },
  { id: 'ok-4' },
  { id: 'exit', hook: 'exit' },
  { id: 'ok-5' },
  { id: 'throw', hook: 'throw' },
  { id: 'ok-6' },
];

function faultMbox(): string {
  const file = path.join(tempDir('phi-pool-'), 'faults.mbox');
  const text = MESSAGES.map(({ id, hook }, i) =>
    [
      'From intake@example.org Mon Jan  8 09:00:00 2024',
      'From: intake@example.org',
      'To: billing@example.org',
      `Subject: referral ${i}`,
      'Date: Mon, 08 Jan 2024 09:00:00 +0000',
      `Message-ID: <${id}@example.org>`,
      ...(hook ? [`X-Phi-Scan-Test-Hook: ${hook}`] : []),
      '',
      `Patient SSN: ${SSNS[i % SSNS.length]}`,
      '',
    ].join('\n'),
  ).join('\n');
  writeFileSync(file, `${text}\n`);
  return file;
}

type Rec = Record<string, unknown>;
const idOf = (r: Rec): string => String(r.messageId);
/** A scan that threw is reported as on the main thread (run.ts): under the id of the raw bytes. */
const expectedId = (m: { id: string }): string | RegExp => (m.id === 'throw' ? /^<sha256:[0-9a-f]{64}>$/ : `<${m.id}@example.org>`);

describe('a misbehaving message costs that message only', async () => {
  const mbox = faultMbox();
  const base = ['scan', `mbox:${mbox}`, '--format', 'jsonl'];
  const hooks = { PHI_SCAN_TEST_HOOKS: '1' };
  const faults = ['--message-timeout', '5', '--thread-memory', '96'];
  const [inline, inert, two, one] = await Promise.all([
    runCli([...base, '--threads', '0'], { env: hooks }),
    runCli([...base, '--threads', '2']), // hook headers without PHI_SCAN_TEST_HOOKS: ordinary mail
    runCli([...base, '--threads', '2', ...faults], { env: hooks }),
    runCli([...base, '--threads', '1', ...faults], { env: hooks }),
  ]);

  it('the hooks need PHI_SCAN_TEST_HOOKS=1 (message content alone never triggers them) and never run on the main thread', () => {
    expect(inline.code).toBe(1);
    expect(withoutRunTimes(inert.stdout)).toBe(withoutRunTimes(inline.stdout));
    const messages = jsonLines(inline.stdout).filter((r) => r.type === 'message');
    expect(messages.map(idOf)).toEqual(MESSAGES.map((m) => `<${m.id}@example.org>`));
  });

  for (const [name, run] of [
    ['2 threads', two],
    ['1 thread (messages queued behind the failed one go to its replacement)', one],
  ] as const) {
    it(`with ${name}: an error record for each faulty message, every other message scanned once, in order`, () => {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(3);
      const records = jsonLines(run.stdout);
      for (const r of records) AnyRecord.parse(r);
      const good = (out: string): Rec[] => jsonLines(out).filter((r) => r.type !== 'mailbox' && String(r.messageId).startsWith('<ok-'));
      expect(good(run.stdout)).toEqual(good(inline.stdout));

      const errors = records.filter((r) => r.type === 'error');
      const expected: [string, string, RegExp][] = [
        ['<hang@example.org>', 'timeout', /still scanning after 5 s \(--message-timeout\)/],
        ['<crash@example.org>', 'scan-failed', /worker thread stopped/],
        ['<oom@example.org>', 'scan-failed', /out of memory: over 96 MB/],
        ['<exit@example.org>', 'scan-failed', /worker thread stopped \(exit code 7\)/],
        ['<sha256:', 'parse-failed', /message could not be scanned: test hook: thrown/],
      ];
      expect(errors.map((e) => e.code)).toEqual(expected.map(([, code]) => code));
      errors.forEach((e, i) => {
        const [id, , why] = expected[i] as [string, string, RegExp];
        expect(idOf(e).startsWith(id)).toBe(true);
        expect(e.error).toMatch(why);
      });
      expect(records.filter((r) => r.type === 'message' && !String(r.messageId).startsWith('<ok-'))).toEqual([]);
      expect(records.filter((r) => r.type === 'mailbox')).toEqual([expect.objectContaining({ messages: MESSAGES.length, messagesWithPhi: 6, errors: 5 })]);
      // Records stay in mbox order: each error sits where its message was.
      const order = records.filter((r) => r.type === 'message' || r.type === 'error').map(idOf);
      expect(order).toEqual(MESSAGES.map((m) => expect.stringMatching(expectedId(m))));
    });
  }

  it('rules from user folders and allowlists reach the worker threads', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'allow.yaml'), `kind: allowlist\nentries:\n  - rules: [ssn]\n    values: ["${SSNS[1]}"]\n`);
    const args = [...base, '--rules', 'builtin', '--rules', dir];
    const [inlineAllowed, pooledAllowed] = await Promise.all([runCli([...args, '--threads', '0']), runCli([...args, '--threads', '2'])]);
    expect(withoutRunTimes(pooledAllowed.stdout)).toBe(withoutRunTimes(inlineAllowed.stdout));
    expect(withoutRunTimes(pooledAllowed.stdout)).not.toBe(withoutRunTimes(inline.stdout));
    const masked = jsonLines(pooledAllowed.stdout).filter((r) => r.type === 'finding').map((r) => r.masked);
    expect(masked).toContain('•••-••-8905');
    expect(masked).not.toContain('•••-••-8350');
  });
});

describe('threads that cannot start end the scan when a message needs them', async () => {
  const mbox = faultMbox();
  const empty = path.join(tempDir('phi-pool-'), 'empty.mbox');
  writeFileSync(empty, '');
  // A heap too small for a thread to load its modules: it can never start.
  const tiny = ['--thread-memory', '1', '--format', 'jsonl'];
  const [byDefault, two, nothing] = await Promise.all([
    runCli(['scan', `mbox:${mbox}`, ...tiny]),
    runCli(['scan', `mbox:${mbox}`, '--threads', '2', ...tiny]),
    runCli(['scan', `mbox:${empty}`, ...tiny]),
  ]);

  for (const [name, run] of [
    ['the default', byDefault],
    ['--threads 2', two],
  ] as const) {
    it(`${name}: exit 3 with the reason, and no record (not an error record for every message)`, () => {
      expect(run.stderr).toBe('phi-scan: internal error: a worker thread could not start (out of memory: over 1 MB of heap)\n');
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
    });
  }

  it('a scan with nothing to parse does not wait for them: it ends complete', () => {
    expect(nothing.stderr).toBe('');
    expect(nothing.code).toBe(0);
    const records = jsonLines(nothing.stdout);
    for (const r of records) AnyRecord.parse(r);
    expect(records.map((r) => [r.type, r.messages])).toEqual([
      ['mailbox', 0],
      ['run', 0],
    ]);
  });
});
