/**
 * Flags of how messages are read, shared by `scan` and `remediate` (whose re-verification must
 * find again what the scan found): the detection flags (pipeline/settings.ts
 * DetectionSettingsSchema: a roster, attachments deeper or larger than the defaults, OCR) and the
 * worker threads' fences (time and memory per message).
 */
import type { Command } from 'commander';
import { definedOnly as given } from '../common/defined.js';
import { DEFAULT_MESSAGE_TIMEOUT_S, DEFAULT_THREAD_MEMORY_MB } from '../pipeline/settings.js';
import { nonNegativeInt, parseSize, positiveInt } from './common.js';
import { expandHome } from './inputs.js';

export interface ThreadFlags {
  threads?: number;
  messageTimeout?: number;
  threadMemory?: number;
}

/** Adds the worker-thread flags (how many, and each message's time and memory fence). */
export function addThreadOptions(command: Command): Command {
  return command
    .option('--threads <n>', 'worker threads that parse and scan messages; 0 scans on the main thread (default: CPU cores - 1, at least 1); by default on 2 cores or fewer, the thread parses messages while the main thread runs the rules', nonNegativeInt)
    .option('--message-timeout <seconds>', `with threads: a message still being parsed or scanned in a thread after this long is stopped and reported as an error (default: ${DEFAULT_MESSAGE_TIMEOUT_S})`, positiveInt)
    .option('--thread-memory <MB>', `with threads: heap limit of each worker thread; a message whose parsing or scan needs more is reported as an error (default: ${DEFAULT_THREAD_MEMORY_MB})`, positiveInt);
}

/** The thread flags given, as settings. */
export function threadSettings(f: ThreadFlags): Record<string, unknown> {
  return given({ threads: f.threads, messageTimeout: f.messageTimeout, threadMemory: f.threadMemory });
}

export interface DetectionFlags {
  maxDepth?: number;
  maxAttachmentSize?: number;
  attachmentTimeout?: number;
  ocr?: boolean;
  ocrTimeout?: number;
  maxOcrPages?: number;
  edm?: string;
}

/** Adds the detection flags to a command; `role` ends each description (what the value is for). */
export function addDetectionOptions(command: Command, role = ''): Command {
  return command
    .option('--max-depth <n>', `how deep attached messages and archives are opened (default: 5)${role}`, positiveInt)
    .option('--max-attachment-size <size>', `larger attachments (and archive members) are reported as errors, not read (default: 50MB)${role}`, parseSize)
    .option('--attachment-timeout <seconds>', `time to read one attachment, archives included (default: 30)${role}`, positiveInt)
    .option('--ocr', 'read images and PDF pages without a text layer by OCR (default)')
    .option('--no-ocr', `do not OCR: images and image-only PDF pages are reported as not read${role}`)
    .option('--ocr-timeout <seconds>', `OCR time for one page, every orientation tried included (default: 20)${role}`, positiveInt)
    .option('--max-ocr-pages <n>', `pages OCRed per attachment (default: 20)${role}`, positiveInt)
    .option('--edm <file>', `a patient roster built by \`phi-scan edm build\`: matching values are high confidence and people are counted by roster row${role}`);
}

/** The detection flags given, as settings (commander's defaults are the settings' defaults). */
export function detectionSettings(f: DetectionFlags): Record<string, unknown> {
  return given({
    maxDepth: f.maxDepth,
    maxAttachmentSize: f.maxAttachmentSize,
    attachmentTimeout: f.attachmentTimeout,
    // --no-ocr: commander sets false only when given.
    ocr: f.ocr === false ? false : undefined,
    ocrTimeout: f.ocrTimeout,
    maxOcrPages: f.maxOcrPages,
    edm: f.edm !== undefined ? expandHome(f.edm) : undefined,
  });
}
