/**
 * Locators as scans report them: names masked, the source's own numbers kept. A message 100 MB to
 * 1 GB into an mbox has a nine-digit byte offset, and IMAP servers may number UIDVALIDITY so: masked
 * as SSN-shaped, remediation could not find those messages again.
 */
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import type { SourceUnit } from '../../src/model/message.js';
import { ByteBudget } from '../../src/pipeline/byte-budget.js';
import { scanUnit, type UnitEvent } from '../../src/pipeline/unit.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';
import type { Source } from '../../src/sources/types.js';

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const engine = createEngine(rules, Buffer.alloc(32, 7));
const bytes = Buffer.from('From: a@example.test\r\nSubject: hi\r\nMessage-ID: <1@example.test>\r\n\r\nhello\r\n');

/** The locator a scan reports for a message the source located at `locator`. */
async function reported(spec: string, locator: string): Promise<string> {
  const unit: SourceUnit = { id: 'u', source: spec, mailbox: 'm', folder: 'INBOX', ref: 'r' };
  const source: Source = {
    kind: 'mbox',
    spec,
    units: async () => [unit],
    async *messages() {
      yield { unit, locator, size: bytes.length, bytes, cursor: '1' };
    },
  };
  const events: UnitEvent[] = [];
  await scanUnit(source, unit, undefined, { engine, options: { minConfidence: 'medium', maxNestingDepth: 5 }, budget: new ByteBudget(1 << 20), parseLimit: pLimit(1), window: 1 }, async (e) => {
    events.push(e);
  });
  const message = events.find((e) => e.type === 'message');
  if (message?.type !== 'message') throw new Error('no message event');
  return message.locator;
}

describe('locators: names masked, the source’s own numbers kept', () => {
  it.each([
    ['mbox:/data/big.mbox', '/data/big.mbox@123456789', '/data/big.mbox@123456789'],
    ['mbox:/data/big.mbox', '/data/big.mbox@536904399', '/data/big.mbox@536904399'],
    ['mbox:/x', '/x/Roe SSN 536-90-4399.mbox@42', '/x/Roe SSN •••-••-4399.mbox@42'],
    ['mbox:/x', '/x/case@536904399@7', '/x/case@•••••4399@7'],
    ['imaps://mail.example.test', 'INBOX:123456789:536904399', 'INBOX:123456789:536904399'],
    ['imaps://mail.example.test', 'Patient 536-90-4399:1700000000:2041', 'Patient •••-••-4399:1700000000:2041'],
    ['imaps://mail.example.test', 'Roe:536904399:1700000000:2041', 'Roe:•••••4399:1700000000:2041'],
    // Other sources' locators are names through and through (a file named by whoever exported it).
    ['eml:/x', '/x/case@536904399', '/x/case@•••••4399'],
    ['maildir:/x', '/x/cur/536904399', '/x/cur/•••••4399'],
  ])('%s: %s → %s', async (spec, locator, expected) => {
    expect(await reported(spec, locator)).toBe(expected);
  });
});
