/**
 * `--format jsonl`: CONTRACT.md's records, one JSON object a line, streamed as the scan goes,
 * and last a `run` record with the run's outcome (complete, incomplete, interrupted): a file
 * without one was cut short.
 */
import type { Sink } from './types.js';
import { findingRecord, messageRecord, runRecord } from './types.js';
import type { TextOutput } from './output.js';

export function jsonlSink(out: TextOutput): Sink {
  return {
    async write(event) {
      if (event.type === 'message') {
        const { context, outcome } = event;
        if (outcome.findings.length === 0) return;
        let lines = '';
        for (const f of outcome.findings) lines += `${JSON.stringify(findingRecord(context, outcome.messageId, f))}\n`;
        lines += `${JSON.stringify(messageRecord(context, outcome))}\n`;
        await out.write(lines);
      } else {
        await out.write(`${JSON.stringify(event.record)}\n`);
      }
    },
    async close(summary) {
      await out.write(`${JSON.stringify(runRecord(summary))}\n`);
      await out.end();
    },
  };
}
