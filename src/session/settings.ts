/**
 * One scan's settings as one strict value. Flags (cli/scan.ts), a `--config` YAML file, library
 * callers and queue jobs all come to this shape; session.ts runs a scan from it. Strict: an
 * unknown key is an error, so a typo never silently does nothing. Secrets are never settings:
 * they come from the environment (CONTRACT.md), so a config file can be shared and checked in.
 */
import { z } from 'zod';
import { CONFIDENCES } from '../model/finding.js';
import { FORMATS } from '../sinks/index.js';
import { SOURCES } from '../sources/registry.js';

export const DEFAULT_MESSAGE_TIMEOUT_S = 60;
export const DEFAULT_THREAD_MEMORY_MB = 1024;
export const DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

/** `50MB`, `512k`, `1048576` → bytes; undefined when it is not a size of at least 1KB. */
export function sizeInBytes(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.floor(Number(m[1]) * factor);
  return bytes < 1024 ? undefined : bytes;
}

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
export function sourceSettingsOf(settings: ScanSettings): Record<string, unknown> {
  const all = settings as Record<string, unknown>;
  return Object.fromEntries(SOURCES.filter((s) => all[s.name] !== undefined).map((s) => [s.name, all[s.name]]));
}
