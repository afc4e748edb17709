/**
 * One scan's settings as one strict value. Flags (cli/scan.ts), a `--config` YAML file, library
 * callers and queue jobs all come to this shape; session/session.ts runs a scan from it, and a
 * queue worker (queue/worker.ts) parses its job's part with the same schema. Strict: an unknown
 * key is an error, so a typo never silently does nothing. Secrets are never settings: they come
 * from the environment (CONTRACT.md), so a config file can be shared and checked in.
 *
 * Here, below the session and the queue, so both read the one schema (docs/architecture.md).
 */
import { z } from 'zod';
import { definedOnly } from '../common/defined.js';
import { sizeInBytes } from '../common/size.js';
import type { ExtractLimits } from '../extract/context.js';
import { CONFIDENCES, type Confidence } from '../model/finding.js';
import { FORMATS } from '../sinks/index.js';
import { SOURCES, type SourceSettings } from '../sources/registry.js';

export const DEFAULT_MESSAGE_TIMEOUT_S = 60;
export const DEFAULT_THREAD_MEMORY_MB = 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;


/** A size in bytes, or as text (`50MB`). */
const Size = z.union([
  z.number().int().min(1024, 'at least 1KB'),
  z.string().transform((text, ctx) => {
    const bytes = sizeInBytes(text);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a size of at least 1KB such as 50MB, 512KB or 1048576' });
      return z.NEVER;
    }
    return bytes;
  }),
]);
const Count = z.number().int().min(1);

export const OutputSchema = z.strictObject({ format: z.enum(FORMATS).optional(), out: z.string().min(1).optional() });
export type Output = z.infer<typeof OutputSchema>;

/** Each source's own settings under its name (`imap:`, `graph:`), from the registry. */
const sourceSettingsShape = Object.fromEntries(SOURCES.map((s) => [s.name, s.settings.optional()]));

export const ScanSettingsSchema = z.strictObject({
  /** What to scan: SOURCE strings (mbox:PATH, maildir:PATH, imaps://USER@HOST, graph://TENANT/*). */
  sources: z.array(z.string().min(1, 'must not be empty')).min(1, 'at least one source'),
  /** Rules folders; "builtin" is the bundled rules/ (the default). */
  rules: z.array(z.string().min(1)).optional(),
  minConfidence: z.enum(CONFIDENCES).default('medium'),
  /** The mailbox name to report for archive sources. */
  mailbox: z.string().min(1).optional(),
  /** Messages parsed and scanned at once. */
  concurrency: Count.default(8),
  /** Worker threads; 0 scans on the main thread (default: CPU cores - 1, at least 1). */
  threads: z.number().int().min(0).optional(),
  /** Seconds: with threads, a message still scanning after this long is an error record. */
  messageTimeout: Count.default(DEFAULT_MESSAGE_TIMEOUT_S),
  /** MB: with threads, the heap limit of each worker thread. */
  threadMemory: Count.default(DEFAULT_THREAD_MEMORY_MB),
  maxMessageSize: Size.default(DEFAULT_MAX_MESSAGE_BYTES),
  maxDepth: Count.default(5),
  maxAttachmentSize: Size.optional(),
  /** Seconds to read one attachment (default 30). */
  attachmentTimeout: Count.optional(),
  /** OCR of images and of PDF pages without a text layer (default on; `--no-ocr`). */
  ocr: z.boolean().default(true),
  /** Seconds of OCR for one page, every orientation tried included (default 20). */
  ocrTimeout: Count.optional(),
  /** Pages OCRed per attachment (default 20). */
  maxOcrPages: Count.optional(),
  /** A patient roster built by `phi-scan edm build` (edm/edm.ts). */
  edm: z.string().min(1).optional(),
  /** State folder or .db file (default: $PHI_SCAN_STATE, else the XDG state home). */
  state: z.string().min(1).optional(),
  /** A progress line on stderr when it is a terminal. */
  progress: z.boolean().default(true),
  sinceLast: z.boolean().default(false),
  strict: z.boolean().default(false),
  /** Seconds to wait for another scan using the same state database. */
  waitLock: Count.optional(),
  ignoreFile: z.string().min(1).optional(),
  /** false: no colour in the table. */
  color: z.boolean().optional(),
  /** One report (`--format`, `--out`): of this run. */
  format: z.enum(FORMATS).optional(),
  out: z.string().min(1).optional(),
  /** Several reports (a scheduled scan): of the state store's current picture. */
  outputs: z.array(OutputSchema).min(1, 'at least one output').optional(),
  /** `redis://…`: run the units on queue workers (default $PHI_SCAN_REDIS_URL). */
  queue: z.string().min(1).optional(),
  /** Free text for people (e.g. "nightly 02:30 from phi-scan.timer"); phi-scan does not schedule itself. */
  schedule: z.string().optional(),
  ...sourceSettingsShape,
});
/** What a caller gives (defaults may be left out, sizes may be text). */
export type ScanSettingsInput = z.input<typeof ScanSettingsSchema>;
export type ScanSettings = z.output<typeof ScanSettingsSchema>;

/** zod issues as "key.path: message" lines. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length > 0 ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Each source's own settings, by source name (what scan() and queue jobs carry). */
export function sourceSettingsOf(settings: JobSettings): Record<string, unknown> {
  const all = settings as Record<string, unknown>;
  return Object.fromEntries(SOURCES.filter((s) => all[s.name] !== undefined).map((s) => [s.name, all[s.name]]));
}

/**
 * Settings of the process that runs the scan, not of the scan: a queue job does not carry them
 * (everything else it does, so a new setting reaches the workers without touching src/queue/).
 * Paths and outputs name the coordinator's files (and may name a person); the rest is applied
 * where the records are written (the coordinator) or is the coordinator's own process.
 */
export const PER_PROCESS = {
  /** The job names its one SOURCE (`spec`). */
  sources: true,
  /** Each worker loads its own `--rules`; the job carries their digest, checked equal. */
  rules: true,
  /** The coordinator's state store, lock, outputs and terminal. */
  state: true,
  waitLock: true,
  progress: true,
  color: true,
  format: true,
  out: true,
  outputs: true,
  queue: true,
  schedule: true,
  /** Applied by the coordinator: the resume cursor (job `after`), the run's status, suppression. */
  sinceLast: true,
  strict: true,
  ignoreFile: true,
  /** Units read at once by the coordinator (a worker has its own `--concurrency`). */
  concurrency: true,
} as const;

/** What a queue job carries: the scan's settings without the per-process ones (same strict schema). */
export const JobSettingsSchema = ScanSettingsSchema.omit(PER_PROCESS);
export type JobSettings = z.output<typeof JobSettingsSchema>;

/** The job's part of ScanSettings (what the coordinator puts into every job). */
export function jobSettingsOf(settings: ScanSettings): JobSettings {
  const job: Record<string, unknown> = { ...settings };
  for (const key of Object.keys(PER_PROCESS)) delete job[key];
  return job as JobSettings;
}

/**
 * What the pipeline reads from the settings (pipeline/run.ts ScanOptions), made the same way for
 * a one-process scan (session/session.ts) and a queue worker (queue/worker.ts).
 */
export interface SettingsScanOptions {
  readonly minConfidence: Confidence;
  readonly maxMessageBytes: number;
  readonly maxNestingDepth: number;
  /** Per-attachment extraction limits (see extract/context.ts for the defaults). */
  readonly limits: Partial<ExtractLimits>;
  /** `--mailbox`: the mailbox name to report for archive sources. */
  readonly mailbox?: string | undefined;
  /** Each source's own settings under its name (`{ imap: {...}, graph: {...} }`, sources/registry.ts). */
  readonly sourceSettings: SourceSettings;
  /** `--edm FILE`: the patient roster as keyed fingerprints (edm/edm.ts). */
  readonly edm?: string | undefined;
  /** Worker threads that parse and scan messages; 0: on this thread. Default: CPU cores - 1, at least 1. */
  readonly threads?: number | undefined;
  /** With threads: a message still scanning after this long becomes a 'timeout' error record. */
  readonly messageTimeoutMs: number;
  /** With threads: heap cap of each worker thread, MB. */
  readonly threadMemoryMb: number;
}

/**
 * The settings that decide what a message's scan finds besides the rules: how deep and how much
 * of the attachments is read, OCR, the roster. `remediate` re-verifies with the same (cli/detection.ts).
 */
export const DetectionSettingsSchema = ScanSettingsSchema.pick({ maxDepth: true, maxAttachmentSize: true, attachmentTimeout: true, ocr: true, ocrTimeout: true, maxOcrPages: true, edm: true });
export type DetectionSettings = z.infer<typeof DetectionSettingsSchema>;

/** What `remediate` reads messages with again: the detection settings and the threads' fences. */
export const RescanSettingsSchema = DetectionSettingsSchema.extend(ScanSettingsSchema.pick({ threads: true, messageTimeout: true, threadMemory: true }).shape);

/** How deep and how much of a message is read, from the detection settings. */
export function detectionOf(s: Omit<DetectionSettings, 'edm'>): { maxNestingDepth: number; limits: Partial<ExtractLimits> } {
  return {
    maxNestingDepth: s.maxDepth,
    limits: definedOnly<ExtractLimits>({
      maxAttachmentBytes: s.maxAttachmentSize,
      maxAttachmentMillis: s.attachmentTimeout !== undefined ? s.attachmentTimeout * 1000 : undefined,
      ocr: s.ocr ? undefined : false,
      maxOcrPageMillis: s.ocrTimeout !== undefined ? s.ocrTimeout * 1000 : undefined,
      maxOcrPages: s.maxOcrPages,
    }),
  };
}

/** The pipeline's options from the settings; fields the settings leave unset stay unset (the pipeline's defaults). */
export function scanOptionsOf(s: JobSettings): SettingsScanOptions {
  return {
    minConfidence: s.minConfidence,
    maxMessageBytes: s.maxMessageSize,
    ...detectionOf(s),
    mailbox: s.mailbox,
    sourceSettings: sourceSettingsOf(s),
    edm: s.edm,
    threads: s.threads,
    messageTimeoutMs: s.messageTimeout * 1000,
    threadMemoryMb: s.threadMemory,
  };
}
