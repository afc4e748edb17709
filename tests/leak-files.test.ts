/**
 * Hardening "never leak", items 12–14 and 16: the fingerprint key is validated, masks of short
 * values show at most half, everything phi-scan writes is private (0600, state folder 0700) and
 * never through a symbolic link, and a Redis password on the command line is refused.
 */
import { chmodSync, existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/engine.js';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import { runCli, tempDir } from './helpers/cli.js';

const MBOX = [
  'From a@clinic.example Mon Jan  1 00:00:00 2024',
  'From: a@clinic.example',
  'Subject: claim',
  'Message-ID: <files-1@clinic.example>',
  'Date: Mon, 01 Jan 2024 00:00:00 +0000',
  '',
  'Patient SSN 489-36-8350 for the claim.',
  '',
].join('\n');

function mboxSource(): string {
  const file = path.join(tempDir(), 'box.mbox');
  writeFileSync(file, MBOX);
  return `mbox:${file}`;
}

const mode = (p: string): number => statSync(p).mode & 0o777;

describe('item 12: the fingerprint key is validated', () => {
  it.each([
    ['empty', ''],
    ['base64 where hex is expected', 'q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=\n'],
    ['hex, too short', 'abcdef0123456789\n'],
    ['hex with an odd digit', `${'ab'.repeat(32)}c\n`],
  ])('a key file that is %s is refused with exit 2', async (_what, text) => {
    const state = tempDir('phi-state-');
    writeFileSync(path.join(state, 'fingerprint.key'), text, { mode: 0o600 });
    const r = await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_KEY: undefined, PHI_SCAN_STATE: state } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fingerprint\.key/);
    expect(r.stdout).toBe('');
  });

  it('a valid key file (64 hex digits) is used, and a missing one is generated', async () => {
    const state = tempDir('phi-state-');
    writeFileSync(path.join(state, 'fingerprint.key'), `${'0123456789abcdef'.repeat(4)}\n`, { mode: 0o600 });
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_KEY: undefined, PHI_SCAN_STATE: state } })).code).toBe(1);
    const fresh = path.join(tempDir('phi-state-'), 'new');
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_KEY: undefined, PHI_SCAN_STATE: fresh } })).code).toBe(1);
    expect(readFileSync(path.join(fresh, 'fingerprint.key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it('a short PHI_SCAN_KEY is refused with exit 2', async () => {
    const r = await runCli(['scan', mboxSource()], { env: { PHI_SCAN_KEY: 'short' } });
    expect(r.code).toBe(2);
  });
});

describe('item 13: masks of short values show at most half, never more than 4', () => {
  it.each([
    ['MRN: 77321', '•••21'],
    ['RRB claim A512843', '••••843'],
    ['SSN 489-36-8350', '•••-••-8350'],
  ])('%s → %s', async (text, masked) => {
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const found = createEngine(rules, Buffer.from('a test key of enough length')).scan({ location: 'body', item: 'body', format: 'text', text });
    expect(found.map((h) => h.finding.masked)).toEqual([masked]);
    for (const h of found) {
      const shown = [...h.finding.masked].filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
      const total = [...h.finding.masked].filter((c) => /[\p{L}\p{N}•]/u.test(c)).length;
      expect(shown).toBeLessThanOrEqual(Math.min(4, Math.floor(total / 2)));
    }
  });
});

describe('item 14: files phi-scan writes', () => {
  it('--out refuses a symbolic link and leaves its target alone', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'precious.txt');
    writeFileSync(target, 'keep me\n', { mode: 0o644 });
    const link = path.join(dir, 'report.jsonl');
    symlinkSync(target, link);
    const r = await runCli(['scan', mboxSource(), '--format', 'jsonl', '--out', link]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('--out of scan and report: a new file is 0600, an existing 0644 file becomes 0600', async () => {
    const dir = tempDir();
    const state = tempDir('phi-state-');
    const fresh = path.join(dir, 'new.jsonl');
    const existing = path.join(dir, 'old.jsonl');
    writeFileSync(existing, 'x'.repeat(10_000), { mode: 0o644 });
    expect(mode(existing)).toBe(0o644);
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl', '--out', fresh], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl', '--out', existing], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    expect(mode(fresh)).toBe(0o600);
    expect(mode(existing)).toBe(0o600);
    expect(readFileSync(existing, 'utf8')).not.toContain('xxxx'); // truncated, not appended to
    const report = path.join(dir, 'report.json');
    writeFileSync(report, '', { mode: 0o644 });
    expect((await runCli(['report', '--format', 'json', '--out', report], { env: { PHI_SCAN_STATE: state } })).code).toBe(0);
    expect(mode(report)).toBe(0o600);
  });

  it('the state folder is 0700; state.db and its WAL and SHM are 0600', async () => {
    const state = path.join(tempDir('phi-state-'), 'fresh', 'state');
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_KEY: undefined, PHI_SCAN_STATE: state } })).code).toBe(1);
    expect(mode(state)).toBe(0o700);
    for (const f of ['state.db', 'fingerprint.key']) expect(mode(path.join(state, f)), f).toBe(0o600);
    for (const f of ['state.db-wal', 'state.db-shm']) if (existsSync(path.join(state, f))) expect(mode(path.join(state, f)), f).toBe(0o600);
  });

  it('an existing 0644 state.db (an earlier version made it) is tightened to 0600', async () => {
    const state = tempDir('phi-state-');
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    chmodSync(path.join(state, 'state.db'), 0o644);
    expect((await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } })).code).toBe(1);
    expect(mode(path.join(state, 'state.db'))).toBe(0o600);
  });

  it('a state.db that is a symbolic link is refused', async () => {
    const state = tempDir('phi-state-');
    const elsewhere = path.join(tempDir(), 'elsewhere.db');
    writeFileSync(elsewhere, '');
    symlinkSync(elsewhere, path.join(state, 'state.db'));
    const r = await runCli(['scan', mboxSource(), '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(r.code).toBe(2);
    expect(readFileSync(elsewhere, 'utf8')).toBe('');
  });
});

describe('item 16: a Redis password on the command line is refused', () => {
  const secret = 'hunter2-not-in-argv';
  it.each([
    ['scan', ['scan', '--queue', `redis://:${secret}@127.0.0.1:1/0`, 'mbox:/nonexistent']],
    ['scan (user and password)', ['scan', '--queue', `rediss://default:${secret}@127.0.0.1:1`, 'mbox:/nonexistent']],
    ['worker', ['worker', '--queue', `redis://:${secret}@127.0.0.1:1`]],
  ])('%s --queue redis://:PASSWORD@host exits 2 and never echoes it', async (_what, args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/password in the URL is not accepted.*PHI_SCAN_REDIS_URL/);
    expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
