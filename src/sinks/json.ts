/**
 * `--format json`: one document from the report model — scope, totals, completeness, actions,
 * categories, mailboxes ranked by exposure, runs and trend — then every message holding PHI
 * (its remediation row and its findings) and every error record. Messages and errors are
 * streamed one by one, so memory stays bounded however many there are. Masked values only.
 */
import type { ErrorRecord } from './types.js';
import { HHS_THRESHOLD, type FindingDetail, type RemediationRow, type ReportModel } from './model.js';
import type { TextOutput } from './output.js';

export const JSON_REPORT_VERSION = 2;

export type JsonMessage = RemediationRow & { findingDetails: FindingDetail[] };

export async function writeJson(model: ReportModel, messages: Iterable<JsonMessage>, errors: Iterable<ErrorRecord>, out: TextOutput): Promise<void> {
  const head = {
    version: JSON_REPORT_VERSION,
    scope: model.scope,
    title: model.title,
    generatedAt: model.generatedAt,
    run: model.run ?? null,
    // The scope's run when it was interrupted or never finished (else null): the figures are partial.
    interrupted: model.interrupted ?? null,
    threshold: HHS_THRESHOLD,
    totals: model.totals,
    completeness: model.completeness,
    actions: model.actions,
    categories: model.categories,
    mailboxes: model.mailboxes,
    runs: model.runs,
    trend: model.trend,
    // Remediation progress per mailbox (remediation-status records) once anything was acted on or found gone; null otherwise.
    remediation: model.remediation ?? null,
    // Findings an ignore file left out of every figure above ({ file, findings }); null when none was applied.
    suppressed: model.suppressed ?? null,
  };
  const text = JSON.stringify(head, null, 2);
  await out.write(`${text.slice(0, -2)},\n  "messages": [`);
  let first = true;
  for (const m of messages) {
    await out.write(`${first ? '' : ','}\n    ${JSON.stringify(m)}`);
    first = false;
  }
  await out.write(`${first ? '' : '\n  '}],\n  "errors": [`);
  first = true;
  for (const e of errors) {
    await out.write(`${first ? '' : ','}\n    ${JSON.stringify(e)}`);
    first = false;
  }
  await out.write(`${first ? '' : '\n  '}]\n}\n`);
}
