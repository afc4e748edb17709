/**
 * What travels through Redis between the coordinator (scan --queue) and the workers: job data
 * (which units to read, with which settings) and result batches (unit events: masked values
 * and fingerprints only; no message content, no raw identifier). Both directions are checked
 * with zod when read: Redis is a boundary.
 */
import { createHash, createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CATEGORIES, CONFIDENCES } from '../model/finding.js';
import type { UnitEvent } from '../pipeline/unit.js';
import { findingPacker, findingUnpacker } from '../pipeline/outcome-wire.js';
import { JobSettingsSchema } from '../pipeline/settings.js';

/** The BullMQ queue every coordinator and worker of one Redis database share. */
export const QUEUE_NAME = 'phi-scan';

/** Redis keys of one scan (results, counters); all deleted when the scan is finished. */
export const scanPrefix = (scanId: string): string => `phi-scan:scan:${scanId}`;
export const resultKey = (scanId: string, token: string, offset: number): string => `${scanPrefix(scanId)}:r:${token}:${offset}`;
export const messagesKey = (scanId: string): string => `${scanPrefix(scanId)}:messages`;
/** How many jobs, in scan order, a coordinator of the scan has written and deleted the results of. */
export const consumedKey = (scanId: string): string => `${scanPrefix(scanId)}:consumed`;
/** Counts the coordinators started for the scan: names the new jobs of a restarted one. */
export const generationKey = (scanId: string): string => `${scanPrefix(scanId)}:generation`;
/** BullMQ job ids may not contain ':'. */
export const jobId = (scanId: string, job: number): string => `${scanId}-${job}`;

/**
 * A public name for the fingerprint key: HMAC of a fixed label, so equal keys match and the key
 * cannot be recovered from it. Workers refuse jobs made with another key.
 */
export function keyId(key: Buffer): string {
  return createHmac('sha256', key).update('phi-scan queue key id').digest('hex').slice(0, 16);
}

/** A digest of the rule files (names and contents) of the given folders, in name order. */
export async function rulesDigest(dirs: readonly string[]): Promise<string> {
  const files: { name: string; text: string }[] = [];
  for (const dir of dirs) {
    for (const name of (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n))) {
      files.push({ name, text: await readFile(path.join(dir, name), 'utf8') });
    }
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.text < b.text ? -1 : 1));
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.name}\0${f.text}\0`);
  return h.digest('hex').slice(0, 16);
}

const SourceUnitSchema = z.strictObject({ id: z.string(), source: z.string(), mailbox: z.string(), folder: z.string(), ref: z.string(), origin: z.string().optional(), range: z.strictObject({ start: z.number().int().nonnegative(), end: z.number().int().positive().optional() }).optional() });

export const JobDataSchema = z.strictObject({
  scanId: z.string().regex(/^[0-9a-f]{16}$/),
  keyId: z.string(),
  rulesDigest: z.string(),
  /** The SOURCE argument the units came from. */
  spec: z.string(),
  /**
   * The scan's settings but the per-process ones (pipeline/settings.ts JobSettingsSchema: the
   * same strict schema as every scan), so a worker scans as the coordinator would.
   */
  settings: JobSettingsSchema,
  /**
   * `--edm`: the keyed digest of the roster's bytes (edm/edm.ts edmDigest); `settings.edm` is
   * its absolute path, which every worker must see: a worker scans only with that very file.
   */
  edmDigest: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  /** Units in scan order; `after`: resume after this cursor (--since-last). */
  units: z.array(z.strictObject({ unit: SourceUnitSchema, after: z.string().optional() })).min(1),
}).refine((job) => (job.settings.edm === undefined) === (job.edmDigest === undefined), { message: 'settings.edm and edmDigest go together', path: ['edmDigest'] });
export type JobData = z.infer<typeof JobDataSchema>;

/** A job that is not of this phi-scan version's shape: why, by key path (no value). */
export interface JobRefusal {
  readonly code: 'job-invalid';
  readonly message: string;
}

/** The job's data, checked with the same schemas as a one-process scan's settings, or why it is refused. */
export function parseJob(data: unknown): { job: JobData } | { refused: JobRefusal } {
  const parsed = JobDataSchema.safeParse(data);
  if (parsed.success) return { job: parsed.data };
  const why = parsed.error.issues.map((i) => {
    const where = i.path.length > 0 ? i.path.join('.') : 'the job';
    const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
    return `${where}: ${i.code.replace(/_/g, ' ')}${keys}`;
  });
  return { refused: { code: 'job-invalid', message: `not a job of this phi-scan version: ${why.join('; ')}` } };
}

/** What a finished job returns: which attempt's result lists are the job's results. */
export const JobResultSchema = z.strictObject({ token: z.string().regex(/^[0-9a-f]{16}$/), units: z.number().int().nonnegative() });
export type JobResult = z.infer<typeof JobResultSchema>;

// Codes, findings and outcomes are checked for shape, not for a closed set of values: a field
// or problem code added to the pipeline must not make the coordinator reject a worker's results.
const ProblemSchema = z.looseObject({ code: z.string(), message: z.string(), location: z.string().optional() });

// A finding's `why`: names of patterns and keywords from the rules, never values.
const WhySchema = z.looseObject({ pattern: z.string(), verdict: z.string(), baseScore: z.number(), score: z.number() });
const CategorySchema = z.enum(CATEGORIES);
const ConfidenceSchema = z.enum(CONFIDENCES);

/**
 * A message's findings travel packed (pipeline/outcome-wire.ts: repeated strings once per batch,
 * each finding a row of values): as JSON objects each checked by zod, the coordinator spent ~5 µs
 * a finding; packed, ~2 µs. Each value's type is checked as it is unpacked (findingUnpacker).
 */
const PackedValuesSchema = z.array(z.unknown());

const UnitEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('message'),
    locator: z.string(),
    folder: z.string().optional(),
    size: z.number(),
    outcome: z.looseObject({
      messageId: z.string(),
      date: z.string().nullable(),
      maskedSubject: z.string().nullable(),
      findings: PackedValuesSchema,
      problems: z.array(ProblemSchema),
    }),
  }),
  z.strictObject({ type: z.literal('error'), problem: ProblemSchema }),
  z.strictObject({ type: z.literal('cursor'), cursor: z.string() }),
  // IMAP UIDs still in the folder (numbers and a sequence-set only), or Graph delta's @removed
  // message locators (ids, never content; at most a delta page of them per event).
  z.strictObject({
    type: z.literal('present'),
    present: z.union([
      z.strictObject({ uidValidity: z.string().regex(/^\d+$/), upTo: z.number().int().nonnegative(), uids: z.string().regex(/^[\d:,]*$/) }),
      z.strictObject({ removed: z.array(z.string().min(1).max(2048)).max(5000) }),
    ]),
  }),
]);

/** A batch of one unit's events as a worker writes it to Redis: the findings of its messages packed against one string table. */
export const BatchSchema = z.strictObject({ strings: z.array(z.string()), events: z.array(UnitEventSchema) });

export function writeBatch(events: readonly UnitEvent[]): string {
  const packer = findingPacker();
  const packed = events.map((e) => (e.type === 'message' ? { ...e, outcome: { ...e.outcome, findings: packer.pack(e.outcome.findings) } } : e));
  return JSON.stringify({ strings: packer.strings, events: packed });
}

/** A batch read back: its shape checked by zod, its findings unpacked (types checked there) and checked for what they mean. Throws on anything else. */
export function parseBatch(text: string): UnitEvent[] {
  const batch = BatchSchema.parse(JSON.parse(text));
  const unpack = findingUnpacker(batch.strings);
  // Each distinct category, confidence and explanation checked once (findings share them).
  const onceEach = (schema: z.ZodType): ((value: unknown) => void) => {
    const checked = new Set<unknown>();
    return (value) => {
      if (checked.has(value)) return;
      schema.parse(value);
      checked.add(value);
    };
  };
  const [category, confidence, why] = [onceEach(CategorySchema), onceEach(ConfidenceSchema), onceEach(WhySchema)];
  return batch.events.map((e): UnitEvent => {
    if (e.type !== 'message') return e as UnitEvent;
    const findings = unpack(e.outcome.findings);
    for (const f of findings) {
      category(f.category);
      confidence(f.confidence);
      why(f.why);
    }
    return { ...e, outcome: { ...e.outcome, findings } } as UnitEvent;
  });
}
