/** The synthetic demo archive's ground truth (fixtures/demo/planted.json). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

export const DEMO = path.join(ROOT, 'fixtures', 'demo');

export interface Planted {
  category: string;
  value: string;
  location: string;
  form: string;
}
export interface PlantedMessage {
  mailbox: string;
  folder: string;
  messageId: string | null;
  subject: string;
  planted: Planted[];
  corrupt: boolean;
}
export interface PlantedFile {
  mailboxes: Record<string, { messages: number; folders: Record<string, number> }>;
  rawValues: string[];
  messages: PlantedMessage[];
}

export const planted = JSON.parse(readFileSync(path.join(DEMO, 'planted.json'), 'utf8')) as PlantedFile;

/** Every raw value in every printed form a leak could take: as planted, digits only, without separators. */
export function leakNeedles(): string[] {
  const needles = new Set<string>();
  for (const v of planted.rawValues) {
    needles.add(v);
    const compact = v.replace(/[\s\-–./]/g, '');
    if (compact.length >= 6) needles.add(compact);
  }
  return [...needles].filter((n) => n.length >= 6);
}
