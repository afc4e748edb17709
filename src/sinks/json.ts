/**
 * `--format json`: one document with the summary, mailboxes, messages with their findings
 * (each explained: pattern, validation verdict, keyword, score) and errors. Masked values only.
 */
import type { ErrorRecord, ExplainedFinding, MailboxRecord, MessageRecord, Sink } from './types.js';
import { explainedFinding, messageRecord } from './types.js';
import type { TextOutput } from './output.js';

export const JSON_REPORT_VERSION = 1;

export function jsonSink(out: TextOutput): Sink {
  const messages: (MessageRecord & { subject: string | null; findingDetails: ExplainedFinding[] })[] = [];
  const errors: ErrorRecord[] = [];
  const mailboxes: MailboxRecord[] = [];
  return {
    write(event) {
      if (event.type === 'message') {
        const { context, outcome } = event;
        if (outcome.findings.length === 0) return;
        messages.push({
          ...messageRecord(context, outcome),
          subject: outcome.maskedSubject,
          findingDetails: outcome.findings.map((f) => explainedFinding(context, outcome.messageId, f)),
        });
      } else if (event.type === 'error') errors.push(event.record);
      else mailboxes.push(event.record);
    },
    async close(summary) {
      const { mailboxes: _ignored, ...totals } = summary;
      const doc = { version: JSON_REPORT_VERSION, summary: totals, mailboxes, messages, errors };
      await out.write(`${JSON.stringify(doc, null, 2)}\n`);
      await out.end();
    },
  };
}
