/**
 * `--format html`: one self-contained page for the compliance officer, rendered from the report
 * model — no network, no scripts, no external fonts; charts are inline SVG. It answers, top to
 * bottom: which mailboxes hold PHI, how much, how many people, what to do, and whether the
 * picture is complete. Fits 1280 px, prints on A4/Letter. Masked values only: subjects as the
 * engine redacted them, never a raw identifier.
 */
import {
  ACTION_SHORT,
  CATEGORY_LABELS,
  HHS_THRESHOLD,
  peopleSentence,
  thresholdSentence,
  REPORT_CATEGORY_ORDER,
  completenessSentence,
  interruptedSentence,
  ordered,
  percent,
  plural,
  readableDate,
  type MailboxSummary,
  type RemediationRow,
  type ReportModel,
  type TrendPoint,
  skippedSentence,
  suppressedSentence,
} from './model.js';

const esc = (s: string | number | null | undefined): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number): string => n.toLocaleString('en-US');

/** Rows of the message list shown in the page; the CSV has them all. */
export const HTML_MESSAGE_ROWS = 500;
/** Messages listed under each mailbox's drill-down. */
const DRILL_ROWS = 25;

const STYLE = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#fff}
main{max-width:1240px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid #dde1e8}
h3{font-size:15px;margin:20px 0 6px}
.sub{color:#566074;margin:0 0 16px}
.banner{border-radius:6px;padding:12px 16px;margin:16px 0;border:1px solid}
.banner.ok{background:#eaf6ee;border-color:#9fd3ae}.banner.warn{background:#fff6e0;border-color:#e8c46a}
.banner p{margin:4px 0}.banner ul{margin:4px 0 4px 20px;padding:0}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:16px 0}
.kpi{border:1px solid #dde1e8;border-radius:6px;padding:10px 14px}
.kpi b{display:block;font-size:28px;line-height:1.2}.kpi span{color:#566074;font-size:13px}
.kpi.alert{border-color:#d9534f;background:#fdf0ef}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border-bottom:1px solid #e3e6ec;padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f4f6f9;font-weight:600;font-size:13px}
td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.over td{background:#fbe3e1}tr.phi td:first-child{border-left:3px solid #c0392b}
.flag{display:inline-block;background:#c0392b;color:#fff;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;white-space:nowrap}
.muted{color:#6b7486}.small{font-size:12px}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:24px}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}svg .axis{stroke:#8a93a5}svg .grid{stroke:#e3e6ec}
a{color:#1f5fbf}
.mb{break-inside:avoid;margin-bottom:16px}
@media print{main{max-width:none;padding:0}body{font-size:11px}.kpis{grid-template-columns:repeat(4,1fr)}
h2{break-after:avoid}tr{break-inside:avoid}a{color:inherit;text-decoration:none}.charts{grid-template-columns:1fr 1fr}}
`;

function bars(values: { label: string; value: number }[], title: string, width = 560): string {
  if (values.length === 0) return '<p class="muted">Nothing found.</p>';
  const max = Math.max(1, ...values.map((v) => v.value));
  const rowH = 24;
  const labelW = 190;
  const area = width - labelW - 60;
  const body = values
    .map((v, i) => {
      const w = Math.max(v.value > 0 ? 2 : 0, Math.round((area * v.value) / max));
      const y = i * rowH;
      return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(v.label)}</text><rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="#c0392b"/><text x="${labelW + w + 6}" y="${y + 16}">${num(v.value)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" width="${width}" height="${values.length * rowH + 4}" viewBox="0 0 ${width} ${values.length * rowH + 4}">${body}</svg>`;
}

/** Round numbers for an axis: 0 … max in about 4 steps of 1, 2 or 5 × 10^k. */
function ticks(max: number): number[] {
  const raw = Math.max(1, max) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999 && out.length < 8; v += step) out.push(Math.round(v));
  return out;
}

function trendChart(points: readonly TrendPoint[], width = 560): string {
  if (points.length === 0) return '<p class="muted">No runs yet.</p>';
  const height = 220;
  const left = 48;
  const right = 16;
  const top = 12;
  const bottom = 44;
  const yTicks = ticks(Math.max(...points.map((p) => p.messagesWithPhi)));
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (i: number): number => left + (points.length > 1 ? (plotW * i) / (points.length - 1) : plotW / 2);
  const y = (v: number): number => top + plotH - (plotH * v) / Math.max(1, yMax);
  const grid = yTicks
    .map((t) => `<line class="grid" x1="${left}" x2="${width - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${num(t)}</text>`)
    .join('');
  // At most ~8 date labels, always the first and the last.
  const every = Math.max(1, Math.ceil(points.length / 8));
  const labels = points
    .map((p, i) =>
      i % every === 0 || i === points.length - 1
        ? `<text x="${x(i).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${esc(p.date.slice(5, 10))}</text><text x="${x(i).toFixed(1)}" y="${height - bottom + 30}" text-anchor="middle" class="small" fill="#6b7486">#${p.run}</text>`
        : '',
    )
    .join('');
  const line = points.map((p, i) => `${x(i).toFixed(1)},${y(p.messagesWithPhi).toFixed(1)}`).join(' ');
  const dots = points
    .map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.messagesWithPhi).toFixed(1)}" r="3.5" fill="#c0392b"><title>run #${p.run}, ${esc(readableDate(p.date))}: ${num(p.messagesWithPhi)} of ${num(p.messages)} messages hold PHI</title></circle>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Messages holding PHI after each run" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
${grid}<line class="axis" x1="${left}" x2="${width - right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}"/><line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${y(0).toFixed(1)}"/>
${labels}<polyline points="${line}" fill="none" stroke="#c0392b" stroke-width="2"/>${dots}
<text x="${left}" y="${height - 4}" class="small" fill="#6b7486">run start date (MM-DD) and run number; vertical: messages holding PHI</text></svg>`;
}

function categoryWords(m: { byCategory: MailboxSummary['byCategory'] }): string {
  return REPORT_CATEGORY_ORDER.filter((c) => (m.byCategory[c] ?? 0) > 0)
    .map((c) => `${esc(CATEGORY_LABELS[c])} <span class="muted">${num(m.byCategory[c] ?? 0)}</span>`)
    .join(', ');
}

function todo(m: MailboxSummary): string {
  const parts: string[] = [];
  if (m.actions['secure-portal-and-delete'] > 0) parts.push(`${num(m.actions['secure-portal-and-delete'])} to portal`);
  if (m.actions.delete > 0) parts.push(`${num(m.actions.delete)} to delete`);
  if (m.actions.review > 0) parts.push(`${num(m.actions.review)} to review`);
  return parts.join(', ');
}

const location = (r: RemediationRow): string => `${esc(r.folder)}<div class="muted small">${esc(r.locator)}</div>`;

function messageRow(r: RemediationRow, withMailbox: boolean): string {
  return (
    `<tr>${withMailbox ? `<td>${esc(r.mailbox)}</td>` : ''}<td>${location(r)}</td><td class="n">${esc(readableDate(r.date))}</td><td>${esc(r.maskedSubject ?? '(no subject)')}</td>` +
    `<td>${ordered(r.categories).map((c) => esc(CATEGORY_LABELS[c])).join(', ')}</td><td class="n">${num(r.individuals)}</td><td>${esc(ACTION_SHORT[r.action])}</td></tr>`
  );
}

const MESSAGE_HEAD = (withMailbox: boolean): string =>
  `<tr>${withMailbox ? '<th style="width:12%">Mailbox</th>' : ''}<th style="width:22%">Location (folder, where)</th><th class="n">Date</th><th>Subject (masked)</th><th style="width:16%">Categories</th><th class="n">People</th><th style="width:11%">Action</th></tr>`;

/** The page; `rows` are the messages holding PHI in mailbox order (the first HTML_MESSAGE_ROWS are listed). */
export function renderHtml(model: ReportModel, rows: Iterable<RemediationRow>): string {
  const t = model.totals;
  const c = model.completeness;
  const key = (m: { source: string; mailbox: string }): string => `${m.source}\0${m.mailbox}`;
  const anchors = new Map(model.mailboxes.map((m, i) => [key(m), `mb-${i + 1}`]));
  const listed: string[] = [];
  const perMailbox = new Map<string, string[]>();
  let more = 0;
  for (const r of rows) {
    if (listed.length < HTML_MESSAGE_ROWS) listed.push(messageRow(r, true));
    else more++;
    const list = perMailbox.get(key(r)) ?? [];
    if (list.length < DRILL_ROWS) list.push(messageRow(r, false));
    perMailbox.set(key(r), list);
  }
  const threshold = c.minConfidence.join(' / ') || 'n/a';

  // An interrupted or unfinished run first: every figure below is partial.
  const stopped = model.interrupted
    ? `<section class="banner warn" id="interrupted" data-status="${model.interrupted.status}"${model.interrupted.stoppedBy ? ` data-stopped-by="${model.interrupted.stoppedBy}"` : ''}><p><strong>${esc(interruptedSentence(model.interrupted))}</strong></p></section>`
    : '';
  const banner = `${stopped}<section class="banner ${c.complete ? 'ok' : 'warn'}" id="completeness" data-complete="${c.complete}">
<p><strong>${esc(completenessSentence(c))}</strong></p>
<p>Confidence threshold of these figures: <strong>${esc(threshold)}</strong> or above. ${c.errors > 0 ? `Items failed to read: <strong data-figure="errors">${num(c.errors)}</strong>.` : '<span data-figure="errors" hidden>0</span>'} ${c.skipped > 0 ? `<span data-figure="skipped">${esc(skippedSentence(c))}</span>` : '<span data-figure="skipped" hidden>0</span>'}</p>
${model.suppressed && model.suppressed.findings > 0 ? `<p data-figure="suppressed" data-count="${model.suppressed.findings}">${esc(suppressedSentence(model.suppressed))}</p>` : ''}
${c.byCode.length > 0 ? `<ul>${c.byCode.map((b) => `<li>${esc(b.code)}: ${num(b.count)}${b.severity === 'skipped' ? ' <span class="muted">(not read by design)</span>' : ' <span class="muted">(failed)</span>'}</li>`).join('')}</ul>` : ''}
${c.interruptedRuns.length > 0 ? `<p>Interrupted runs: ${c.interruptedRuns.map((r) => `#${r.id} (${esc(readableDate(r.startedAt))}, ${esc(r.status)})`).join(', ')}. Messages they did not reach are missing until the next <code>scan --since-last</code>.</p>` : ''}
${c.firstErrors.length > 0 ? `<p class="small">First ${plural(c.firstErrors.length, 'item')} not read:</p><ul class="small">${c.firstErrors.map((e) => `<li>${esc([e.mailbox, e.folder].filter((x) => x !== undefined).join(' / ') || e.source)}${e.location ? ` — ${esc(e.location)}` : ''}: ${esc(e.error)} <span class="muted">[${esc(e.code)}]</span></li>`).join('')}</ul>` : ''}
</section>`;

  const kpis = `<div class="kpis">
<div class="kpi"><b data-figure="mailboxesWithPhi">${num(t.mailboxesWithPhi)}</b><span>of ${plural(t.mailboxes, 'mailbox', 'mailboxes')} hold PHI</span></div>
<div class="kpi"><b data-figure="messagesWithPhi">${num(t.messagesWithPhi)}</b><span>of ${plural(t.messages, 'message')} hold PHI (${percent(t.messagesWithPhi, t.messages)}); ${plural(t.findings, 'finding')}</span></div>
<div class="kpi${t.overThreshold ? ' alert' : ''}"><b data-figure="estimatedIndividuals">${num(t.estimatedIndividuals)}</b><span>${esc(peopleSentence(t).replace(/^People: [^(]*/, 'people '))} ${esc(thresholdSentence(t))}.</span></div>
<div class="kpi${t.mailboxesOverThreshold > 0 ? ' alert' : ''}"><b data-figure="mailboxesOverThreshold">${num(t.mailboxesOverThreshold)}</b><span>mailboxes at or over the HHS ${HHS_THRESHOLD}-individual breach threshold</span></div>
</div>`;

  const actions = `<table id="actions"><tr><th>Recommended action</th><th class="n">Messages</th><th class="n">Owners (mailboxes)</th></tr>
${model.actions.map((a) => `<tr><td>${esc(a.label)}</td><td class="n" data-action="${a.action}">${num(a.messages)}</td><td class="n">${num(a.owners)}</td></tr>`).join('\n')}</table>
<p class="small muted">Portal then delete: a direct identifier (SSN, Medicare or member ID) with health or coverage context. Delete: a direct identifier alone. Review: dates or health terms only — a person decides.</p>`;

  const progress = model.remediation && model.remediation.length > 0
    ? `<h2>Remediation progress</h2>
<table id="remediation"><tr><th>Mailbox (owner)</th><th class="n">Remaining</th><th class="n">Quarantined</th><th class="n">Tagged</th><th class="n">Resolved</th></tr>
${model.remediation.map((r) => `<tr data-mailbox="${esc(r.mailbox)}"><td>${esc(r.mailbox)}<div class="muted small">${esc(r.source)}</div></td><td class="n" data-col="remaining">${num(r.remaining)}</td><td class="n" data-col="quarantined">${num(r.quarantined)}</td><td class="n" data-col="tagged">${num(r.tagged)}</td><td class="n" data-col="resolved">${num(r.resolved)}</td></tr>`).join('\n')}</table>
<p class="small muted">Messages holding PHI. Quarantined: moved or deleted by <code>remediate --apply</code>; resolved: no longer found in its folder by a full scan, or scanned again without PHI.</p>`
    : '';
  const mailboxRows = model.mailboxes
    .map(
      (m) =>
        `<tr class="${m.overThreshold ? 'over' : m.messagesWithPhi > 0 ? 'phi' : ''}" data-mailbox="${esc(m.mailbox)}"><td><a href="#${anchors.get(key(m))}">${esc(m.mailbox)}</a>${m.interrupted ? ' <span class="flag" data-partly-read>partly read: interrupted</span>' : ''}<div class="muted small">${esc(m.source)}</div></td>` +
        `<td class="n" data-col="people">${num(m.estimatedIndividuals)}</td><td data-col="hhs">${m.overThreshold ? `<span class="flag">≥ ${HHS_THRESHOLD}: report to HHS</span>` : '<span class="muted">below</span>'}</td>` +
        `<td class="n" data-col="withPhi">${num(m.messagesWithPhi)}</td><td class="n" data-col="messages">${num(m.messages)}</td><td class="n">${percent(m.messagesWithPhi, m.messages)}</td>` +
        `<td>${categoryWords(m) || '<span class="muted">none</span>'}</td><td>${esc(todo(m))}</td><td class="n" data-col="errors">${num(m.errors)}</td><td class="n" data-col="skipped">${num(m.skipped)}</td></tr>`,
    )
    .join('\n');
  const mailboxTable = `<table id="mailboxes"><tr><th style="width:18%">Mailbox</th><th class="n">People</th><th>HHS 500</th><th class="n">With PHI</th><th class="n">Messages</th><th class="n">%</th><th style="width:30%">Findings by category</th><th style="width:14%">To do</th><th class="n">Errors</th><th class="n" title="not read by design">Not read</th></tr>
${mailboxRows}</table>`;

  const drill = model.mailboxes
    .filter((m) => m.messagesWithPhi > 0 || m.errors > 0 || m.skipped > 0)
    .map((m) => {
      const list = perMailbox.get(key(m)) ?? [];
      const cats = REPORT_CATEGORY_ORDER.filter((cat) => (m.byCategory[cat] ?? 0) > 0).map((cat) => ({ label: CATEGORY_LABELS[cat], value: m.byCategory[cat] ?? 0 }));
      return `<section class="mb" id="${anchors.get(key(m))}"><h3>${esc(m.mailbox)} <span class="muted small">${esc(m.source)}</span>${m.overThreshold ? ` <span class="flag">≥ ${HHS_THRESHOLD}</span>` : ''}</h3>
<p>${plural(m.messagesWithPhi, 'message')} of ${num(m.messages)} hold PHI; ${plural(m.estimatedIndividuals, 'person', 'people')} (estimate); ${plural(m.errors, 'item')} failed to read${m.skipped > 0 ? `, ${plural(m.skipped, 'item')} not read by design` : ''}${m.interrupted ? '; partly read (the run was interrupted)' : ''}. To do: ${esc(todo(m) || 'nothing')}.</p>
${bars(cats, `Findings by category in ${m.mailbox}`, 520)}
${list.length > 0 ? `<table>${MESSAGE_HEAD(false)}\n${list.join('\n')}</table>${m.messagesWithPhi > list.length ? `<p class="small muted">First ${list.length} of ${num(m.messagesWithPhi)}; all in <code>--format csv</code>.</p>` : ''}` : ''}
</section>`;
    })
    .join('\n');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light">
<title>phi-scan report — ${esc(model.title)}</title><style>${STYLE}</style></head><body><main>
<h1>PHI in email: phi-scan report</h1>
<p class="sub" id="scope" data-scope="${model.scope.kind}"><strong>${esc(model.title)}</strong>. Generated ${esc(readableDate(model.generatedAt))}. Values are masked; no identifier appears in this page.</p>
${banner}
${kpis}
<h2>What to do</h2>
${actions}
${progress}
<h2>Mailboxes, most people first</h2>
${mailboxTable}
<h2>Charts</h2>
<div class="charts"><div><h3>Findings by category</h3>${bars(
    model.categories.map((x) => ({ label: x.label, value: x.findings })),
    'Findings by category',
  )}</div><div><h3>Messages holding PHI after each run</h3>${trendChart(model.trend)}</div></div>
<h2>Per mailbox</h2>
${drill || '<p class="muted">No mailbox holds PHI.</p>'}
<h2>Messages holding PHI</h2>
<p class="small muted">Where to find each message: its folder and locator (file, offset or UID). The full list with Message-IDs: <code>--format csv</code>.${more > 0 ? ` ${num(more)} more not shown.` : ''}</p>
<table id="messages">${MESSAGE_HEAD(true)}
${listed.join('\n')}</table>
<h2>Runs</h2>
<table id="runs"><tr><th class="n">Run</th><th>Started</th><th>Status</th><th>Threshold</th><th class="n">Messages</th><th class="n">With PHI</th><th class="n">Errors</th></tr>
${model.runs
  .slice(-20)
  .map((r) => `<tr><td class="n">#${r.id}</td><td>${esc(readableDate(r.startedAt))}</td><td>${esc(r.status)}</td><td>${esc(r.minConfidence)}</td><td class="n">${num(r.messages ?? 0)}</td><td class="n">${num(r.messagesWithPhi ?? 0)}</td><td class="n">${num(r.errors ?? 0)}</td></tr>`)
  .join('\n')}</table>
</main></body></html>
`;
}
