/**
 * The flags that decide what a scan finds besides the rules (pipeline/settings.ts
 * DetectionSettingsSchema): `scan` takes them, and `remediate` takes the same so that its
 * re-verification finds again what the scan found (a roster's findings, attachments deeper or
 * larger than the defaults).
 */
import type { Command } from 'commander';
import { definedOnly as given } from '../common/defined.js';
import { parseSize, positiveInt } from './common.js';
import { expandHome } from './inputs.js';

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
