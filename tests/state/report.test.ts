/**
 * `phi-scan report` from the state store, through the real CLI: the jsonl picture matches the
 * scan's own records; no raw identifier in the database or any report; the HTML page is
 * self-contained and renders in headless Chromium without console errors.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { DEMO, leakNeedles } from '../helpers/demo.js';
import { AnyRecord } from '../helpers/records.js';

const needles = leakNeedles();
const sources = [`mbox:${path.join(DEMO, 'mbox')}`, `maildir:${path.join(DEMO, 'maildir', 'intake')}`, `eml:${path.join(DEMO, 'eml')}`];

let state = '';
let scanOut = '';
beforeAll(async () => {
  state = tempDir('phi-state-');
  const r = await runCli(['scan', ...sources, '--format', 'jsonl', '--min-confidence', 'low'], { env: { PHI_SCAN_STATE: state } });
  expect(r.code).toBe(3); // the demo holds unreadable items on purpose
  scanOut = r.stdout;
}, 60_000);

const report = (...args: string[]) => runCli(['report', ...args], { env: { PHI_SCAN_STATE: state } });

describe('phi-scan report', () => {
  it('jsonl: the records of the scan that filled the store, in the contract schema', async () => {
    const r = await report('--format', 'jsonl');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    expect(records.filter((x) => x.type === 'mailbox').length).toBeGreaterThanOrEqual(3);
    // The scan's closing `run` record is the scan's, not the store's picture (report adds one only for an unfinished run).
    const sorted = (t: string) =>
      jsonLines(t)
        .filter((x) => x.type !== 'run')
        .map((x) => JSON.stringify(x))
        .sort();
    expect(sorted(r.stdout)).toEqual(sorted(scanOut));
  });

  it('json: breach sizing per mailbox and overall; csv: the remediation list', async () => {
    const json = JSON.parse((await report('--format', 'json')).stdout) as {
      totals: { individuals: number; estimatedIndividuals: number; messagesWithPhi: number; people: { roster: number; direct: number; nameDob: number } };
      mailboxes: { mailbox: string; individuals: number; estimatedIndividuals: number; overThreshold: boolean }[];
      messages: { action: string }[];
    };
    expect(json.totals.individuals).toBeGreaterThan(10);
    expect(json.mailboxes.every((m) => m.overThreshold === false)).toBe(true);
    // Ranked by exposure.
    const est = json.mailboxes.map((m) => m.estimatedIndividuals);
    expect(est).toEqual([...est].sort((a, b) => b - a));
    // The overall count is of distinct people: at most the sum over mailboxes.
    expect(json.totals.individuals).toBeLessThanOrEqual(json.mailboxes.reduce((n, m) => n + m.individuals, 0));
    expect(json.messages.length).toBe(json.totals.messagesWithPhi);
    // The table counts people the same way.
    const table = await report('--format', 'table');
    // (The table wraps its sentences to the terminal's width.)
    expect(table.stdout.replace(/\n\s*/g, ' ')).toContain(`${json.totals.people.direct} by SSN, Medicare ID or member ID`);
    // People are the parts: on the roster, by a direct identifier, by name + DOB.
    const p = json.totals.people;
    expect(p.roster + p.direct + p.nameDob).toBe(json.totals.individuals);
    // The json summary's counts (aggregate queries) agree with the jsonl mailbox records.
    const jsonl = jsonLines((await report('--format', 'jsonl')).stdout).filter((r) => r.type === 'mailbox');
    const pick = (m: Record<string, unknown>) => [m.mailbox, m.messages, m.messagesWithPhi, JSON.stringify(m.byCategory), m.errors];
    expect((json.mailboxes as unknown as Record<string, unknown>[]).map(pick).sort()).toEqual(jsonl.map(pick).sort());
    const csv = (await report('--format', 'csv')).stdout.trim().split('\r\n');
    expect(csv[0]).toBe('source,mailbox,folder,date,messageId,maskedSubject,categories,findings,individuals,action,locator,remediation');
    expect(csv.length - 1).toBe(json.totals.messagesWithPhi);
    // The demo's PHI messages carry identifiers with health context; every action is one of the three (rules: store.test.ts).
    const actions = new Set(json.messages.map((r) => r.action));
    expect(actions).toContain('secure-portal-and-delete');
    for (const a of actions) expect(['secure-portal-and-delete', 'delete', 'review']).toContain(a);
  });

  it('a state folder without a database is a configuration error, not a crash', async () => {
    const r = await runCli(['report'], { env: { PHI_SCAN_STATE: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no state database yet/);
  });

  it('remediate: one CSV and one JSON per mailbox owner, the same rows as the csv report', async () => {
    const dir = path.join(tempDir(), 'tickets');
    const r = await runCli(['remediate', '--out-dir', dir], { env: { PHI_SCAN_STATE: state } });
    expect(r.code).toBe(0);
    const owners = jsonLines(r.stdout) as { mailbox: string; csv: string; json: string; rows: number }[];
    expect(owners.length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(dir).sort()).toEqual(owners.flatMap((o) => [o.csv, o.json]).sort());
    const all = (await report('--format', 'csv')).stdout.trim().split('\r\n');
    let rows = 0;
    for (const o of owners) {
      const csv = readFileSync(path.join(dir, o.csv), 'utf8').trim().split('\r\n');
      expect(csv[0]).toBe(all[0]);
      expect(csv.length - 1).toBe(o.rows);
      for (const line of csv.slice(1)) expect(all).toContain(line);
      const json = JSON.parse(readFileSync(path.join(dir, o.json), 'utf8')) as { mailbox: string }[];
      expect(json.length).toBe(o.rows);
      expect(new Set(json.map((j) => j.mailbox))).toEqual(new Set([o.mailbox]));
      expect(needles.filter((n) => csv.join('\n').includes(n))).toEqual([]);
      rows += o.rows;
    }
    expect(rows).toBe(all.length - 1);
  });

  it('diff of a run with itself is empty (what changes between runs: tests/state/store.test.ts)', async () => {
    const same = await runCli(['diff', '1', '1', '--format', 'jsonl'], { env: { PHI_SCAN_STATE: state } });
    expect(same.code).toBe(0);
    expect(same.stdout).toBe('');
  });

  it('--run of a run that does not exist is a usage error naming the latest', async () => {
    const r = await report('--run', '42');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--run 42: no such run .* \(latest: 1\)/);
  });

  it('no raw identifier in the state database or any report format', async () => {
    expect(needles.length).toBeGreaterThan(50);
    for (const format of ['jsonl', 'json', 'csv', 'html', 'table']) {
      const r = await report('--format', format);
      expect(r.code).toBe(0);
      expect(needles.filter((n) => r.stdout.includes(n) || r.stderr.includes(n))).toEqual([]);
    }
    const files = readdirSync(state).filter((f) => f.startsWith('state.db'));
    expect(files).toContain('state.db');
    for (const f of files) {
      const bytes = readFileSync(path.join(state, f)).toString('latin1');
      const utf8 = readFileSync(path.join(state, f)).toString('utf8');
      expect(needles.filter((n) => bytes.includes(n) || utf8.includes(n))).toEqual([]);
    }
  });
});

describe('report --format html in headless Chromium', () => {
  const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);

  /** Renders a page with the network cut off; returns the console lines Chromium logged. */
  function render(file: string, png: string): string[] {
    const out = spawnSync(
      chromium as string,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--enable-logging=stderr',
        '--v=0',
        '--host-resolver-rules=MAP * ~NOTFOUND',
        `--screenshot=${png}`,
        '--window-size=1280,2000',
        `file://${file}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return `${out.stdout}\n${out.stderr}`.split('\n').filter((l) => /:CONSOLE/.test(l));
  }

  it('is one self-contained file that renders without console errors', { timeout: 120_000 }, async () => {
    if (!requireOrSkip('chromium (Debian package)', chromium !== undefined)) return;
    const dir = tempDir();
    // The check can fail: a page with a console error is caught.
    const control = path.join(dir, 'control.html');
    writeFileSync(control, '<!doctype html><html><body><script>console.error("control")</script></body></html>');
    expect(render(control, path.join(dir, 'control.png')).join('\n')).toMatch(/control/);

    const file = path.join(dir, 'report.html');
    const r = await report('--format', 'html', '--out', file);
    expect(r.code).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|<link|<iframe|@import|url\(/i);
    // The only URL is the SVG namespace name, which is never fetched.
    expect(html.match(/https?:\/\/[^\s"'<>]+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    expect(html).toMatch(/<svg[^>]*aria-label="Findings by category"/);
    expect(html).toMatch(/<svg[^>]*aria-label="Messages holding PHI after each run"/);
    const png = path.join(dir, 'report.png');
    expect(render(file, png)).toEqual([]);
    // A real screenshot: a PNG of some size.
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(10_000);
  });
});

