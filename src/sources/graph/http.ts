/**
 * Every request to Microsoft Graph goes through here: @microsoft/microsoft-graph-client with
 * our own middleware chain (auth → read-only guard → fetch), plus what the SDK does not do
 * for us — per-mailbox and global concurrency limits, retries that honour Retry-After, retries
 * of dropped connections, JSON batching with per-step retries, and a count of it all.
 *
 * Why not the SDK's RetryHandler: it does not retry network errors (a dropped socket surfaces
 * as `TypeError: terminated`, docs/GRAPH.md §8), it cannot retry a failure that
 * happens while the body is read, and it keeps no statistics.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Context, Middleware, ResponseType } from '@microsoft/microsoft-graph-client';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import { OVERSIZE_HEAD_BYTES } from '../types.js';

/** Throttling and retry figures for the end-of-scan summary. */
export interface GraphStats {
  /** HTTP requests sent to Graph (a $batch counts once). */
  requests: number;
  /** Steps sent inside $batch requests. */
  batchSteps: number;
  retries: number;
  /** Responses 429 (throttled) and 503/504 (service busy), batch steps included. */
  throttled: number;
  /** Dropped connections and other network failures. */
  networkErrors: number;
  /** Time spent waiting before retries, summed over all requests. */
  waitedMs: number;
}

export function newGraphStats(): GraphStats {
  return { requests: 0, batchSteps: 0, retries: 0, throttled: 0, networkErrors: 0, waitedMs: 0 };
}

export interface GraphHttpOptions {
  /** `https://graph.microsoft.com` or a national cloud / test endpoint (no version). */
  readonly endpoint: string;
  readonly getToken: () => Promise<string>;
  /** Requests in flight per mailbox: Exchange Online allows 4 (GRAPH.md §7, MailboxConcurrency). */
  readonly perMailbox: number;
  /** Requests in flight across all mailboxes. */
  readonly global: number;
  readonly maxRetries: number;
  /** First backoff step when the server gives no Retry-After; doubles per attempt, full jitter. */
  readonly retryBaseMs: number;
  readonly stats: GraphStats;
  readonly signal?: AbortSignal;
  /** Awaited before every request once it holds its slot (a rate limit shared by queue workers). */
  readonly beforeRequest?: () => Promise<void>;
}

/** Graph's documented error body (GRAPH.md §7): branch on `code`, never on `message`. */
const GraphErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

/** A failed Graph call. `code` is Graph's error code; the message names the request kind, never content. */
export class GraphHttpError extends Error {
  override readonly name = 'GraphHttpError';
  constructor(
    message: string,
    /** HTTP status, 0 for a network failure. */
    readonly status: number,
    /** Graph's `error.code` (e.g. MailboxNotEnabledForRESTAPI), or '' when none came back. */
    readonly code: string,
    /** Milliseconds the server asked us to wait (Retry-After), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  get retriable(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 503 || this.status === 504;
  }
}

/**
 * Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3). Graph sends seconds;
 * the date form is honoured too, as the SDK's RetryHandler does.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And Jitter"). */
export function backoffMs(attempt: number, baseMs: number, capMs = 60_000): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Thrown before a non-GET request could leave the process. */
export class ReadOnlyViolation extends Error {
  override readonly name = 'ReadOnlyViolation';
}

/**
 * Read-only by construction: the last middleware before the network refuses anything but GET,
 * and a POST only to `$batch` when every step in it is a GET. The token request is made by
 * MSAL, not through this chain.
 */
export class ReadOnlyGuard implements Middleware {
  private next: Middleware | undefined;
  async execute(context: Context): Promise<void> {
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    if (method !== 'GET') {
      const ok = method === 'POST' && new URL(url).pathname.endsWith('/$batch') && batchIsAllGets(context.options?.body);
      if (!ok) throw new ReadOnlyViolation(`refused to send ${method}: phi-scan only reads`);
    }
    if (!this.next) throw new Error('ReadOnlyGuard: no next middleware');
    await this.next.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

function batchIsAllGets(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  const parsed = z.object({ requests: z.array(z.object({ method: z.string() })) }).safeParse(JSON.parse(body));
  return parsed.success && parsed.data.requests.every((r) => r.method.toUpperCase() === 'GET');
}

/** One step of a JSON batch (GRAPH.md §6): a relative URL without the version. */
export interface BatchStep {
  readonly id: string;
  readonly url: string;
  /** Which mailbox the step reads, for error messages. */
  readonly mailbox?: string;
}
export interface BatchResult {
  readonly status: number;
  readonly body: unknown;
  /** Set when the step failed for good (after retries). */
  readonly error?: GraphHttpError;
}

const BatchResponse = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

/** Graph allows at most 20 steps in a batch (json-batching.md). */
export const MAX_BATCH = 20;

export interface GraphHttp {
  /** GETs JSON from a path (`/users/...`) or an absolute link (@odata.nextLink/deltaLink). */
  getJson(url: string, mailbox?: string, headers?: Record<string, string>): Promise<unknown>;
  /** GETs a body as bytes, reading at most `maxBytes` (the head is kept, the rest is not read). */
  getBytes(url: string, mailbox: string, maxBytes: number): Promise<{ bytes: Buffer; size: number; oversize?: { limit: number; sha256: string } }>;
  /** Runs GETs as JSON batches of ≤ 20; each step is retried on its own when throttled. */
  batch(steps: readonly BatchStep[]): Promise<Map<string, BatchResult>>;
}

export function createGraphHttp(options: GraphHttpOptions): GraphHttp {
  const endpoint = new URL(options.endpoint);
  const authProvider = { getAccessToken: options.getToken };
  // The Graph SDK loads with the first request, not at start-up (most commands send none).
  let sdk: Promise<{ client: Client; raw: ResponseType }> | undefined;
  const graphClient = (): Promise<{ client: Client; raw: ResponseType }> =>
    (sdk ??= import('@microsoft/microsoft-graph-client').then(({ AuthenticationHandler, Client, HTTPMessageHandler, ResponseType }) => {
      const auth = new AuthenticationHandler(authProvider);
      const guard = new ReadOnlyGuard();
      const fetcher = new HTTPMessageHandler();
      auth.setNext(guard);
      guard.setNext(fetcher);
      const client = Client.initWithMiddleware({
        middleware: auth,
        baseUrl: `${endpoint.origin}/`,
        defaultVersion: 'v1.0',
        // The SDK adds the bearer token only to Graph hosts and these (GRAPH.md §8): a national
        // cloud or a test endpoint must be listed, by host name without port.
        customHosts: new Set([endpoint.hostname]),
      });
      return { client, raw: ResponseType.RAW };
    }));
  const stats = options.stats;
  const global = pLimit(Math.max(1, options.global));
  const mailboxes = new Map<string, LimitFunction>();
  const limited = <T>(mailbox: string | undefined, call: () => Promise<T>): Promise<T> => {
    const gate = options.beforeRequest;
    const fn = gate ? async (): Promise<T> => (await gate(), call()) : call;
    if (mailbox === undefined) return global(fn);
    let limit = mailboxes.get(mailbox);
    if (!limit) {
      limit = pLimit(Math.max(1, options.perMailbox));
      mailboxes.set(mailbox, limit);
    }
    return limit(() => global(fn));
  };

  const withRetry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      try {
        return await fn();
      } catch (err) {
        const e = toHttpError(err, what);
        if (!e.retriable || attempt >= options.maxRetries) throw e;
        if (e.status === 0) stats.networkErrors++;
        else stats.throttled++;
        const wait = e.retryAfterMs ?? backoffMs(attempt, options.retryBaseMs);
        stats.retries++;
        stats.waitedMs += wait;
        await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
      }
    }
  };

  const send = async (what: string, url: string, build?: (r: ReturnType<Client['api']>) => Promise<unknown>): Promise<Response> => {
    const { client, raw } = await graphClient();
    stats.requests++;
    const request = client.api(url).responseType(raw);
    const res = (await (build ? build(request) : request.get())) as Response;
    if (!res.ok) throw await errorFromResponse(res, what);
    return res;
  };

  return {
    getJson(url, mailbox, headers) {
      const what = describe(url);
      return withRetry(what, () =>
        limited(mailbox, async () => {
          const res = await send(what, url, headers ? (r) => r.headers(headers).get() : undefined);
          // The body is read inside the retry: a connection dropped mid-body is retried too.
          return JSON.parse(await res.text()) as unknown;
        }),
      );
    },
    getBytes(url, mailbox, maxBytes) {
      const what = describe(url);
      return withRetry(what, () => limited(mailbox, async () => readCapped(await send(what, url), maxBytes)));
    },
    async batch(steps) {
      const results = new Map<string, BatchResult>();
      let pending = [...steps];
      for (let attempt = 0; pending.length > 0; attempt++) {
        const retry: BatchStep[] = [];
        let wait = 0;
        const chunks: BatchStep[][] = [];
        for (let i = 0; i < pending.length; i += MAX_BATCH) chunks.push(pending.slice(i, i + MAX_BATCH));
        // Batches go out concurrently, within the global limit.
        await Promise.all(
          chunks.map(async (chunk) => {
            const body = { requests: chunk.map((s) => ({ id: s.id, method: 'GET', url: s.url })) };
            const raw = await withRetry('$batch', () =>
              limited(undefined, async () => {
                stats.batchSteps += chunk.length;
                const res = await send('$batch', '/$batch', (r) => r.header('Content-Type', 'application/json').post(JSON.stringify(body)));
                return JSON.parse(await res.text()) as unknown;
              }),
            );
            const parsed = BatchResponse.safeParse(raw);
            if (!parsed.success) throw new GraphHttpError('$batch: unexpected response shape', 200, 'badBatchResponse');
            const byId = new Map(parsed.data.responses.map((r) => [r.id, r]));
            for (const step of chunk) {
              const r = byId.get(step.id);
              if (!r) {
                retry.push(step);
                continue;
              }
              if (r.status >= 200 && r.status < 300) {
                results.set(step.id, { status: r.status, body: r.body });
                continue;
              }
              const e = stepError(r.status, r.body, headerOf(r.headers, 'retry-after'), describe(step.url));
              // Each step is throttled on its own and may come back 429 inside a 200 batch (json-batching.md).
              if (e.retriable && attempt < options.maxRetries) {
                stats.throttled++;
                stats.retries++;
                retry.push(step);
                wait = Math.max(wait, e.retryAfterMs ?? backoffMs(attempt, options.retryBaseMs));
              } else {
                results.set(step.id, { status: r.status, body: r.body, error: e });
              }
            }
          }),
        );
        pending = retry;
        if (pending.length > 0 && wait > 0) {
          stats.waitedMs += wait;
          await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
        }
      }
      return results;
    },
  };
}

function headerOf(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** A short name for the kind of request, for error text: no ids, no tokens. */
export function describe(url: string): string {
  const path = url.replace(/^https?:\/\/[^/]+/, '').replace(/^\/v1\.0|^\/beta/, '').split('?')[0] ?? '';
  if (/\/\$value$/.test(path)) return 'GET message $value';
  if (/\/messages\/delta$/.test(path) || /messages\/delta/.test(path)) return 'GET messages/delta';
  if (/\/childFolders$/.test(path)) return 'GET childFolders';
  if (/\/mailFolders$/.test(path)) return 'GET mailFolders';
  if (/\/mailFolders\/[^/]+$/.test(path)) return 'GET mailFolder';
  if (/^\/groups\//.test(path)) return 'GET group members';
  if (/^\/users\/[^/]+$/.test(path)) return 'GET user';
  if (/^\/users$/.test(path)) return 'GET users';
  return 'GET';
}

async function errorFromResponse(res: Response, what: string): Promise<GraphHttpError> {
  let body: unknown;
  try {
    body = JSON.parse(await res.text());
  } catch {
    body = undefined;
  }
  return stepError(res.status, body, res.headers.get('retry-after'), what);
}

function stepError(status: number, body: unknown, retryAfter: string | null | undefined, what: string): GraphHttpError {
  const parsed = GraphErrorBody.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : '';
  const retryAfterMs = parseRetryAfter(retryAfter);
  // Graph's messages can quote the mailbox or item id; only the status and code are kept.
  return new GraphHttpError(`${what}: HTTP ${status}${code ? ` ${code}` : ''}`, status, code, retryAfterMs);
}

/** Anything thrown by fetch or the SDK that is not an HTTP answer is a network failure. */
function toHttpError(err: unknown, what: string): GraphHttpError {
  if (err instanceof GraphHttpError) return err;
  // The SDK wraps what a middleware throws into a GraphError whose `code` is the error's name.
  const name = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? (err as { name?: unknown }).name) : '';
  if (name === 'ReadOnlyViolation') return new GraphHttpError(`${what}: refused: phi-scan only reads`, -1, 'readOnly');
  if (name === 'GraphAuthError') return new GraphHttpError(`${what}: could not get an access token`, 401, 'authFailed');
  if (typeof err === 'object' && err !== null && (err as { name?: string }).name === 'AbortError') throw err;
  const code = networkCode(err);
  return new GraphHttpError(`${what}: connection failed (${code})`, 0, code);
}

function networkCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && typeof e === 'object' && e !== null; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && /^[A-Z_]+$/.test(c)) return c;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error && /terminated/i.test(err.message) ? 'terminated' : 'network error';
}

/**
 * Reads a response body up to the cap. Past it, reading stops: the head (enough for the
 * headers) is kept for the error record and the connection is released (`cancel`), so a huge
 * message costs neither memory nor the rest of its download. The hash is of the head only
 * because the rest was never read; it identifies the message in the error record.
 */
async function readCapped(res: Response, maxBytes: number): Promise<{ bytes: Buffer; size: number; oversize?: { limit: number; sha256: string } }> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const body = res.body;
  if (!body) return { bytes: Buffer.alloc(0), size: 0 };
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        const head = Buffer.concat(chunks).subarray(0, Math.min(OVERSIZE_HEAD_BYTES, maxBytes));
        const size = Number.isFinite(declared) ? declared : total;
        return { bytes: Buffer.from(head), size, oversize: { limit: maxBytes, sha256: createHash('sha256').update(head).digest('hex') } };
      }
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = Buffer.concat(chunks);
  return { bytes, size: bytes.length };
}
