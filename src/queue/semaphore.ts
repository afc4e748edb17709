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

// A token bucket in Redis (Redis's own clock, so workers' clocks do not matter).
// KEYS[1]: the bucket; ARGV: rate per second, burst. Returns 0 (go) or the ms to wait.
const TAKE = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or ms
tokens = math.min(burst, tokens + (ms - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', ms)
redis.call('PEXPIRE', KEYS[1], 60000)
return wait`;

/** Waits for one token of `key`'s bucket: at most `ratePerSecond` across every caller, bursts up to `burst`. */
export async function takeToken(redis: Redis, key: string, ratePerSecond: number, burst: number): Promise<void> {
  for (;;) {
    const wait = (await redis.eval(TAKE, 1, key, ratePerSecond, burst)) as number;
    if (wait === 0) return;
    await new Promise((r) => setTimeout(r, wait));
  }
}
