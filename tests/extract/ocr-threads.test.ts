/**
 * OCR runs in the worker pool: with worker threads, a message's pages are read by the engine of
 * the worker thread that scans it (or, by default on 2 cores, that reads its attachments), and no
 * engine ever starts on the main thread; with
 * `--threads 0` the main thread's engine reads them. The built modules are used (the pool runs
 * compiled worker files only): `npm run build` first.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../fixtures/generate.js';
import { blank, drawText, encodePng, patient } from '../../fixtures/ocr.js';
import type * as Scanner from '../../src/pipeline/scanner.js';
import type * as Ocr from '../../src/extract/ocr.js';
import type * as EngineModule from '../../src/engine/engine.js';
import type * as RulesLoad from '../../src/rules/load.js';
import { built } from '../helpers/built.js';


const person = patient(new Rng('ocr-threads'));
const page = blank(900, 90);
drawText(page, `SSN ${person.ssn}`, 20, 60, 44);
const png = encodePng(page).toString('base64').replace(/.{76}/g, '$&\n');
const message = Buffer.from(
  `From: a@example.org\nMessage-ID: <card@ocr.test>\nSubject: scan\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nScan attached.\n--b\nContent-Type: image/png; name="scan.png"\nContent-Disposition: attachment; filename="scan.png"\nContent-Transfer-Encoding: base64\n\n${png}\n--b--\n`,
);

/** The built scanner, OCR and engine modules, the bundled rules, and scanner settings for `threads`. */
async function setup() {
  const [scanner, ocr, { createEngine }, { BUNDLED_RULES_DIR, loadRules }] = await Promise.all([
    built<typeof Scanner>('pipeline/scanner.js'),
    built<typeof Ocr>('extract/ocr.js'),
    built<typeof EngineModule>('engine/engine.js'),
    built<typeof RulesLoad>('rules/load.js'),
  ]);
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  const key = Buffer.from('ocr-threads-test-key-0123456789ab');
  const today = new Date('2026-01-01T00:00:00Z');
  const settings = (threads: number | undefined, minConfidence: 'low' | 'medium' = 'low'): Scanner.ScannerSettings => ({
    rules,
    key,
    today,
    options: { minConfidence, maxNestingDepth: 5, limits: { maxOcrPageMillis: 60_000, maxAttachmentMillis: 120_000 } },
    threads,
    messageTimeoutMs: 120_000,
    threadMemoryMb: 512,
  });
  const scannerOf = (threads: number | undefined, minConfidence?: 'low' | 'medium', cores?: number) =>
    scanner.createScanner(createEngine(rules, key, { today }), settings(threads, minConfidence), cores);
  return { ocr, scannerOf };
}

const ssnAt = (o: Awaited<ReturnType<Scanner.MessageScanner['scan']>>): string[] => o.findings.filter((f) => f.category === 'ssn').map((f) => f.location);

describe('OCR in the worker pool', () => {
  it('with worker threads (and with the default thread of a 2-core machine) the page is read in a worker thread, never on the main thread; with none, on the main thread', { timeout: 120_000 }, async () => {
    const { ocr, scannerOf } = await setup();

    const pooled = await scannerOf(1);
    try {
      const outcome = await pooled.scan({ bytes: message, size: message.length });
      expect(ssnAt(outcome)).toEqual(['attachment:scan.png']);
      expect(ocr.ocrRunning()).toBe(false); // the main thread started no engine
    } finally {
      await pooled.close();
    }

    // The default of a 2-core machine: the message is scanned here, its image read by the thread.
    const small = await scannerOf(undefined, 'low', 2);
    try {
      const outcome = await small.scan({ bytes: message, size: message.length });
      expect(ssnAt(outcome)).toEqual(['attachment:scan.png']);
      expect(ocr.ocrRunning()).toBe(false);
    } finally {
      await small.close();
    }

    const inline = await scannerOf(0);
    try {
      const outcome = await inline.scan({ bytes: message, size: message.length });
      expect(ssnAt(outcome)).toEqual(['attachment:scan.png']);
      expect(ocr.ocrRunning()).toBe(true); // read here, by this thread's engine
    } finally {
      await inline.close();
    }
    expect(ocr.ocrRunning()).toBe(false); // ended with the scan
  });

  it('two inline scanners of one thread (a queue worker with two settings) share its engine: closing one leaves the other reading', { timeout: 120_000 }, async () => {
    const { ocr, scannerOf } = await setup();
    const a = await scannerOf(0, 'low');
    const b = await scannerOf(0, 'medium');
    try {
      expect(ssnAt(await a.scan({ bytes: message, size: message.length }))).toEqual(['attachment:scan.png']);
      const reading = b.scan({ bytes: message, size: message.length });
      await a.close(); // an idle scanner evicted while the other reads a page
      await a.close(); // closing twice counts once
      expect(ocr.ocrRunning()).toBe(true);
      expect(ssnAt(await reading)).toEqual(['attachment:scan.png']);
      expect(ocr.ocrRunning()).toBe(true);
    } finally {
      await b.close();
    }
    expect(ocr.ocrRunning()).toBe(false); // the last one ended it
  });
});
