/**
 * Resuming after a run killed between an `intent` and acting: the message is verified again and
 * acted on once, and the earlier intent gets its outcome, so `--verify-log` shows no open intent.
 * (The real kill -9 against Dovecot is in imap.test.ts; where the kill lands there depends on the
 * machine's speed, so both orders are pinned here with a target that records what it is asked.)
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { inlineScanner } from '../../src/pipeline/scanner.js';
import { AuditLog, verifyLog } from '../../src/remediate/audit.js';
import type { Plan } from '../../src/remediate/plan.js';
import { planFileOf } from '../helpers/plan.js';
import { runPlan, type StepRecord } from '../../src/remediate/run.js';
import type { RemediationTarget, Verdict } from '../../src/remediate/target.js';
import { tempDir } from '../helpers/cli.js';

const key = Buffer.from('resume-test-key-0123456789abcdef');
const item = (n: number): Plan['items'][number] => ({
  source: 'imaps://mail.example/',
  mailbox: 'clinic',
  folder: 'INBOX',
  locator: `INBOX:7:${n}`,
  messageId: `<m${n}@test.example>`,
  maskedSubject: null,
  categories: ['ssn'],
  fingerprints: [`f${n}`],
});
const plan = planFileOf({ type: 'phi-scan-remediation-plan', version: 1, createdAt: '2026-12-06T00:00:00Z', run: 1, action: 'move', to: 'PHI-Quarantine', items: [item(1), item(2), item(3)] });

/** A mailbox in memory: where each planned message is now. */
function mailbox(moved: Set<string>): { target: RemediationTarget; acted: string[] } {
  const acted: string[] = [];
  const target: RemediationTarget = {
    verify: async (i): Promise<Verdict> => (moved.has(i.locator) ? { status: 'already-done', to: { folder: 'PHI-Quarantine' } } : { status: 'ok' }),
    act: async (i) => {
      acted.push(i.locator);
      moved.add(i.locator);
      return { from: { folder: i.folder, locator: i.locator }, to: { folder: 'PHI-Quarantine' } };
    },
    close: async () => undefined,
  };
  return { target, acted };
}

describe('remediate: resuming a run stopped between intent and action', () => {
  const engine = createEngine([], key);
  const ctx = { scanner: inlineScanner(engine, { minConfidence: 'low', maxNestingDepth: 5 }), plan, apply: true };

  it.each([
    ['before acting (the message is still in INBOX)', false, ['INBOX:7:2', 'INBOX:7:3']],
    ['after acting, before its outcome was logged (the message is in quarantine)', true, ['INBOX:7:3']],
  ])('killed %s: acted on once, no open intent left', async (_when, actedBeforeKill, expectActed) => {
    const file = path.join(tempDir(), 'audit.jsonl');
    const moved = new Set<string>(['INBOX:7:1']);
    // The killed run: item 1 done, item 2 begun.
    const killed = await AuditLog.open(file, key);
    killed.append({ event: 'start', action: 'move', reason: 'plan of run 1: 3 messages' });
    const i1 = killed.append({ event: 'intent', action: 'move', source: item(1).source, mailbox: 'clinic', messageId: item(1).messageId, fingerprints: item(1).fingerprints, from: { folder: 'INBOX', locator: 'INBOX:7:1' } });
    killed.append({ event: 'done', action: 'move', source: item(1).source, mailbox: 'clinic', messageId: item(1).messageId, fingerprints: item(1).fingerprints, from: { folder: 'INBOX', locator: 'INBOX:7:1' }, to: { folder: 'PHI-Quarantine' }, refers: i1 });
    killed.append({ event: 'intent', action: 'move', source: item(2).source, mailbox: 'clinic', messageId: item(2).messageId, fingerprints: item(2).fingerprints, from: { folder: 'INBOX', locator: 'INBOX:7:2' } });
    killed.close();
    if (actedBeforeKill) moved.add('INBOX:7:2');
    expect((await verifyLog(file, key)).openIntents.length).toBe(1);

    const { target, acted } = mailbox(moved);
    const log = await AuditLog.open(file, key);
    const steps: StepRecord[] = [];
    await runPlan(plan, ctx, () => target, log, (s) => steps.push(s));
    log.close();

    expect(acted).toEqual(expectActed);
    expect(steps.map((s) => s.status)).toEqual(['already-done', actedBeforeKill ? 'already-done' : 'done', 'done']);
    const v = await verifyLog(file, key);
    expect(v.ok, v.problems.join('; ')).toBe(true);
    expect(v.openIntents).toEqual([]);
    // One `done` per message in the whole log: nothing acted on twice.
    const done = v.entries.filter((e) => e.event === 'done').map((e) => e.messageId);
    expect(done.sort()).toEqual(['<m1@test.example>', '<m2@test.example>', '<m3@test.example>']);
  });
});
