/**
 * The HTML report as a reader sees it, in headless Chromium at 1280 and 1920 px: no console
 * errors, the mailbox table within the page (measured in the page), the HHS flag visible, the
 * figures on the page equal to `report --format json`, no raw identifier. Screenshots are kept
 * in tests/tmp/ as artefacts (not snapshots). Under CI=true a missing chromium is a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { DEMO, leakNeedles } from '../helpers/demo.js';

const chromium = ['/usr/bin/chromium', 'chromium', 'chromium-browser'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const ARTEFACTS = path.join(ROOT, 'tests', 'tmp', 'html-report');

function chrome(args: string[]): string {
  const out = spawnSync(
    chromium as string,
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--host-resolver-rules=MAP * ~NOTFOUND', '--enable-logging=stderr', '--v=0', ...args],
    { encoding: 'utf8', timeout: 90_000 },
  );
  return `${out.stdout}\n${out.stderr}`;
}

/** Console lines Chromium logged while loading the page (errors, warnings, logs). */
const consoleLines = (file: string, width: number, png: string): string[] =>
  chrome([`--screenshot=${png}`, `--window-size=${width},2400`, `file://${file}`])
    .split('\n')
    .filter((l) => /:CONSOLE/.test(l));

interface Measure {
  innerWidth: number;
  pageScrollWidth: number;
  table: { scrollWidth: number; clientWidth: number; right: number };
  hhsHeaderRight: number;
  flags: { right: number; visible: boolean }[];
  figures: Record<string, string>;
  rows: { mailbox: string; people: string; withPhi: string; messages: string; errors: string }[];
  actions: Record<string, string>;
}

/**
 * Measures a copy of the page with a measuring script added (the report itself has none): the
 * script writes its results into the DOM, which --dump-dom prints after load.
 */
function measure(file: string, width: number): Measure {
  const copy = file.replace(/\.html$/, `.measure-${width}.html`);
  const script = `<script>
const r = (e) => e.getBoundingClientRect();
const t = document.getElementById('mailboxes');
const out = {
  innerWidth, pageScrollWidth: document.documentElement.scrollWidth,
  table: { scrollWidth: t.scrollWidth, clientWidth: t.parentElement.clientWidth, right: r(t).right },
  hhsHeaderRight: r([...t.querySelectorAll('th')].find((th) => th.textContent === 'HHS 500')).right,
  flags: [...t.querySelectorAll('.flag')].map((f) => ({ right: r(f).right, visible: r(f).width > 0 && getComputedStyle(f).visibility === 'visible' })),
  figures: Object.fromEntries([...document.querySelectorAll('[data-figure]')].map((e) => [e.dataset.figure, e.textContent])),
  rows: [...t.querySelectorAll('tr[data-mailbox]')].map((tr) => ({ mailbox: tr.dataset.mailbox, ...Object.fromEntries([...tr.querySelectorAll('[data-col]')].map((td) => [td.dataset.col, td.textContent])) })),
  actions: Object.fromEntries([...document.querySelectorAll('[data-action]')].map((e) => [e.dataset.action, e.textContent])),
};
const pre = document.createElement('pre'); pre.id = 'measure'; pre.textContent = JSON.stringify(out); document.body.append(pre);
</script>`;
  writeFileSync(copy, readFileSync(file, 'utf8').replace('</body>', `${script}</body>`));
  const dom = chrome(['--dump-dom', `--window-size=${width},900`, `file://${copy}`]);
  const m = /<pre id="measure">([^<]*)<\/pre>/.exec(dom);
  if (!m) throw new Error(`no measurement in the dumped DOM:\n${dom.slice(0, 2000)}`);
  return JSON.parse((m[1] as string).replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')) as Measure;
}

/** Synthetic SSNs (area 001–665 without 666, group and serial not 0): valid by the SSA rules. */
function syntheticSsn(i: number): string {
  const area = 100 + (i % 500);
  const group = 10 + Math.floor(i / 500);
  const serial = 1000 + i;
  return `${area}-${group}-${serial}`;
}

const number = (s: string | undefined): number => Number(String(s).replace(/,/g, ''));

describe('report --format html in headless Chromium', () => {
  const state = tempDir('phi-state-');
  const dir = tempDir('phi-html-');
  const file = path.join(dir, 'report.html');
  let json: {
    totals: Record<string, number>;
    completeness: { errors: number };
    actions: { action: string; messages: number }[];
    mailboxes: { mailbox: string; estimatedIndividuals: number; messagesWithPhi: number; messages: number; errors: number; overThreshold: boolean }[];
  };
  const planted: string[] = [];

  beforeAll(async () => {
    // The demo archive, and a mailbox holding 600 people: over the HHS threshold.
    const big = path.join(dir, 'claims-department-shared-mailbox-2019-archive.mbox');
    let mbox = '';
    for (let i = 0; i < 600; i++) {
      const ssn = syntheticSsn(i);
      planted.push(ssn, ssn.replace(/-/g, ''));
      mbox += `From claims@example.org Mon Mar  4 09:15:00 2024\nMessage-ID: <big-${i}@example.org>\nDate: Mon, 4 Mar 2024 09:15:00 +0000\nSubject: Member SSN ${ssn} claim\n\nPatient SSN: ${ssn}\nDiagnosis: type 2 diabetes\n\n`;
    }
    writeFileSync(big, mbox);
    const env = { PHI_SCAN_STATE: state };
    const first = await runCli(['scan', `mbox:${path.join(DEMO, 'mbox')}`, `mbox:${big}`, '--format', 'jsonl'], { env });
    expect(first.code).toBe(3);
    // A second run: the trend has two points.
    await runCli(['scan', `maildir:${path.join(DEMO, 'maildir', 'intake')}`, '--format', 'jsonl'], { env });
    expect((await runCli(['report', '--format', 'html', '--out', file], { env })).code).toBe(0);
    json = JSON.parse((await runCli(['report', '--format', 'json'], { env })).stdout) as typeof json;
    expect(json.mailboxes.some((m) => m.overThreshold)).toBe(true);
  }, 180_000);

  it('the console check can fail: a page with a console error is caught', { timeout: 120_000 }, () => {
    if (!requireOrSkip('chromium (Debian package)', chromium !== undefined)) return;
    const control = path.join(dir, 'control.html');
    writeFileSync(control, '<!doctype html><html><body><script>console.error("control")</script></body></html>');
    expect(consoleLines(control, 1280, path.join(dir, 'control.png')).join('\n')).toMatch(/control/);
  });

  it.each([1280, 1920])('%i px: no console errors, the mailbox table and its HHS flag within the page, a screenshot', { timeout: 180_000 }, (width) => {
    if (!requireOrSkip('chromium (Debian package)', chromium !== undefined)) return;
    mkdirSync(ARTEFACTS, { recursive: true });
    const png = path.join(ARTEFACTS, `report-${width}.png`);
    expect(consoleLines(file, width, png)).toEqual([]);
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(20_000);
    const m = measure(file, width);
    expect(m.innerWidth).toBe(width);
    expect(m.pageScrollWidth).toBeLessThanOrEqual(width);
    expect(m.table.scrollWidth).toBeLessThanOrEqual(m.table.clientWidth);
    expect(m.table.right).toBeLessThanOrEqual(width);
    expect(m.hhsHeaderRight).toBeLessThanOrEqual(width);
    expect(m.flags.length).toBe(json.mailboxes.filter((x) => x.overThreshold).length);
    for (const f of m.flags) {
      expect(f.visible).toBe(true);
      expect(f.right).toBeLessThanOrEqual(width);
    }
  });

  it('the figures on the page are those of report --format json', { timeout: 120_000 }, () => {
    if (!requireOrSkip('chromium (Debian package)', chromium !== undefined)) return;
    const m = measure(file, 1280);
    for (const key of ['mailboxesWithPhi', 'messagesWithPhi', 'estimatedIndividuals', 'mailboxesOverThreshold'] as const) {
      expect(number(m.figures[key]), key).toBe(json.totals[key]);
    }
    expect(number(m.figures.errors)).toBe(json.completeness.errors);
    expect(m.rows.map((r) => [r.mailbox, number(r.people), number(r.withPhi), number(r.messages), number(r.errors)])).toEqual(
      json.mailboxes.map((x) => [x.mailbox, x.estimatedIndividuals, x.messagesWithPhi, x.messages, x.errors]),
    );
    expect(Object.fromEntries(Object.entries(m.actions).map(([k, v]) => [k, number(v)]))).toEqual(Object.fromEntries(json.actions.map((a) => [a.action, a.messages])));
  });

  it('prints: a PDF of several pages, kept as an artefact', { timeout: 120_000 }, () => {
    if (!requireOrSkip('chromium (Debian package)', chromium !== undefined)) return;
    mkdirSync(ARTEFACTS, { recursive: true });
    const pdf = path.join(ARTEFACTS, 'report.pdf');
    chrome([`--print-to-pdf=${pdf}`, '--no-pdf-header-footer', `file://${file}`]);
    const bytes = readFileSync(pdf).toString('latin1');
    expect(bytes.startsWith('%PDF')).toBe(true);
    expect(bytes.match(/\/Type\s*\/Page[^s]/g)?.length ?? 0).toBeGreaterThan(2);
  });

  it('self-contained and masked: no script, no external resource, no raw identifier (subjects included)', () => {
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
    expect(html.match(/https?:\/\/[^\s"'<>]+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    const needles = [...leakNeedles(), ...planted];
    expect(planted.length).toBe(1200);
    expect(needles.filter((n) => html.includes(n))).toEqual([]);
    // The subjects are there, redacted (the planted SSNs were in them).
    expect(html).toMatch(/Member SSN •••-••-\d{4} claim/);
    // Charts with axes and dates; categories in words, identifiers first.
    expect(html).toMatch(/<svg[^>]*aria-label="Messages holding PHI after each run"/);
    expect(html).toMatch(/<svg[^>]*aria-label="Findings by category"/);
    const order = ['Social Security number', 'Medicare ID', 'Date of birth', 'Health condition'].map((l) => html.indexOf(`>${l}</text>`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(html).toMatch(/<h1>PHI in email: phi-scan report<\/h1>/);
    expect(html).toMatch(/State picture as of run #2/);
  });
});
