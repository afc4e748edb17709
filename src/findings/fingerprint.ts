/**
 * Keyed fingerprints: HMAC-SHA-256 with a per-installation secret, truncated to 64 bits.
 * Equal identifiers get equal fingerprints across scans (distinct-individual counts, baselines),
 * and without the key they cannot be brute-forced from the small SSN/MBI value spaces.
 */
import { createHmac } from 'node:crypto';

export type FingerprintKey = Buffer;

export function fingerprint(key: FingerprintKey, category: string, normalized: string): string {
  return createHmac('sha256', key).update(category).update('\0').update(normalized).digest('hex').slice(0, 16);
}

/**
 * A keyed digest of a name that is needed only for equality (a unit id: a file path or an IMAP
 * folder, which may hold an identifier), so the state database and Redis can match units across
 * runs without holding the name. `h:` tells a digest from a raw id of an earlier version.
 */
export function nameDigest(key: FingerprintKey, name: string): string {
  return `h:${createHmac('sha256', key).update('phi-scan name\0').update(name).digest('hex').slice(0, 32)}`;
}

export const isNameDigest = (id: string): boolean => /^h:[0-9a-f]{32}$/.test(id);
