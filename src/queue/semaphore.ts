/**
 * A counting semaphore in Redis, shared by every worker: at most `cap` holders at once. A
 * holder's lease expires unless renewed, so a worker killed with SIGKILL frees its slot after
 * LEASE_MS. Used for the IMAP per-host connection cap and the Graph per-tenant cap.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

const LEASE_MS = 30_000;
const POLL_MS = 250;

// KEYS[1]: the holders (sorted set token → lease end); ARGV: now, lease end, token, cap.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ${LEASE_MS * 2})
  return 1
end
return 0`;

export interface Slot {
  release(): Promise<void>;
}

export async function acquireSlot(redis: Redis, key: string, cap: number, signal?: AbortSignal): Promise<Slot> {
  const token = randomBytes(8).toString('hex');
  for (;;) {
    const now = Date.now();
    const got = (await redis.eval(ACQUIRE, 1, key, now, now + LEASE_MS, token, cap)) as number;
    if (got === 1) break;
    if (signal?.aborted) throw new Error('aborted while waiting for a slot');
    await new Promise((r) => setTimeout(r, POLL_MS + Math.floor(Math.random() * POLL_MS)));
  }
  const renew = setInterval(() => {
    void redis.zadd(key, 'XX', Date.now() + LEASE_MS, token).catch(() => undefined);
  }, LEASE_MS / 3);
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      await redis.zrem(key, token).catch(() => undefined);
    },
  };
}
