/**
 * `phi-scan scan --config FILE`: a YAML file with what a scheduled scan needs, validated with
 * zod (strict: an unknown key is an error, so a typo never silently does nothing). Errors name
 * the file, the key path and what is wrong. Secrets are not accepted here: they come from the
 * environment (CONTRACT.md), so a config file can be shared and checked in.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CONFIDENCES } from '../model/finding.js';
import { FORMATS } from '../sinks/index.js';
import { ScanError } from '../shared/errors.js';

const Size = z.union([z.number().int().min(1024), z.string().regex(/^\d+(?:\.\d+)?\s*(?:[kmg]i?b?|b)?$/i, 'a size such as 50MB, 512KB or 1048576')]);

export const ScanConfigSchema = z.strictObject({
  /** What to scan: SOURCE strings as on the command line (mbox:PATH, maildir:PATH, imaps://USER@HOST, graph://TENANT/*). */
  sources: z.array(z.string().min(1, 'must not be empty')).min(1, 'at least one source'),
  /** Rules folders; "builtin" is the bundled rules/. */
  rules: z.array(z.string().min(1)).optional(),
  /** Thresholds. */
  minConfidence: z.enum(CONFIDENCES).optional(),
  maxMessageSize: Size.optional(),
  maxDepth: z.number().int().min(1).optional(),
  concurrency: z.number().int().min(1).optional(),
  /** The mailbox name to report for archive sources. */
  mailbox: z.string().min(1).optional(),
  /** State folder or .db file (default: $PHI_SCAN_STATE, else the XDG state home). */
  state: z.string().min(1).optional(),
  /** Scan only what is new since the last scan of each folder. */
  sinceLast: z.boolean().optional(),
  /** Reports to write; each format at most once per file. Default: jsonl on stdout. */
  outputs: z
    .array(z.strictObject({ format: z.enum(FORMATS), out: z.string().min(1).optional() }))
    .min(1, 'at least one output')
    .optional(),
  /** Free text for people (e.g. "nightly 02:30 from phi-scan.timer"); phi-scan does not schedule itself. */
  schedule: z.string().optional(),
});
export type ScanConfig = z.infer<typeof ScanConfigSchema>;

/** zod issues as "key.path: message" lines (knip style). */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length > 0 ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

export async function loadScanConfig(file: string): Promise<ScanConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScanError('config', `--config ${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    const pos = (err as { linePos?: { line: number }[] }).linePos?.[0];
    throw new ScanError('config', `--config ${file}: not valid YAML${pos ? ` (line ${pos.line})` : ''}`);
  }
  const parsed = ScanConfigSchema.safeParse(data ?? {});
  if (!parsed.success) throw new ScanError('config', `--config ${file}: ${describeIssues(parsed.error)}`);
  const outs = (parsed.data.outputs ?? []).map((o) => o.out ?? '-');
  const dup = outs.find((o, i) => outs.indexOf(o) !== i);
  if (dup !== undefined) throw new ScanError('config', `--config ${file}: outputs: two outputs write to ${dup === '-' ? 'stdout' : dup}`);
  return parsed.data;
}
