/**
 * remediate on archives: the source is never modified; `move --to DIR` writes a clean copy (every
 * message but the planned ones) and a quarantine copy (those), checked message by message.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitMbox } from '../../src/sources/mbox-split.js';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

const SSNS = ['489-36-8350', '512-84-3921'];

function message(id: string, body: string): string {
  return `From: clinic@example.org\nTo: billing@example.org\nSubject: ${id}\nMessage-ID: <${id}@test.example>\nDate: Mon, 4 Mar 2024 09:15:00 +0000\n\n${body}\n`;
}
const BODIES: Record<string, string> = {
  a1: `Patient SSN: ${SSNS[0]} for the claim.`,
  a2: 'Lunch on Friday?',
  a3: `Member SSN ${SSNS[1]} on file.`,
  a4: '>From the desk of the manager: nothing to see.\n>>From here on, quoted.',
};
const PHI = new Set(['a1', 'a3']);

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function mboxMessages(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const raw = readFileSync(file);
  for await (const m of splitMbox(createReadStream(file) as AsyncIterable<Buffer>, { maxMessageBytes: 1 << 24 })) {
    const id = /Message-ID: <([^@]+)@/.exec(m.bytes.toString('latin1'))?.[1] as string;
    out.set(id, raw.subarray(m.offset, m.end));
  }
  return out;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

describe('remediate on archives: clean and quarantine copies, source untouched', () => {
  it('mbox: the clean copy holds the other messages byte for byte, the quarantine copy the planned ones; a second --apply does nothing new; undo has nothing to move back', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'billing.mbox');
    writeFileSync(mbox, Object.entries(BODIES).map(([id, body]) => `From clinic@example.org Mon Mar  4 09:15:00 2024\n${message(id, body)}\n`).join(''));
    const before = sha(readFileSync(mbox));
    const state = tempDir();
    const env = { PHI_SCAN_STATE: state };
    expect((await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env })).code).toBe(1);
    const out = path.join(dir, 'out');
    const dry = await runCli(['remediate', '--action', 'move', '--to', out], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(jsonLines(dry.stdout).map((s) => s.status)).toEqual(['would-act', 'would-act']);
    expect(existsSync(out)).toBe(false);

    const log = path.join(dir, 'audit.jsonl');
    const applied = await runCli(['remediate', '--action', 'move', '--to', out, '--apply', '--log', log], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(jsonLines(applied.stdout).map((s) => s.status)).toEqual(['done', 'done']);
    expect(sha(readFileSync(mbox))).toBe(before);
    const source = await mboxMessages(mbox);
    const cleanCopy = await mboxMessages(path.join(out, 'clean', 'billing.mbox'));
    const quarantine = await mboxMessages(path.join(out, 'quarantine', 'billing.mbox'));
    expect([...cleanCopy.keys()]).toEqual(['a2', 'a4']);
    expect([...quarantine.keys()]).toEqual(['a1', 'a3']);
    for (const [id, bytes] of [...cleanCopy, ...quarantine]) expect(bytes.equals(source.get(id) as Buffer), id).toBe(true);
    expect(statSync(path.join(out, 'quarantine', 'billing.mbox')).mode & 0o777).toBe(0o600);
    for (const t of [readFileSync(log, 'utf8'), applied.stdout, applied.stderr]) for (const s of SSNS) expect(t).not.toContain(s);
    expect(files(out).some((f) => f.endsWith('.partial'))).toBe(false);

    // The clean copy scans clean.
    const rescan = await runCli(['scan', `mbox:${path.join(out, 'clean', 'billing.mbox')}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir() } });
    expect(rescan.code).toBe(0);

    const again = await runCli(['remediate', '--action', 'move', '--to', out, '--apply', '--log', log], { env });
    expect(jsonLines(again.stdout).map((s) => s.status)).toEqual(['already-done', 'already-done']);
    const verified = await runCli(['remediate', '--verify-log', log], { env });
    expect(verified.code).toBe(0);

    // Undo: the source was never changed, so there is nothing to move back (said, per message);
    // the copies and the source stay as they are.
    const undone = await runCli(['remediate', '--undo', log, '--apply'], { env });
    expect(undone.code, undone.stderr).toBe(0);
    expect(jsonLines(undone.stdout).map((s) => [s.messageId, s.status, s.reason])).toEqual([
      ['<a3@test.example>', 'skipped', 'nothing to undo for this kind of source (its source was never changed)'],
      ['<a1@test.example>', 'skipped', 'nothing to undo for this kind of source (its source was never changed)'],
    ]);
    expect(sha(readFileSync(mbox))).toBe(before);
    expect([...(await mboxMessages(path.join(out, 'quarantine', 'billing.mbox'))).keys()]).toEqual(['a1', 'a3']);
  });

  it('mbox rewritten since the plan (a message put before the others): the planned offsets no longer start those messages; skipped, nothing written', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'billing.mbox');
    const entry = (id: string, body: string): string => `From clinic@example.org Mon Mar  4 09:15:00 2024\n${message(id, body)}\n`;
    writeFileSync(mbox, Object.entries(BODIES).map(([id, body]) => entry(id, body)).join(''));
    const env = { PHI_SCAN_STATE: tempDir() };
    expect((await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env })).code).toBe(1);
    const out = path.join(dir, 'out');
    const plan = path.join(dir, 'plan.json');
    const dry = await runCli(['remediate', '--action', 'move', '--to', out, '--plan-out', plan], { env });
    expect(jsonLines(dry.stdout).map((s) => s.status)).toEqual(['would-act', 'would-act']);
    writeFileSync(mbox, entry('a0', 'Prepended since the scan.') + readFileSync(mbox, 'latin1'), 'latin1');
    const applied = await runCli(['remediate', '--plan', plan, '--apply', '--log', path.join(dir, 'audit.jsonl')], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const steps = jsonLines(applied.stdout);
    expect(steps.map((s) => s.status)).toEqual(['skipped', 'skipped']);
    for (const s of steps) expect(String(s.reason)).toMatch(/^(gone: no message starts at this offset any more|changed: another message is at this place)/);
    expect(existsSync(out)).toBe(false);
  });

  it('Maildir: message files go to one copy or the other (cur/new/tmp kept); the source is untouched; tag and delete are refused', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const md = path.join(dir, 'Maildir');
    for (const d of ['cur', 'new', 'tmp', '.Sent/cur', '.Sent/new', '.Sent/tmp']) mkdirSync(path.join(md, d), { recursive: true });
    const placed: Record<string, string> = {
      a1: 'cur/1700000001.M1P1.host:2,S',
      a2: 'new/1700000002.M2P1.host',
      a3: '.Sent/cur/1700000003.M3P1.host:2,S',
      a4: '.Sent/cur/1700000004.M4P1.host:2,',
    };
    for (const [id, rel] of Object.entries(placed)) writeFileSync(path.join(md, rel), message(id, BODIES[id] as string));
    const before = files(md).map((f) => `${f} ${sha(readFileSync(path.join(md, f)))}`);
    const state = tempDir();
    const env = { PHI_SCAN_STATE: state };
    expect((await runCli(['scan', `maildir:${md}`, '--format', 'jsonl'], { env })).code).toBe(1);

    const refused = await runCli(['remediate', '--action', 'delete', '--apply', '--log', path.join(dir, 'refused.jsonl')], { env });
    expect(jsonLines(refused.stdout).map((s) => s.status)).toEqual(['skipped', 'skipped']);
    expect(String(jsonLines(refused.stdout)[0]?.reason)).toMatch(/archives are never modified/);

    const out = path.join(dir, 'out');
    const applied = await runCli(['remediate', '--action', 'move', '--to', out, '--apply', '--log', path.join(dir, 'audit.jsonl')], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(files(md).map((f) => `${f} ${sha(readFileSync(path.join(md, f)))}`)).toEqual(before);
    expect(files(path.join(out, 'clean'))).toEqual([placed.a4, placed.a2].sort());
    expect(files(path.join(out, 'quarantine'))).toEqual([placed.a3, placed.a1].sort());
    for (const [id, rel] of Object.entries(placed)) {
      const side = PHI.has(id) ? 'quarantine' : 'clean';
      expect(readFileSync(path.join(out, side, rel)).equals(readFileSync(path.join(md, rel))), id).toBe(true);
    }
    for (const side of ['clean', 'quarantine']) for (const d of ['cur', 'new', 'tmp', '.Sent/cur', '.Sent/new', '.Sent/tmp']) expect(existsSync(path.join(out, side, d)), `${side}/${d}`).toBe(true);
  });
  it('EML folder: each .eml file goes to the clean or the quarantine copy under its relative path, byte for byte; a file edited clean since the scan is skipped and stays clean; source untouched; again: nothing new', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const root = path.join(dir, 'export');
    mkdirSync(path.join(root, 'claims', '2024'), { recursive: true });
    const placed: Record<string, string> = {
      a1: 'a1.eml',
      a2: 'claims/a2.eml',
      a3: 'claims/2024/a3.eml',
      a4: 'claims/2024/a4.eml',
      a5: 'a5.eml',
    };
    const bodies: Record<string, string> = { ...BODIES, a5: `Patient SSN: ${SSNS[1]} again.` };
    for (const [id, rel] of Object.entries(placed)) writeFileSync(path.join(root, rel), message(id, bodies[id] as string));
    const state = tempDir();
    const env = { PHI_SCAN_STATE: state };
    expect((await runCli(['scan', `eml:${root}`, '--format', 'jsonl'], { env })).code).toBe(1);
    // The owner removes the SSN from a5 after the scan: re-verification skips it.
    writeFileSync(path.join(root, placed.a5 as string), message('a5', 'Patient SSN: on file, not in mail.'));
    const before = files(root).map((f) => `${f} ${sha(readFileSync(path.join(root, f)))}`);

    const out = path.join(dir, 'out');
    const log = path.join(dir, 'audit.jsonl');
    const applied = await runCli(['remediate', '--action', 'move', '--to', out, '--apply', '--log', log], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const steps = jsonLines(applied.stdout);
    expect(steps.map((x) => [x.messageId, x.status]).sort()).toEqual([
      ['<a1@test.example>', 'done'],
      ['<a3@test.example>', 'done'],
      ['<a5@test.example>', 'skipped'],
    ]);
    expect(String(steps.find((x) => x.messageId === '<a5@test.example>')?.reason)).toMatch(/no longer|changed/);
    expect(files(root).map((f) => `${f} ${sha(readFileSync(path.join(root, f)))}`)).toEqual(before);
    expect(files(path.join(out, 'quarantine'))).toEqual([placed.a1, placed.a3].sort());
    expect(files(path.join(out, 'clean'))).toEqual([placed.a2, placed.a4, placed.a5].sort());
    for (const [id, rel] of Object.entries(placed)) {
      const side = PHI.has(id) ? 'quarantine' : 'clean';
      expect(readFileSync(path.join(out, side, rel)).equals(readFileSync(path.join(root, rel))), id).toBe(true);
    }
    expect(files(out).some((f) => f.endsWith('.partial'))).toBe(false);
    for (const t of [readFileSync(log, 'utf8'), applied.stdout, applied.stderr]) for (const x of SSNS) expect(t).not.toContain(x);

    // The clean copy scans clean; the quarantine copy holds exactly the PHI messages.
    expect((await runCli(['scan', `eml:${path.join(out, 'clean')}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir() } })).code).toBe(0);
    const q = await runCli(['scan', `eml:${path.join(out, 'quarantine')}`, '--format', 'jsonl'], { env: { PHI_SCAN_STATE: tempDir() } });
    expect(q.code).toBe(1);
    expect(jsonLines(q.stdout).filter((r) => r.type === 'message').map((r) => r.messageId).sort()).toEqual(['<a1@test.example>', '<a3@test.example>']);

    const again = await runCli(['remediate', '--action', 'move', '--to', out, '--apply', '--log', log], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout).map((x) => x.status).sort()).toEqual(['already-done', 'already-done', 'skipped']);
    expect((await runCli(['remediate', '--verify-log', log], { env })).code).toBe(0);
  });
});
