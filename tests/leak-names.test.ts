/**
 * Hardening "never leak", items 9–11 and 15: identifiers where no rule looks — in archive member
 * names, a source's own path, a Content-Type, subjects spelled oddly (`SSN_512-…`, `ssn=…`,
 * full-width digits, a zero-width space) — and terminal control sequences in names. Every output
 * is searched for the planted raw values: stdout and stderr of every format, the --out files,
 * every `report` format, and the state database with its WAL and SHM.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVIL_NAME, LEAK_NEEDLES, ODD_SPELLINGS, writeLeakScenario } from '../fixtures/leak.js';
import { progressReporter } from '../src/session/progress.js';
import { createEngine } from '../src/engine/engine.js';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import { safeReason } from '../src/common/safe-reason.js';
import { jsonLines, runCli, tempDir, type CliResult } from './helpers/cli.js';

/** The scenario's raw values (item 11's spellings, the SSN in the paths, the zip member's contents). */
const NEEDLES = [...LEAK_NEEDLES, '489-36-8350', '489368350'];
const FORMATS = ['jsonl', 'json', 'csv', 'table', 'html'] as const;
/** Control characters but tab and line ends (ESC, BEL, ...), raw or as a JSON escape. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\\u00(?:0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])/i;

function leaks(text: string | Buffer): string[] {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return NEEDLES.filter((n) => buf.includes(Buffer.from(n, 'utf8')));
}

describe('no raw identifier in names, paths, error text or odd spellings', () => {
  let dir: string;
  let state: string;
  let sources: string[];
  const runs: Record<string, CliResult & { file?: string }> = {};

  beforeAll(async () => {
    dir = tempDir('phi-leak-');
    state = path.join(tempDir('phi-state-'), 'state');
    sources = writeLeakScenario(dir).sources;
    for (const format of FORMATS) {
      const out = path.join(dir, `report.${format}`);
      const toFile = await runCli(['scan', ...sources, '--format', format, '--min-confidence', 'low', '--out', out], { env: { PHI_SCAN_STATE: state } });
      runs[`scan ${format} --out`] = { ...toFile, file: readFileSync(out, 'utf8') };
      runs[`scan ${format}`] = await runCli(['scan', ...sources, '--format', format, '--min-confidence', 'low'], { env: { PHI_SCAN_STATE: state } });
    }
    for (const format of ['jsonl', 'json', 'csv', 'html']) runs[`report ${format}`] = await runCli(['report', '--format', format], { env: { PHI_SCAN_STATE: state } });
  }, 600_000);

  it('the needles are really in the scenario (names and contents), so the search can fail', () => {
    const all = sources.join('\n') + ODD_SPELLINGS.join('\n');
    for (const n of LEAK_NEEDLES.slice(0, 6)) expect(all, n).toContain(n);
    // PHI found; the data.bin no reader reads is `unsupported-attachment`, skipped by design (h/run's
    // severity): not a failure, so exit 1, not 3. Its error record is there all the same.
    expect(runs['scan jsonl']?.code).toBe(1);
    expect(jsonLines(runs['scan jsonl']?.stdout ?? '').filter((r) => r.type === 'error').map((r) => [r.code, r.severity])).toEqual([['unsupported-attachment', 'skipped']]);
  });

  it('every output of every format (stdout, stderr, --out) and every report holds none of them', () => {
    for (const [what, r] of Object.entries(runs)) {
      for (const text of [r.stdout, r.stderr, r.file ?? '']) expect(leaks(text), what).toEqual([]);
      expect(r.stdout.length + (r.file?.length ?? 0), what).toBeGreaterThan(50);
    }
  });

  it('the state database, its WAL and SHM hold none of them; checkpoints are keyed digests', () => {
    const db = path.join(state, 'state.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) expect(leaks(readFileSync(f)), f).toEqual([]);
    const conn = new Database(db, { readonly: true });
    try {
      const ids = (conn.prepare('SELECT unit_id FROM checkpoints').all() as { unit_id: string }[]).map((r) => r.unit_id);
      expect(ids.length).toBe(2);
      for (const id of ids) expect(id).toMatch(/^h:[0-9a-f]{32}$/);
      const runSources = (conn.prepare('SELECT sources FROM runs').all() as { sources: string }[]).map((r) => r.sources).join('\n');
      expect(runSources).toContain('Roe SSN •••-••-3921');
    } finally {
      conn.close();
    }
  });

  it('item 9: archive member paths are masked segment by segment and stay readable', () => {
    const records = jsonLines(runs['scan jsonl']?.stdout ?? '');
    const locations = records.filter((r) => r.type === 'finding').map((r) => r.location);
    expect(locations).toContain('attachment:export.zip/Roe SSN •••-••-3921/notes.txt');
  });

  it('item 10: the run\'s sources (json runs[].sources) and the error text are masked, keeping the identifier-free parts', () => {
    const json = JSON.parse(runs['scan json']?.stdout ?? '{}') as { runs: { sources: string[] }[]; errors: { error: string }[] };
    expect(json.runs.at(-1)?.sources[0]).toBe(`mbox:${dir}/Roe SSN •••-••-3921/Roe SSN •••-••-3921.mbox`);
    expect(json.errors.map((e) => e.error)).toEqual([expect.stringMatching(/^attachment type application\/x-ssn-•••-••-3921 is not read/)]);
  });

  it('item 15: no control character reaches the table, the JSONL or any report', () => {
    for (const [what, r] of Object.entries(runs)) for (const text of [r.stdout, r.file ?? '']) expect(CONTROL.test(text), what).toBe(false);
    expect(runs['scan table']?.stdout).toContain('evil\ufffd]0;pwned\ufffd\ufffd[2J');
  });

  it('--since-last resumes by the digested unit ids: nothing new is scanned', async () => {
    const again = await runCli(['scan', ...sources, '--format', 'jsonl', '--since-last'], { env: { PHI_SCAN_STATE: state } });
    const mailboxes = jsonLines(again.stdout).filter((r) => r.type === 'mailbox');
    expect(mailboxes.map((m) => m.messages)).toEqual([0, 0]);
  }, 60_000);
});

describe('item 11: subjects and names in odd spellings are redacted', () => {
  it.each(ODD_SPELLINGS.map((s) => [s]))('%j', async (spelling) => {
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const engine = createEngine(rules, Buffer.from('a test key of enough length'));
    for (const text of [`Re: Patient ${spelling} follow-up`, `Roe ${spelling}.pdf`]) {
      const out = engine.redact(text);
      expect(leaks(out), out).toEqual([]);
      expect(out).toMatch(/3921/); // the last 4, as a mask shows them
    }
  });

  it('still leaves dates and numbers without a label alone', async () => {
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const engine = createEngine(rules, Buffer.from('a test key of enough length'));
    expect(engine.redact('Re: invoice 2024-05-01 for order 88123, call 555-0134')).toBe('Re: invoice 2024-05-01 for order 88123, call 555-0134');
    // our own problem text: a size is no identifier
    expect(engine.redact('message is 157286400 bytes, over the 104857600-byte limit')).toBe('message is 157286400 bytes, over the 104857600-byte limit');
  });
});

describe('item 10: safeReason masks spaced and split identifiers', () => {
  it.each([
    'bad header near "512 84 3921"',
    'unexpected 512-84-3921 at 4',
    'value 512.84.3921 rejected',
    'token \uff15\uff11\uff12 \uff18\uff14 \uff13\uff19\uff12\uff11',
    'got 5128 43921',
  ])('%s', (message) => {
    const out = safeReason(new Error(message));
    expect(out.replace(/\D/g, '')).not.toMatch(/\d{5}/);
    expect(leaks(out)).toEqual([]);
  });

  it('keeps short numbers that describe structure', () => {
    expect(safeReason(new Error('line 12, column 7: unexpected end'))).toBe('line 12, column 7: unexpected end');
  });
});

describe('item 15: the progress line', () => {
  it('never carries control characters from a mailbox name', () => {
    const written: string[] = [];
    const p = progressReporter({ columns: 200, write: (s: string) => written.push(s) } as unknown as import('node:tty').WriteStream);
    p.update({ messages: 1, bytes: 1000, mailbox: EVIL_NAME, elapsedMs: 1000 });
    expect(written.length).toBe(1);
    const line = (written[0] ?? '').replace(/^\r/, '').replace(/\x1b\[K$/, '');
    expect(line).toContain('evil');
    expect(CONTROL.test(line)).toBe(false);
  });
});

describe('item 10: a usage error naming a path the user gave', () => {
  it('masks the identifier in the path on stderr (exit 2)', async () => {
    const missing = path.join(tempDir(), 'Roe SSN 512-84-3921.mbox');
    const r = await runCli(['scan', `mbox:${missing}`, '--format', 'jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Roe SSN •••-••-3921.mbox');
    expect(leaks(r.stderr + r.stdout)).toEqual([]);
  });
});
