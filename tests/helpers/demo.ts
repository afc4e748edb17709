/** The synthetic demo archive's ground truth (fixtures/demo/planted.json). */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

export const DEMO = path.join(ROOT, 'fixtures', 'demo');

/** The demo archive's EML form, as IMAP folders: root files → INBOX, subfolders → folder paths. */
export function demoFolders(mailbox: string): Record<string, Buffer[]> {
  const out: Record<string, Buffer[]> = {};
  const walk = (dir: string, folder: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p, folder === 'INBOX' ? name : `${folder}/${name}`);
      else (out[folder] ??= []).push(readFileSync(p));
    }
  };
  walk(path.join(DEMO, 'eml', mailbox), 'INBOX');
  return out;
}

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
