/**
 * The Redis connection for the queue: `redis://[USER:PASSWORD@]HOST[:PORT][/DB]` or `rediss://`
 * (TLS), from `--queue` or PHI_SCAN_REDIS_URL. A password and TLS settings come only from the
 * URL (which lives in the environment or a unit file), and the URL is never printed with them.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ScanError } from '../common/errors.js';

export const REDIS_URL_ENV = 'PHI_SCAN_REDIS_URL';

const RedisUrl = z
  .string()
  .refine((s) => URL.canParse(s), 'not a URL')
  .transform((s) => new URL(s))
  .refine((u) => u.protocol === 'redis:' || u.protocol === 'rediss:', 'must be redis://HOST[:PORT][/DB] or rediss://')
  .refine((u) => u.hostname !== '', 'no host')
  .refine((u) => /^\/?(?:\d+)?$/.test(u.pathname), 'the path is a database number, e.g. /0');

/** `redis://HOST:PORT/DB` without user name or password: safe for logs and errors. */
export function describeRedisUrl(url: URL): string {
  return `${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname === '/' ? '' : url.pathname}`;
}

/** `--queue` wins over PHI_SCAN_REDIS_URL; undefined when neither is given. */
export function resolveRedisUrl(flag: string | undefined, env: NodeJS.ProcessEnv): URL | undefined {
  const given = flag ?? env[REDIS_URL_ENV];
  if (given === undefined || given === '') return undefined;
  const parsed = RedisUrl.safeParse(given);
  // The URL may hold a password: the message names what is wrong, never the URL itself.
  if (!parsed.success) throw new ScanError('usage', `${flag !== undefined ? '--queue' : REDIS_URL_ENV}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  // On the command line a password shows in `ps` and shell history (as the IMAP URI, CONTRACT.md).
  if (flag !== undefined && parsed.data.password !== '') {
    throw new ScanError('usage', `--queue: a password in the URL is not accepted (it would show in ps and shell history); set ${REDIS_URL_ENV} instead`);
  }
  return parsed.data;
}

/**
 * A connection as BullMQ wants it: maxRetriesPerRequest null (blocking commands must wait
 * through a reconnect rather than fail). The first PING is awaited with a deadline, so an
 * unreachable Redis is a clear configuration error instead of a hang.
 */
export async function connectRedis(url: URL, timeoutMs = 10_000): Promise<Redis> {
  const { Redis } = await import('ioredis'); // loaded by queue commands only (CLI start-up)
  const redis = new Redis(url.href, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: true });
  let lastError = '';
  redis.on('error', (err: Error & { code?: string }) => {
    lastError = err.code ?? err.name;
  });
  const deadline = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    t.unref();
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
  } catch (err) {
    redis.disconnect();
    const code = (err as { code?: string }).code ?? (lastError || (err as Error).message);
    throw new ScanError('config', `cannot reach Redis at ${describeRedisUrl(url)} (${code})`);
  }
  return redis;
}
