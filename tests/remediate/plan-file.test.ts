/**
 * A plan file is written and read an item at a time: the bytes are those of `JSON.stringify(plan,
 * null, 2)` (what earlier versions wrote, for review), any JSON layout of the same plan reads back
 * the same, a damaged plan is refused before a single item is handed out, and reading a plan far
 * larger than the heap it is given holds one item at a time.
 */
import { appendFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPlan, writePlan, writtenPlan, type Plan, type PlanFile, type PlanHeader, type PlanItem } from '../../src/remediate/plan.js';
import { tempDir } from '../helpers/cli.js';

const header = (extra: Partial<PlanHeader> = {}): PlanHeader => ({ type: 'phi-scan-remediation-plan', version: 1, createdAt: '2026-12-07T23:00:00.000Z', run: 3, action: 'move', to: 'PHI-Quarantine', ...extra });

const item = (n: number, fingerprints = 3, subject: string | null = `Referral ${n} for •••-••-${String(n).padStart(4, '0')}`): PlanItem => ({
  source: 'mbox:/archives/billing.mbox',
  mailbox: n % 3 === 0 ? 'intake' : 'billing',
  folder: 'INBOX',
  locator: `/archives/billing.mbox@${n * 4096}`,
  messageId: `<m${n}@test.example>`,
  maskedSubject: subject,
  categories: ['ssn', 'date-of-birth'],
  fingerprints: Array.from({ length: fingerprints }, (_, i) => `${n.toString(16).padStart(8, '0')}${i.toString(16).padStart(24, '0')}`),
});

/** A file's text as a list, for writePlan. */
function collect(): { out: { write(t: string): Promise<void>; end(): Promise<void> }; text(): string } {
  const parts: string[] = [];
  return { out: { write: async (t) => void parts.push(t), end: async () => undefined }, text: () => parts.join('') };
}

async function written(h: PlanHeader, items: PlanItem[]): Promise<string> {
  const c = collect();
  expect(await writePlan(c.out, h, items)).toEqual({ count: items.length, needsRoster: items.filter((i) => i.needsRoster).length });
  return c.text();
}

async function all(plan: PlanFile): Promise<PlanItem[]> {
  const out: PlanItem[] = [];
  for await (const i of plan.items()) out.push(i);
  return out;
}

function file(text: string): string {
  const f = path.join(tempDir(), 'plan.json');
  writeFileSync(f, text);
  return f;
}

describe('remediation plan files: written and read an item at a time', () => {
  const cases: [string, PlanHeader, PlanItem[]][] = [
    ['no items', header(), []],
    ['one item', header(), [item(1)]],
    ['several, a null subject', header(), [item(1), item(2, 1, null), item(3, 40)]],
    ['tag with a keyword', header({ action: 'tag', to: undefined, keyword: '$PHI' }), [item(4)]],
    ['delete', header({ action: 'delete', to: undefined }), [item(5), item(6)]],
    ['non-ASCII subjects', header(), [item(7, 2, 'Überweisung • Ärztin 📎 ••••'), item(8, 2, '"quoted" \\ back\nslash\t')]],
    ['messages needing the roster', header(), [{ ...item(9), needsRoster: true }, item(10), { ...item(11), needsRoster: true }]],
  ];

  it.each(cases)('%s: the bytes of JSON.stringify(plan, null, 2), and read back the same', async (_name, h, items) => {
    const clean = JSON.parse(JSON.stringify(h)) as PlanHeader;
    const text = await written(clean, items);
    const whole: Plan = { ...clean, items };
    expect(text).toBe(`${JSON.stringify(whole, null, 2)}\n`);
    const plan = await openPlan(file(text));
    expect(plan.header).toEqual(clean);
    expect(plan.count).toBe(items.length);
    expect(plan.needsRoster).toBe(items.filter((i) => i.needsRoster).length);
    expect(await all(plan)).toEqual(items);
  });

  it('any JSON layout of a plan reads the same: compact, keys reordered, CRLF, characters split across read pieces', async () => {
    // Subjects of multi-byte characters long enough that some fall across the 64 KB pieces.
    const items = Array.from({ length: 400 }, (_, n) => item(n, 5, `${'Ä📎'.repeat(60)} ${n}`));
    const h = header();
    const compact = JSON.stringify({ items, ...h });
    const reordered = JSON.stringify({ action: h.action, items: items.map((i) => Object.fromEntries(Object.entries(i).reverse())), run: h.run, to: h.to, version: 1, createdAt: h.createdAt, type: h.type });
    const crlf = JSON.stringify({ ...h, items }, null, 4).replaceAll('\n', '\r\n');
    for (const text of [compact, reordered, crlf, `\n\n${compact}\n\n`]) {
      const plan = await openPlan(file(text));
      expect(plan.header).toEqual(h);
      expect(plan.count).toBe(items.length);
      expect(await all(plan)).toEqual(items);
    }
  });

  it('--mailbox: only those mailboxes are counted and handed out', async () => {
    const items = Array.from({ length: 12 }, (_, n) => item(n));
    const f = file(await written(header(), items));
    const intake = await openPlan(f, ['intake']);
    expect(intake.count).toBe(4);
    expect((await all(intake)).map((i) => i.messageId)).toEqual(items.filter((i) => i.mailbox === 'intake').map((i) => i.messageId));
    expect((await openPlan(f, [])).count).toBe(12);
  });

  const good = `${JSON.stringify({ ...header(), items: [item(1), item(2), item(3)] }, null, 2)}\n`;
  const refused: [string, string, RegExp][] = [
    ['empty', '', /not JSON/],
    ['not JSON', 'plan: yes\n', /not JSON/],
    ['cut short (the last item half written)', good.slice(0, good.lastIndexOf('"fingerprints"')), /not JSON/],
    ['more after the plan', `${good}{"type":"phi-scan-remediation-plan"}\n`, /not JSON/],
    ['an item without fingerprints', good.replace(/("messageId": "<m3@test.example>",[\s\S]*?)"fingerprints": \[[^\]]*\]/, '$1"fingerprints": []'), /items\.2\.fingerprints/],
    ['an item with a field of its own', good.replace('"folder": "INBOX",', '"folder": "INBOX", "raw": "x",'), /items\.0/],
    ['items not a list', JSON.stringify({ ...header(), items: { a: item(1) } }), /items: expected an array/],
    ['no action', JSON.stringify({ ...header(), action: undefined, items: [item(1)] }), /action/],
    ['another kind of file', JSON.stringify({ ...header(), type: 'phi-scan-report', items: [item(1)] }), /type/],
    ['another version', JSON.stringify({ ...header(), version: 2, items: [item(1)] }), /version/],
    ['a keyword that is not an IMAP atom', JSON.stringify({ ...header({ action: 'tag', to: undefined, keyword: 'two words' }), items: [item(1)] }), /keyword/],
  ];

  it.each(refused)('refused before any item is handed out: %s', async (_name, text, why) => {
    await expect(openPlan(file(text))).rejects.toThrow(why);
  });

  it('a file missing, or changed between the check and the reading of its items, is refused', async () => {
    await expect(openPlan(path.join(tempDir(), 'none.json'))).rejects.toThrow(/cannot read \(ENOENT\)/);
    const f = file(good);
    const plan = await openPlan(f);
    appendFileSync(f, ' ');
    await expect(all(plan)).rejects.toThrow(/changed since it was checked/);
    const again = await openPlan(f);
    utimesSync(f, new Date(), new Date(Date.now() + 5_000));
    await expect(all(again)).rejects.toThrow(/changed since it was checked/);
    // Read as checked: every item.
    expect((await all(await openPlan(f))).length).toBe(3);
    // A plan this process wrote is not read through to be checked, but it is refused the same once changed.
    const mine = await writtenPlan(f, header(), { count: 3, needsRoster: 0 });
    expect((await all(mine)).map((i) => i.messageId)).toEqual(['<m1@test.example>', '<m2@test.example>', '<m3@test.example>']);
    appendFileSync(f, ' ');
    await expect(all(mine)).rejects.toThrow(/changed since it was checked: nothing more is acted on/);
    expect(readFileSync(f, 'utf8').trim()).toBe(good.trim());
  });

  it('a plan of ~70 MB is read holding one item at a time: the heap stays within 48 MB of where it started', { timeout: 120_000 }, async () => {
    const items = (function* () {
      for (let n = 0; n < 20_000; n++) yield item(n, 100);
    })();
    const f = path.join(tempDir(), 'large.json');
    const parts: string[] = [];
    let size = 0;
    await writePlan(
      {
        write: async (t) => {
          parts.push(t);
          size += t.length;
          if (parts.length >= 64) appendFileSync(f, parts.splice(0).join(''));
        },
        end: async () => undefined,
      },
      header(),
      items,
    );
    appendFileSync(f, parts.join(''));
    expect(size).toBeGreaterThan(60_000_000);
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const plan = await openPlan(f);
    let seen = 0;
    let fingerprints = 0;
    for await (const i of plan.items()) {
      seen++;
      fingerprints += i.fingerprints.length;
      if (seen % 500 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(plan.count).toBe(20_000);
    expect(seen).toBe(20_000);
    expect(fingerprints).toBe(2_000_000);
    // Held whole, the text alone is ~70 MB and its parsed items several times that.
    expect(peak - base).toBeLessThan(48 * 1024 * 1024);
  });
});
