/**
 * The engine's explanation of each finding (score, part, why) as the scan made it. The state
 * store keeps findings without it, so a json report rendered right after a scan takes it from
 * here. Holds only what the json format needs; values are masked.
 */
import type { FindingDetail, RemediationRow } from './model.js';
import { definedOnly } from '../common/defined.js';
import type { Sink } from './types.js';

export function explanationCollector(): { sink: Sink; explain: (m: RemediationRow, f: FindingDetail) => Partial<FindingDetail> | undefined } {
  const byKey = new Map<string, Partial<FindingDetail>>();
  const key = (source: string, mailbox: string, folder: string, messageId: string, location: string, rule: string, fingerprint: string): string =>
    [source, mailbox, folder, messageId, location, rule, fingerprint].join('\0');
  return {
    sink: {
      write(event) {
        if (event.type !== 'message') return;
        const { context: c, outcome: o } = event;
        for (const f of o.findings) {
          // Merged over the store's details (report/report.ts): a field it does not know is left out, not set to undefined.
          byKey.set(key(c.source, c.mailbox, c.folder, o.messageId, f.location, f.rule, f.fingerprint), definedOnly<FindingDetail>({ part: f.part, score: Math.round(f.score * 100) / 100, why: f.why }));
        }
      },
      async close() {},
    },
    explain: (m, f) => byKey.get(key(m.source, m.mailbox, m.folder, m.messageId, f.location, f.rule, f.fingerprint)),
  };
}
