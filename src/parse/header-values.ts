/**
 * A message's Message-ID and Date from its raw header, without mailparser: for messages that are
 * not parsed (oversize, unreadable, failed) and for the modules of the main thread that never
 * parse (pool.ts, unit.ts, sources), which so do not load mailparser and the readers (~0.3 s).
 */
import { createHash } from 'node:crypto';

export function syntheticMessageId(raw: Buffer | string): string {
  const hex = typeof raw === 'string' ? raw : createHash('sha256').update(raw).digest('hex');
  return `<sha256:${hex}>`;
}

/** Message-ID and Date from a header block alone (an oversize message we do not parse). */
export function headerFields(head: Buffer): { messageId?: string; date?: string } {
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const id = /^message-id:[ \t]*(\S.*?)\s*$/im.exec(block)?.[1];
  const date = /^date:[ \t]*(\S.*?)\s*$/im.exec(block)?.[1];
  return { ...(id ? { messageId: id } : {}), ...(date ? { date } : {}) };
}

export function isoDate(value: Date | string | undefined): string | null {
  if (value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
