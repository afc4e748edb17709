/**
 * The audit log is checked as a stream of lines: a log of a large plan (every entry lists the
 * fingerprints acted on) is verified, appended to and undone without holding its text or its
 * fingerprints; a log broken on every line lists a bounded number of problems.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, verifyLog } from '../../src/remediate/audit.js';
import { tempDir } from '../helpers/cli.js';

const key = Buffer.from('audit-log-test-key-0123456789abc');
const fingerprints = (n: number, count: number): string[] => Array.from({ length: count }, (_, i) => `${n.toString(16).padStart(8, '0')}${i.toString(16).padStart(24, '0')}`);

describe('remediation audit log: verified line by line', () => {
  it('a log of ~40 MB (300 entries of 4,000 fingerprints) verifies within 24 MB of heap; entries keep no fingerprints; appending chains on', { timeout: 120_000 }, async () => {
    const file = path.join(tempDir(), 'audit.jsonl');
    const log = await AuditLog.open(file, key);
    log.append({ event: 'start', action: 'move', reason: 'plan of run 1: 150 messages' });
    for (let n = 1; n <= 150; n++) {
      const from = { folder: 'INBOX', locator: `/a.mbox@${n * 100}` };
      const intent = log.append({ event: 'intent', action: 'move', source: 'mbox:/a.mbox', mailbox: 'a', messageId: `<m${n}@test.example>`, from, fingerprints: fingerprints(n, 4_000) });
      log.append({ event: 'done', action: 'move', source: 'mbox:/a.mbox', mailbox: 'a', messageId: `<m${n}@test.example>`, from, to: { folder: 'quarantine' }, fingerprints: fingerprints(n, 4_000), refers: intent });
    }
    log.append({ event: 'end', action: 'move', counts: { done: 150 } });
    log.close();
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBeGreaterThan(40_000_000);
    const lastHash = (JSON.parse(text.trimEnd().split('\n').at(-1) as string) as { hash: string }).hash;

    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const v = await verifyLog(file, key);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    expect(v.ok, v.problems.join('; ')).toBe(true);
    expect(v.entries.length).toBe(302);
    expect(v.entries.some((e) => 'fingerprints' in e || 'hash' in e || 'prev' in e)).toBe(false);
    expect(v.entries.filter((e) => e.event === 'done').length).toBe(150);
    expect(v.openIntents).toEqual([]);
    expect(v.tip).toEqual({ seq: 302, hash: lastHash });
    // Read whole, the text alone is ~40 MB (held as one string: ~50 MB of heap).
    expect(peak - base).toBeLessThan(24 * 1024 * 1024);

    // Opened again: the next entry chains to the last one, and the whole log still verifies.
    const again = await AuditLog.open(file, key);
    expect(again.earlier.length).toBe(302);
    again.append({ event: 'start', action: 'undo' });
    again.close();
    const after = await verifyLog(file, key);
    expect(after.ok, after.problems.join('; ')).toBe(true);
    expect(after.tip.seq).toBe(303);
    expect(after.unendedSessions.length).toBe(1);
  });

  it('a last line cut short (a killed write) is a problem; a log broken on every line lists 100 problems and how many more', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.open(file, key);
    log.append({ event: 'start', action: 'move' });
    log.append({ event: 'end', action: 'move' });
    log.close();
    const good = readFileSync(file, 'utf8');
    const cut = path.join(dir, 'cut.jsonl');
    writeFileSync(cut, good);
    appendFileSync(cut, good.split('\n')[0]?.slice(0, 40) ?? '');
    const v = await verifyLog(cut, key);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual(['line 3: not an audit entry (edited or truncated)']);

    const garbage = path.join(dir, 'garbage.jsonl');
    writeFileSync(garbage, 'not an entry\n'.repeat(250));
    const g = await verifyLog(garbage, key);
    expect(g.ok).toBe(false);
    expect(g.problems.length).toBe(101);
    expect(g.problems[99]).toBe('line 100: not an audit entry (edited or truncated)');
    expect(g.problems[100]).toBe('… and 150 more problems');
    await expect(verifyLog(path.join(dir, 'none.jsonl'), key)).rejects.toThrow(/cannot read the audit log \(ENOENT\)/);
  });
});
