/**
 * The picture follows the mailbox: a full scan marks what it no longer finds as gone (a
 * --since-last scan does not), and `remediate --status` counts remaining / quarantined / resolved;
 * csv carries the same progress (a column of the list, and `--status --format csv`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

function mboxOf(ids: string[]): string {
  const body: Record<string, string> = { a1: 'Patient SSN: 489-36-8350 for the claim.', a2: 'Lunch on Friday?', a3: 'Member SSN 512-84-3921 on file.' };
  return ids
    .map((id) => `From clinic@example.org Mon Mar  4 09:15:00 2024\nFrom: clinic@example.org\nSubject: ${id}\nMessage-ID: <${id}@test.example>\nDate: Mon, 4 Mar 2024 09:15:00 +0000\n\n${body[id]}\n\n`)
    .join('');
}

describe('remediate --status and messages gone at the next full scan', () => {
  it('remaining → quarantined after --apply → resolved once a full scan no longer finds it; --since-last marks nothing gone', { timeout: 300_000 }, async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'billing.mbox');
    writeFileSync(mbox, mboxOf(['a1', 'a2', 'a3']));
    const env = { PHI_SCAN_STATE: tempDir() };
    const status = async (): Promise<Record<string, unknown>[]> => {
      const r = await runCli(['remediate', '--status'], { env });
      expect(r.code, r.stderr).toBe(0);
      return jsonLines(r.stdout).map(({ source: _s, ...rest }) => rest);
    };
    expect((await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env })).code).toBe(1);
    expect(await status()).toEqual([{ type: 'remediation-status', mailbox: 'billing', remaining: 2, quarantined: 0, tagged: 0, resolved: 0 }]);

    const applied = await runCli(['remediate', '--action', 'move', '--to', path.join(dir, 'out'), '--apply', '--log', path.join(dir, 'audit.jsonl')], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(await status()).toEqual([{ type: 'remediation-status', mailbox: 'billing', remaining: 0, quarantined: 2, tagged: 0, resolved: 0 }]);

    // The owner deletes a1 from the archive: a --since-last scan says nothing about deletions...
    writeFileSync(mbox, mboxOf(['a2', 'a3']));
    await runCli(['scan', '--since-last', `mbox:${mbox}`, '--format', 'jsonl'], { env });
    expect(await status()).toEqual([{ type: 'remediation-status', mailbox: 'billing', remaining: 0, quarantined: 2, tagged: 0, resolved: 0 }]);
    // ...a full scan of the folder does: a1 is gone, resolved.
    await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env });
    expect(await status()).toEqual([{ type: 'remediation-status', mailbox: 'billing', remaining: 0, quarantined: 1, tagged: 0, resolved: 1 }]);
    // Back again (restored from a backup): no longer gone.
    writeFileSync(mbox, mboxOf(['a1', 'a2', 'a3']));
    await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env });
    expect(await status()).toEqual([{ type: 'remediation-status', mailbox: 'billing', remaining: 0, quarantined: 2, tagged: 0, resolved: 0 }]);
  });

  it('csv carries the progress: the list says per message remaining / quarantined, remediate --status --format csv per mailbox (resolved included), the same figures as --status', { timeout: 300_000 }, async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'billing.mbox');
    writeFileSync(mbox, mboxOf(['a1', 'a2', 'a3']));
    const env = { PHI_SCAN_STATE: tempDir() };
    const cli = async (args: string[], code: number): Promise<string> => {
      const r = await runCli(args, { env });
      expect(r.code, r.stderr).toBe(code);
      return r.stdout;
    };
    /** The csv list: Message-ID → its remediation cell (the header checked on the way). */
    const listed = async (): Promise<Record<string, string>> => {
      const [header, ...rows] = (await cli(['report', '--format', 'csv'], 0)).trim().split('\r\n');
      const cols = (header ?? '').split(',');
      expect(cols.at(-1)).toBe('remediation');
      return Object.fromEntries(rows.map((l) => l.split(',')).map((c) => [c[cols.indexOf('messageId')], c[cols.indexOf('remediation')]]));
    };
    const progressCsv = async (): Promise<string[]> => (await cli(['remediate', '--status', '--format', 'csv'], 0)).trim().split('\r\n');
    const progressJson = async (): Promise<string> => {
      const [r] = jsonLines(await cli(['remediate', '--status'], 0)) as { remaining: number; quarantined: number; tagged: number; resolved: number }[];
      return `${r?.remaining},${r?.quarantined},${r?.tagged},${r?.resolved}`;
    };
    const spec = `mbox:${mbox}`;

    await cli(['scan', spec, '--format', 'jsonl'], 1);
    expect(await listed()).toEqual({ '<a1@test.example>': 'remaining', '<a3@test.example>': 'remaining' });
    expect(await progressCsv()).toEqual(['source,mailbox,remaining,quarantined,tagged,resolved', `${spec},billing,2,0,0,0`]);

    // A reviewed plan keeping a1 only, applied: a1 is quarantined (copied out of the archive).
    const planFile = path.join(dir, 'plan.json');
    await cli(['remediate', '--action', 'move', '--to', path.join(dir, 'out'), '--plan-out', planFile], 0);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as { items: { messageId: string }[] };
    writeFileSync(planFile, JSON.stringify({ ...plan, items: plan.items.filter((i) => i.messageId === '<a1@test.example>') }));
    await cli(['remediate', '--plan', planFile, '--apply', '--log', path.join(dir, 'audit.jsonl')], 0);
    expect(await listed()).toEqual({ '<a1@test.example>': 'quarantined', '<a3@test.example>': 'remaining' });
    expect(await progressCsv()).toEqual(['source,mailbox,remaining,quarantined,tagged,resolved', `${spec},billing,1,1,0,0`]);
    expect((await progressCsv())[1]?.endsWith(await progressJson())).toBe(true);

    // The clean copy replaces the archive: the next full scan no longer finds a1: resolved, out of the list.
    writeFileSync(mbox, mboxOf(['a2', 'a3']));
    await cli(['scan', spec, '--format', 'jsonl'], 1);
    expect(await listed()).toEqual({ '<a3@test.example>': 'remaining' });
    expect(await progressCsv()).toEqual(['source,mailbox,remaining,quarantined,tagged,resolved', `${spec},billing,1,0,0,1`]);
    expect((await progressCsv())[1]?.endsWith(await progressJson())).toBe(true);
    // --format belongs to --status.
    await cli(['remediate', '--action', 'move', '--to', path.join(dir, 'out'), '--format', 'csv'], 2);
  });

  it('a killed run does not stay running forever: the next scan marks it abandoned', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'billing.mbox');
    writeFileSync(mbox, mboxOf(['a1', 'a2']));
    const state = tempDir();
    const env = { PHI_SCAN_STATE: state };
    await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env });
    // What kill -9 leaves: the run never finished.
    const db = new Database(path.join(state, 'state.db'));
    db.prepare("UPDATE runs SET status = 'running', finished_at = NULL WHERE id = 1").run();
    db.close();
    const statuses = async (): Promise<unknown[]> => jsonLines((await runCli(['runs', '--format', 'jsonl'], { env })).stdout).map((r) => [r.id, r.status]);
    expect(await statuses()).toEqual([[1, 'running']]);
    await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env });
    expect(await statuses()).toEqual([
      [1, 'abandoned'],
      [2, 'complete'],
    ]);
    // The picture as of the killed run still says it did not finish.
    const asOf = jsonLines((await runCli(['report', '--run', '1'], { env })).stdout);
    expect(asOf.at(-1)).toMatchObject({ type: 'run', run: 1, status: 'unfinished' });
  });
});
