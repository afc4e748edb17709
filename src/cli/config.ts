/**
 * `phi-scan scan --config FILE`: a YAML file of scan settings: any scan flag, in camelCase
 * (`minConfidence`, `maxMessageSize: 50MB`), plus `sources`, `outputs` (several reports) and each
 * source's own settings under its name (`imap: {accountsFile, folders}`, `graph: {users, group}`).
 * Checked with the same strict schema as every scan (pipeline/settings.ts): an unknown key is an
 * error, so a typo never silently does nothing. Errors name the file, the key path and what is wrong.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ScanError } from '../common/errors.js';
import { ScanSettingsSchema, describeIssues } from '../pipeline/settings.js';

/** Every key optional: the command line may give the rest (its sources are added to the file's). */
export const ScanConfigSchema = ScanSettingsSchema.partial();
export type ScanConfig = z.output<typeof ScanConfigSchema>;

export async function loadScanConfig(file: string): Promise<ScanConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScanError('config', `--config ${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  // Loaded here, not at start-up: most scans have no --config (and the rules need no YAML parse).
  const { parse: parseYaml } = await import('yaml');
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
