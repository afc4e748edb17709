/**
 * The report format registry. `jsonl` streams the contract's records as the scan goes; the
 * rendered formats (table, json, csv, html) come from one report model built from a state store
 * after the scan (report/report.ts). The CLI renders them from its state database; a library
 * caller without one gets a sink that records the scan in an in-memory store and renders from it.
 */
import { jsonlSink } from './jsonl.js';
import type { TextOutput } from './output.js';
import type { Sink } from './types.js';
import type { TableOptions } from './table.js';

export const FORMATS = ['table', 'json', 'jsonl', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];
export type RenderedFormat = Exclude<Format, 'jsonl'>;

/**
 * A sink writing `format` to `out`. For a rendered format the whole run is kept in an in-memory
 * SQLite store until close (memory grows with the messages scanned; the CLI uses its state file).
 */
export function createSink(format: Format, out: TextOutput, options: { table?: TableOptions } = {}): Sink {
  if (format === 'jsonl') return jsonlSink(out);
  let store: import('../state/store.js').StateStore | undefined;
  const open = async (): Promise<import('../state/store.js').StateStore> => {
    const { openStateStore } = await import('../state/store.js');
    // Run info is completed at close, when the summary names the sources and threshold.
    return (store ??= openStateStore(':memory:', { sources: [], sinceLast: false, minConfidence: 'medium', details: format === 'json' }));
  };
  return {
    async write(event) {
      await (await open()).write(event);
    },
    async close(summary) {
      const s = await open();
      await s.close(summary);
      s.db.prepare('UPDATE runs SET sources = ?, min_confidence = ?, started_at = ? WHERE id = ?').run(JSON.stringify(summary.sources), summary.minConfidence, summary.startedAt, s.runId);
      const { writeReport } = await import('../report/report.js');
      // What the store does not hold: --strict, and the mailboxes the run stopped in (marked *).
      const scan = { strict: summary.strict, partlyRead: new Set(summary.mailboxes.filter((m) => m.interrupted).map((m) => `${m.source}\0${m.mailbox}`)) };
      await writeReport(s.db, format, out, { kind: 'run', run: s.runId }, { ...(options.table ? { table: options.table } : {}), scan });
      s.dispose();
      await out.end();
    },
  };
}
