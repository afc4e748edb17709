/**
 * The plan: `remediate --action … [--run N] [--mailbox NAME]…` builds it from the state picture
 * as of that run, only for those mailboxes; a dry run writes it (0600) and prints one would-act
 * line per planned message, exactly the plan's items; `--plan FILE --mailbox NAME` narrows a
 * reviewed plan. No raw value in the plan or the output.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

const SSNS = ['489-36-8350', '512-84-3921', '401-52-7713'];
const BODY: Record<string, string> = {
  b1: `Patient SSN: ${SSNS[0]} for the claim.`,
  b2: 'Lunch on Friday?',
  b3: `Member SSN ${SSNS[1]} on file.`,
  i1: `Patient SSN: ${SSNS[2]} for the referral.`,
};

function mboxOf(ids: string[]): string {
  return ids
    .map((id) => `From clinic@example.org Mon Mar  4 09:15:00 2024\nFrom: clinic@example.org\nSubject: ${id}\nMessage-ID: <${id}@test.example>\nDate: Mon, 4 Mar 2024 09:15:00 +0000\n\n${BODY[id]}\n\n`)
    .join('');
}

describe('remediate: the plan as of a run, for chosen mailboxes', () => {
  it('--run N plans from the picture as of run N; --mailbox keeps those mailboxes; the dry run prints exactly the plan and changes nothing', { timeout: 300_000 }, async () => {
    const dir = tempDir();
    const billing = path.join(dir, 'billing.mbox');
    const intake = path.join(dir, 'intake.mbox');
    writeFileSync(billing, mboxOf(['b1', 'b2']));
    writeFileSync(intake, mboxOf(['i1']));
    const env = { PHI_SCAN_STATE: tempDir() };
    const outputs: string[] = [];
    const cli = async (args: string[], code: number): Promise<string> => {
      const r = await runCli(args, { env });
      expect(r.code, r.stderr).toBe(code);
      outputs.push(r.stdout, r.stderr);
      return r.stdout;
    };
    await cli(['scan', `mbox:${billing}`, `mbox:${intake}`, '--format', 'jsonl'], 1);
    // Run 2: billing gains b3.
    writeFileSync(billing, mboxOf(['b1', 'b2', 'b3']));
    await cli(['scan', `mbox:${billing}`, '--format', 'jsonl'], 1);
    const before = [readFileSync(billing), readFileSync(intake)];

    type Plan = { run: number; action: string; items: { mailbox: string; messageId: string; fingerprints: string[] }[] };
    const plan = async (file: string, args: string[]): Promise<{ plan: Plan; steps: Record<string, unknown>[] }> => {
      const stdout = await cli(['remediate', '--action', 'move', '--to', path.join(dir, 'out'), '--plan-out', file, ...args], 0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      return { plan: JSON.parse(readFileSync(file, 'utf8')) as Plan, steps: jsonLines(stdout) };
    };
    const ids = (p: Plan): string[] => p.items.map((i) => `${i.mailbox} ${i.messageId}`).sort();

    const asOf1 = await plan(path.join(dir, 'p1.json'), ['--run', '1', '--mailbox', 'billing']);
    expect(asOf1.plan.run).toBe(1);
    expect(ids(asOf1.plan)).toEqual(['billing <b1@test.example>']);
    // The dry run says exactly what the plan holds, one would-act line each.
    expect(asOf1.steps.map((s) => [s.status, `${String(s.mailbox)} ${String(s.messageId)}`])).toEqual([['would-act', 'billing <b1@test.example>']]);

    const latest = await plan(path.join(dir, 'p2.json'), []);
    expect(latest.plan.run).toBe(2);
    expect(ids(latest.plan)).toEqual(['billing <b1@test.example>', 'billing <b3@test.example>', 'intake <i1@test.example>']);
    expect(latest.plan.items.every((i) => i.fingerprints.length > 0)).toBe(true);
    expect(latest.steps.map((s) => s.status)).toEqual(['would-act', 'would-act', 'would-act']);

    const onlyIntake = await plan(path.join(dir, 'p3.json'), ['--mailbox', 'intake']);
    expect(ids(onlyIntake.plan)).toEqual(['intake <i1@test.example>']);

    // A reviewed plan narrowed at --plan time: only intake's item is considered.
    const narrowed = jsonLines(await cli(['remediate', '--plan', path.join(dir, 'p2.json'), '--mailbox', 'intake'], 0));
    expect(narrowed.map((s) => [s.status, s.messageId])).toEqual([['would-act', '<i1@test.example>']]);

    // A run that does not exist: a usage error.
    await cli(['remediate', '--action', 'move', '--run', '9'], 2);

    // Dry runs change nothing and write no copy.
    expect([readFileSync(billing), readFileSync(intake)]).toEqual(before);
    expect(() => statSync(path.join(dir, 'out'))).toThrow();
    for (const f of ['p1.json', 'p2.json', 'p3.json']) outputs.push(readFileSync(path.join(dir, f), 'utf8'));
    for (const t of outputs) for (const ssn of SSNS) expect(t).not.toContain(ssn);
  });
});
