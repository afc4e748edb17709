/**
 * Keyed fingerprints: HMAC-SHA-256 with a per-installation secret, truncated to 64 bits.
 * Equal identifiers get equal fingerprints across scans (distinct-individual counts, baselines),
 * and without the key they cannot be brute-forced from the small SSN/MBI value spaces.
 */
import { createHmac, hash } from 'node:crypto';

export type FingerprintKey = Buffer;

/** SHA-256's block: HMAC pads the key to it. */
const BLOCK = 64;
/** Inputs up to this many UTF-8 bytes take the fast path; longer ones the plain HMAC. */
const SCRATCH = 1024;

/** A key's HMAC pads, laid out in place once: [key ⊕ ipad | message] and [key ⊕ opad | inner digest]. */
interface Pads {
  /** A copy of the key they were made from: a caller that changes its key buffer gets new pads. */
  readonly key: Buffer;
  readonly inner: Buffer;
  readonly outer: Buffer;
}

const padsByKey = new WeakMap<Buffer, Pads>();

function padsFor(key: Buffer): Pads {
  const known = padsByKey.get(key);
  if (known && known.key.equals(key)) return known;
  // RFC 2104: a key longer than the block is hashed first; shorter ones are zero-padded.
  const k = key.length > BLOCK ? hash('sha256', key, 'buffer') : key;
  const inner = Buffer.alloc(BLOCK + SCRATCH);
  const outer = Buffer.alloc(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const b = k[i] ?? 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  const pads = { key: Buffer.from(key), inner, outer };
  padsByKey.set(key, pads);
  return pads;
}

/**
 * HMAC-SHA-256(key, category NUL normalized), first 64 bits in hex: bit for bit the value of
 * `createHmac('sha256', key).update(category).update('\0').update(normalized)` (state databases
 * and baselines hold it). Computed as two one-shot hashes over the key's pads laid out once
 * (HMAC's definition), which costs less than half a new Hmac object per finding; a roster of
 * thousands of identifiers is thousands of fingerprints.
 */
export function fingerprint(key: FingerprintKey, category: string, normalized: string): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: past the scratch space, the plain HMAC.
  if ((category.length + normalized.length) * 3 + 1 > SCRATCH) {
    return createHmac('sha256', key).update(category).update('\0').update(normalized).digest('hex').slice(0, 16);
  }
  const { inner, outer } = padsFor(key);
  let end = BLOCK + inner.write(category, BLOCK, 'utf8');
  inner[end++] = 0;
  end += inner.write(normalized, end, 'utf8');
  outer.write(hash('sha256', inner.subarray(0, end), 'hex'), BLOCK, 'hex');
  return hash('sha256', outer, 'hex').slice(0, 16);
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
