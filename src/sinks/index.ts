/** The report format registry. */
import { csvSink } from './csv.js';
import { htmlSink } from './html.js';
import { jsonSink } from './json.js';
import { jsonlSink } from './jsonl.js';
import type { TextOutput } from './output.js';
import { tableSink } from './table.js';
import type { Sink } from './types.js';

export const FORMATS = ['table', 'json', 'jsonl', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];

const SINKS: Record<Format, (out: TextOutput) => Sink> = {
  table: tableSink,
  json: jsonSink,
  jsonl: jsonlSink,
  csv: csvSink,
  html: htmlSink,
};

export function createSink(format: Format, out: TextOutput): Sink {
  return SINKS[format](out);
}
