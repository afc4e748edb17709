/**
 * The output order does not cost unbounded memory: with a slow sink and several units, the
 * units behind the head stop reading once the outcomes waiting for their turn fill the order
 * budget, instead of buffering their whole folder. Measured from outside (messages scanned
 * minus messages the sink has received) and by the pipeline's own counter (ScanResult.held).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../../src/pipeline/run.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';
import type { Sink } from '../../src/sinks/types.js';
import { tempDir } from '../helpers/cli.js';

const UNITS = 4;
const MESSAGES = 1500;

function generateMbox(file: string, prefix: string): void {
  const parts: string[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const lines = [`From s@example.org Mon Mar  4 09:15:00 2024`, `Message-ID: <${prefix}${i}@order.test>`, `Subject: note ${i}`, ''];
    if (i % 3 === 0) lines.push(`Patient SSN: ${212 + (i % 400)}-${String(10 + (i % 80)).padStart(2, '0')}-${String(1000 + i).padStart(4, '0')}`);
    lines.push('Routine scheduling text about the delivery window.');
    parts.push(`${lines.join('\n')}\n\n`);
  }
  writeFileSync(file, parts.join(''));
}

describe('ordered output with a slow sink and several units', () => {
  it('holds a number of finished outcomes bounded by the order budget, not by the archive', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    for (let u = 0; u < UNITS; u++) generateMbox(path.join(dir, `box-${u}.mbox`), `u${u}-`);
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);

    let received = 0;
    let scanned = 0;
    let maxHeldSeen = 0;
    const order: string[] = [];
    // A sink that takes a moment per message (a slow disk, a remote SIEM).
    const slow: Sink = {
      async write(event) {
        if (event.type !== 'message') return;
        order.push(event.context.mailbox);
        await new Promise((r) => setTimeout(r, 1));
        received++;
      },
      async close() {},
    };
    const orderBudgetBytes = 64 * 1024;
    const concurrency = 2;
    const result = await scan({
      sources: [`mbox:${dir}`],
      rules,
      key: Buffer.from('ordering test key'),
      minConfidence: 'medium',
      concurrency,
      threads: 0,
      maxMessageBytes: 1024 * 1024,
      maxNestingDepth: 5,
      sinks: [slow],
      orderBudgetBytes,
      onProgress: (p) => {
        scanned = p.messages;
        maxHeldSeen = Math.max(maxHeldSeen, scanned - received);
      },
    });
    expect(result.summary.messages).toBe(UNITS * MESSAGES);
    expect(received).toBe(UNITS * MESSAGES);
    // Still in order: each mailbox's messages together, mailboxes in source order.
    expect([...new Set(order)]).toEqual(['box-0', 'box-1', 'box-2', 'box-3']);
    expect(order.filter((m, i) => i > 0 && m !== order[i - 1])).toHaveLength(UNITS - 1);

    // Units read at once (run.ts: at least 4), each with one message between admission and hand-over.
    const unitsAtOnce = Math.max(4, concurrency);
    // A held message counts for at least 512 bytes (run.ts HELD_MESSAGE_MIN_BYTES).
    const bound = Math.floor(orderBudgetBytes / 512) + unitsAtOnce * (concurrency + 1);
    expect(maxHeldSeen).toBeGreaterThan(0);
    expect(maxHeldSeen).toBeLessThanOrEqual(bound);
    expect(result.held.maxMessages).toBeLessThanOrEqual(bound);
    expect(result.held.maxBytes).toBeLessThanOrEqual(orderBudgetBytes + unitsAtOnce * (concurrency + 1) * 4096);
    process.stderr.write(`ordering: held at most ${result.held.maxMessages} messages (${result.held.maxBytes} bytes est.; seen from outside ${maxHeldSeen}); bound ${bound}\n`);
  });
});

describe('the byte ranges of one large mbox', () => {
  it('are read one after the other: nothing waits for the output order, every message once, in file order', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'large.mbox');
    generateMbox(file, 'r-');
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const ids: string[] = [];
    const sink: Sink = {
      async write(event) {
        if (event.type === 'message') ids.push(event.outcome.messageId);
        await new Promise((r) => setTimeout(r, 0));
      },
      async close() {},
    };
    process.env.PHI_SCAN_MBOX_RANGE_BYTES = String(8 * 1024); // ~20 ranges
    try {
      const result = await scan({
        sources: [`mbox:${file}`],
        rules,
        key: Buffer.from('ordering test key'),
        minConfidence: 'medium',
        concurrency: 2,
        threads: 0,
        maxMessageBytes: 1024 * 1024,
        maxNestingDepth: 5,
        sinks: [sink],
        orderBudgetBytes: 64 * 1024,
      });
      expect(result.summary.messages).toBe(MESSAGES);
      expect(ids).toEqual(Array.from({ length: MESSAGES }, (_, i) => `<r-${i}@order.test>`));
      // Read at once, the ranges behind the head would hold up to the order budget (128 messages here).
      expect(result.held.maxMessages).toBeLessThanOrEqual(1);
    } finally {
      delete process.env.PHI_SCAN_MBOX_RANGE_BYTES;
    }
  });
});
