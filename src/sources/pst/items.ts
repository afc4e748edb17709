/** The items readpst wrote into an expansion folder, in a stable order, as MIME messages. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export interface PstItem {
  /** The folder inside the store, e.g. `Inbox/Projects` (the store's root folder is left out). */
  readonly folder: string;
  /** The file readpst wrote, e.g. `.../Inbox/12.eml`. */
  readonly file: string;
  /** Its path below the expansion folder: the message's place in the store, for the locator. */
  readonly relative: string;
  readonly kind: 'message' | 'appointment' | 'contact' | 'other';
}

const KIND_BY_EXTENSION: Record<string, PstItem['kind']> = { '.eml': 'message', '.ics': 'appointment', '.vcf': 'contact' };

/** `12.eml` before `100.eml`; names that are not numbers after those, by name. */
function compareNames(a: string, b: string): number {
  const na = Number.parseInt(a, 10);
  const nb = Number.parseInt(b, 10);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  if (Number.isFinite(na) !== Number.isFinite(nb)) return Number.isFinite(na) ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists every item below `dir`, folder by folder (sorted by folder path, then item number), so
 * an unchanged PST always yields the same order and an index into it is a valid cursor.
 */
export async function listItems(dir: string): Promise<PstItem[]> {
  const found: { parts: string[]; name: string; file: string }[] = [];
  const walk = async (current: string, parts: string[]): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const e of entries) {
      const full = path.join(current, e.name);
      if (e.isDirectory()) await walk(full, [...parts, e.name]);
      else if (e.isFile()) found.push({ parts, name: e.name, file: full });
    }
  };
  await walk(dir, []);
  // readpst writes the store's root folder ("Personal Folders", the store's display name) as
  // the one top folder; folder names start below it, as a mail client shows them.
  const tops = new Set(found.map((f) => f.parts[0] ?? ''));
  const stripTop = tops.size === 1 && !tops.has('');
  const items = found.map(({ parts, name, file }) => {
    const inner = stripTop ? parts.slice(1) : parts;
    const folder = inner.length > 0 ? inner.join('/') : (parts[0] ?? 'INBOX');
    return {
      folder,
      file,
      relative: [...parts, name].join('/'),
      kind: KIND_BY_EXTENSION[path.extname(name).toLowerCase()] ?? 'other',
      name,
    };
  });
  items.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : compareNames(a.name, b.name)));
  return items.map(({ folder, file, relative, kind }) => ({ folder, file, relative, kind }));
}

/**
 * readpst draws MIME boundaries at random (`--boundary-LibPST-iamunique-<random>_-_-`), so the
 * same message would hash differently on every run; numbering them in order of appearance
 * makes the bytes, and so the `<sha256:...>` id of a message without a Message-ID, stable.
 */
export function stableBoundaries(bytes: Buffer): Buffer {
  if (!bytes.includes('LibPST-iamunique-', 0, 'latin1')) return bytes;
  const text = bytes.toString('latin1');
  const seen = new Map<string, number>();
  const out = text.replace(/LibPST-iamunique-(\d+)_-_-/g, (_m, n: string) => {
    let k = seen.get(n);
    if (k === undefined) {
      k = seen.size;
      seen.set(n, k);
    }
    return `LibPST-iamunique-${k}_-_-`;
  });
  return Buffer.from(out, 'latin1');
}

const WRAPPED_TYPE: Record<Exclude<PstItem['kind'], 'message'>, { type: string; name: string }> = {
  appointment: { type: 'text/calendar; charset=utf-8', name: 'appointment.ics' },
  contact: { type: 'text/vcard; charset=utf-8', name: 'contact.vcf' },
  other: { type: 'application/octet-stream', name: 'item' },
};

/**
 * Calendar items and contacts hold PHI too (an appointment's notes, a patient's contact card):
 * they are handed to the pipeline as a message whose one attachment is the item, so they are
 * scanned like any other calendar or vCard attachment. Export-time stamps are dropped, so the
 * bytes (and the synthetic id) are the same on every run.
 */
export function wrapItem(kind: Exclude<PstItem['kind'], 'message'>, bytes: Buffer): Buffer {
  const { type, name } = WRAPPED_TYPE[kind];
  const body = kind === 'other' ? bytes : Buffer.from(bytes.toString('utf8').replace(/^(?:DTSTAMP|REV)[:;].*\r?\n/gm, ''), 'utf8');
  const head =
    'MIME-Version: 1.0\r\n' +
    `Content-Type: ${type}\r\n` +
    `Content-Disposition: attachment; filename="${name}"\r\n` +
    `Content-Transfer-Encoding: ${kind === 'other' ? 'binary' : '8bit'}\r\n` +
    `X-Phi-Scan-Pst-Item: ${kind}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
