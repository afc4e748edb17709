/**
 * `--format jsonl`: CONTRACT.md's records, one JSON object a line, streamed as the scan goes,
 * and last a `run` record with the run's outcome (complete, incomplete, interrupted): a file
 * without one was cut short.
 */
import type { Sink } from './types.js';
import { findingRecord, messageRecord, runRecord } from './types.js';
import type { TextOutput } from './output.js';
import { LineBytes } from './line-bytes.js';

export function jsonlSink(out: TextOutput): Sink {
  const lines = new LineBytes();
  return {
    async write(event) {
      if (event.type === 'message') {
        const { context, outcome } = event;
        if (outcome.findings.length === 0) return;
        // A message's lines go out in one write, encoded line by line (line-bytes.ts).
        for (const f of outcome.findings) lines.add(JSON.stringify(findingRecord(context, outcome.messageId, f)));
        lines.add(JSON.stringify(messageRecord(context, outcome)));
        const bytes = lines.take();
        await (out.writeBytes ? out.writeBytes(bytes) : out.write(bytes.toString('utf8')));
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
