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
