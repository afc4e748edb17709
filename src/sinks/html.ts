/**
 * `--format html`: one self-contained page (no network, no scripts, no external fonts) with the
 * per-mailbox summary, the messages with PHI (masked subjects only) and what could not be read.
 */
import { CATEGORIES } from '../model/finding.js';
import { SKIPPED_DESCRIPTION } from '../model/problem.js';
import type { ErrorRecord, MessageRecord, Sink } from './types.js';
import { messageRecord } from './types.js';
import { rankMailboxes } from './table.js';
import type { TextOutput } from './output.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}th{background:#f3f3f3}
.phi{background:#fde8e8}.warn{color:#8a4b00}h1{font-size:20px}h2{font-size:16px;margin-top:2em}`;

export function htmlSink(out: TextOutput): Sink {
  const messages: (MessageRecord & { subject: string | null })[] = [];
  const errors: ErrorRecord[] = [];
  return {
    write(event) {
      if (event.type === 'message' && event.outcome.findings.length > 0) {
        messages.push({ ...messageRecord(event.context, event.outcome), subject: event.outcome.maskedSubject });
      } else if (event.type === 'error') errors.push(event.record);
    },
    async close(summary) {
      const cats = CATEGORIES.filter((c) => summary.mailboxes.some((m) => (m.byCategory[c] ?? 0) > 0));
      const rows = rankMailboxes(summary.mailboxes)
        .map(
          (m) =>
            `<tr${m.messagesWithPhi > 0 ? ' class="phi"' : ''}><td>${escapeHtml(m.mailbox)}${m.interrupted ? ' <span class="warn">(partly read: interrupted)</span>' : ''}</td><td class="n">${m.messages}</td><td class="n">${m.messagesWithPhi}</td>` +
            cats.map((c) => `<td class="n">${m.byCategory[c] ?? 0}</td>`).join('') +
            `<td class="n">${m.errors}</td><td class="n">${m.skipped}</td></tr>`,
        )
        .join('\n');
      const msgRows = messages
        .map(
          (m) =>
            `<tr><td>${escapeHtml(m.mailbox)}</td><td>${escapeHtml(m.folder)}</td><td>${escapeHtml(m.date ?? '')}</td><td>${escapeHtml(m.subject ?? '')}</td>` +
            `<td>${escapeHtml(m.categories.join(', '))}</td><td class="n">${m.findings}</td><td>${escapeHtml(m.messageId)}</td></tr>`,
        )
        .join('\n');
      const errRows = errors
        .map(
          (e) =>
            `<tr><td>${escapeHtml(e.mailbox ?? '')}</td><td>${escapeHtml(e.folder ?? '')}</td><td>${escapeHtml(e.messageId ?? '')}</td><td>${escapeHtml(e.location ?? '')}</td>` +
            `<td>${e.severity === 'skipped' ? 'not read by design' : 'failed'}</td><td>${escapeHtml(e.error)}</td></tr>`,
        )
        .join('\n');
      const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>phi-scan report</title><style>${STYLE}</style></head><body>
<h1>phi-scan report</h1>
<p>${summary.messages} messages scanned in ${summary.mailboxes.length} mailboxes; <strong>${summary.messagesWithPhi} hold PHI</strong> at ${escapeHtml(summary.minConfidence)} confidence or above. Scan ${escapeHtml(summary.startedAt)} – ${escapeHtml(summary.finishedAt)}.</p>
${summary.status === 'interrupted' ? `<p class="warn" id="interrupted"><strong>Interrupted:</strong> the scan was stopped (${summary.stoppedBy === 'output-closed' ? 'its output was closed' : 'SIGINT/SIGTERM'}) before it ended; these counts cover only what was read.</p>` : ''}
${summary.errors > 0 ? `<p class="warn">${summary.errors} items could not be read: the scan is incomplete (see below).</p>` : ''}
${summary.skipped > 0 ? `<p>${summary.skipped} items ${escapeHtml(SKIPPED_DESCRIPTION)}${summary.strict ? ': with --strict, the scan is incomplete' : ''}.</p>` : ''}
<h2>Mailboxes, worst first</h2>
<table><tr><th>Mailbox</th><th>Messages</th><th>With PHI</th>${cats.map((c) => `<th>${c}</th>`).join('')}<th>Errors</th><th>Not read by design</th></tr>
${rows}</table>
<h2>Messages with PHI</h2>
<table><tr><th>Mailbox</th><th>Folder</th><th>Date</th><th>Subject (masked)</th><th>Categories</th><th>Findings</th><th>Message-ID</th></tr>
${msgRows}</table>
${errors.length > 0 ? `<h2>Not read</h2>\n<table><tr><th>Mailbox</th><th>Folder</th><th>Message-ID</th><th>Location</th><th>Severity</th><th>Reason</th></tr>\n${errRows}</table>` : ''}
</body></html>
`;
      await out.write(html);
      await out.end();
    },
  };
}
