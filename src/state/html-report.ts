/**
 * `phi-scan report --format html`: one self-contained page for the compliance officer — no
 * network, no scripts, no external fonts; charts are inline SVG. Mailboxes ranked by exposure
 * (distinct individuals), findings per category, the trend across runs, breach sizing against
 * the HHS threshold and the first rows of the remediation list. Masked values only.
 */
import { CATEGORIES, type Category } from '../model/finding.js';
import { SKIPPED_DESCRIPTION } from '../model/problem.js';
import { HHS_THRESHOLD, listRuns, remediationRows, summarize, unfinishedRun } from './picture.js';
import type { StateDb } from './store.js';

const esc = (s: string | number | null): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Rows of the remediation list shown in the page; the CSV has them all. */
const HTML_REMEDIATION_ROWS = 500;
/** Runs shown in the trend chart. */
const TREND_RUNS = 20;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}th{background:#f3f3f3}
.over{background:#f9d0d0;font-weight:bold}.phi{background:#fde8e8}h1{font-size:20px}h2{font-size:16px;margin-top:2em}
.kpi{display:inline-block;margin:0 2em 1em 0}.kpi b{display:block;font-size:24px}svg text{font:12px system-ui,sans-serif}`;

function barChart(values: { label: string; value: number }[], title: string): string {
  const max = Math.max(1, ...values.map((v) => v.value));
  const rowH = 22;
  const width = 560;
  const labelW = 170;
  const bars = values
    .map((v, i) => {
      const w = Math.round(((width - labelW - 60) * v.value) / max);
      const y = i * rowH;
      return `<text x="0" y="${y + 15}">${esc(v.label)}</text><rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 6}" fill="#c0392b"/><text x="${labelW + w + 5}" y="${y + 15}">${v.value}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" width="${width}" height="${values.length * rowH + 4}">${bars}</svg>`;
}

function trendChart(points: { run: number; withPhi: number; messages: number }[]): string {
  if (points.length === 0) return '<p>No runs yet.</p>';
  const width = 560;
  const height = 180;
  const pad = 30;
  const max = Math.max(1, ...points.map((p) => p.withPhi));
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  const xy = points.map((p, i) => [pad + i * step, height - pad - ((height - 2 * pad) * p.withPhi) / max] as const);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const dots = xy
    .map(([x, y], i) => {
      const p = points[i] as { run: number; withPhi: number };
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="#c0392b"><title>run ${p.run}: ${p.withPhi}</title></circle><text x="${x.toFixed(1)}" y="${height - 10}" text-anchor="middle">#${p.run}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Messages holding PHI after each run" width="${width}" height="${height}">
<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#999"/><text x="2" y="${pad - 10}">${max}</text>
<polyline points="${line}" fill="none" stroke="#c0392b" stroke-width="2"/>${dots}</svg>`;
}

/** Messages known and messages holding PHI as of each of the last runs (one pass over `scans` each). */
function trend(db: StateDb, upTo: number | undefined): { run: number; withPhi: number; messages: number }[] {
  const runs = listRuns(db)
    .filter((r) => upTo === undefined || r.id <= upTo)
    .slice(-TREND_RUNS);
  const q = db.prepare(`SELECT count(*) AS messages, coalesce(sum(s.findings > 0), 0) AS withPhi
    FROM (SELECT message, max(run_id) AS r FROM scans WHERE run_id <= ? GROUP BY message) p
    JOIN scans s ON s.message = p.message AND s.run_id = p.r`);
  return runs.map((r) => ({ run: r.id, ...(q.get(r.id) as { messages: number; withPhi: number }) }));
}

export function renderHtmlReport(db: StateDb, asOf?: number): string {
  const points = trend(db, asOf);
  const p = summarize(db, asOf);
  const t = p.totals;
  const cut = unfinishedRun(db, asOf);
  const skipped = p.mailboxes.reduce((n, m) => n + m.skipped, 0);
  const byCategory = new Map<Category, number>();
  for (const m of p.mailboxes) for (const c of CATEGORIES) byCategory.set(c, (byCategory.get(c) ?? 0) + (m.byCategory[c] ?? 0));
  const cats = CATEGORIES.filter((c) => (byCategory.get(c) ?? 0) > 0);
  const mailboxRows = p.mailboxes
    .map(
      (m) =>
        `<tr class="${m.overThreshold ? 'over' : m.messagesWithPhi > 0 ? 'phi' : ''}"><td>${esc(m.mailbox)}</td><td>${esc(m.source)}</td><td class="n">${m.estimatedIndividuals}</td>` +
        `<td class="n">${m.individuals}</td><td class="n">${m.dobOnlyIndividuals}</td><td class="n">${m.messages}</td><td class="n">${m.messagesWithPhi}</td>` +
        cats.map((c) => `<td class="n">${m.byCategory[c] ?? 0}</td>`).join('') +
        `<td class="n">${m.errors}</td><td class="n">${m.skipped}</td><td>${m.overThreshold ? `≥ ${HHS_THRESHOLD}: reportable` : ''}</td></tr>`,
    )
    .join('\n');
  const remediation: string[] = [];
  let more = 0;
  for (const r of remediationRows(db, asOf)) {
    if (remediation.length >= HTML_REMEDIATION_ROWS) {
      more++;
      continue;
    }
    remediation.push(
      `<tr><td>${esc(r.mailbox)}</td><td>${esc(r.folder)}</td><td>${esc(r.date)}</td><td>${esc(r.maskedSubject)}</td><td>${esc(r.categories.join(', '))}</td>` +
        `<td class="n">${r.individuals}</td><td>${esc(r.action)}</td><td>${esc(r.messageId)}</td></tr>`,
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light"><title>phi-scan report</title><style>${STYLE}</style></head><body>
<h1>phi-scan report${p.asOf !== undefined ? ` as of run #${p.asOf}` : ''}</h1>
<p>Generated ${esc(new Date().toISOString())} from the state store. Values are masked; no identifier appears in this page.</p>
${
  cut
    ? `<p class="over" id="interrupted">Run #${cut.run} ${
        cut.status === 'interrupted' ? `was interrupted (${cut.stoppedBy === 'output-closed' ? 'its output was closed' : 'SIGINT/SIGTERM'})` : 'has not finished (still running, or killed)'
      }: this picture holds only what it read. Run <code>phi-scan scan --since-last</code> to finish it.</p>`
    : ''
}
${skipped > 0 ? `<p>${skipped} items ${esc(SKIPPED_DESCRIPTION)} (counted under "Not read by design", not errors).</p>` : ''}
<div><span class="kpi"><b>${t.estimatedIndividuals}</b>distinct individuals (estimate)</span><span class="kpi"><b>${t.individuals}</b>by SSN / Medicare ID / member ID</span>
<span class="kpi"><b>${t.messagesWithPhi}</b>messages holding PHI</span><span class="kpi"><b>${t.messages}</b>messages scanned</span>
<span class="kpi"><b>${t.mailboxesOverThreshold}</b>mailboxes at or over ${HHS_THRESHOLD}</span></div>
<h2>Mailboxes ranked by exposure</h2>
<table><tr><th>Mailbox</th><th>Source</th><th>Individuals (est.)</th><th>By direct ID</th><th>DOB only</th><th>Messages</th><th>With PHI</th>${cats.map((c) => `<th>${esc(c)}</th>`).join('')}<th>Errors</th><th>Not read by design</th><th>HHS</th></tr>
${mailboxRows}</table>
<h2>Findings by category</h2>
${barChart(
  cats.map((c) => ({ label: c, value: byCategory.get(c) ?? 0 })),
  'Findings by category',
)}
<h2>Trend across runs: messages holding PHI</h2>
${trendChart(points)}
<h2>Remediation list</h2>
<p>Per message holding PHI; the full list is <code>phi-scan report --format csv</code>.${more > 0 ? ` ${more} more rows not shown.` : ''}</p>
<table><tr><th>Mailbox</th><th>Folder</th><th>Date</th><th>Subject (masked)</th><th>Categories</th><th>Individuals</th><th>Action</th><th>Message-ID</th></tr>
${remediation.join('\n')}</table>
</body></html>
`;
}
