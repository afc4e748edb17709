/**
 * `phi-scan worker`: runs scan jobs from the BullMQ queue. A job is one unit (a folder of a
 * mailbox, an mbox file), or every folder of one Graph mailbox. The worker reads the unit from
 * its source (credentials and files are the worker machine's own), scans it with the same
 * pipeline as a one-process scan (pipeline/unit.ts), and pushes the unit's events to Redis in
 * batches. Each attempt writes under its own token and returns the token: a killed attempt's
 * partial results are never read, so every message counts once.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { createEngine } from '../engine/engine.js';
import { edmDigest, parseEdm, type Edm } from '../edm/edm.js';
import { nameDigest } from '../findings/fingerprint.js';
import { maskPath } from '../findings/names.js';
import { safeReason } from '../common/safe-reason.js';
import { ByteBudget } from '../pipeline/byte-budget.js';
import { messageScanOptions, messageScanner, type ScannerOptions } from '../pipeline/run.js';
import type { MessageScanner } from '../pipeline/scanner.js';
import { scanOptionsOf, sourceSettingsOf } from '../pipeline/settings.js';
import { scanUnit, type UnitEvent, type UnitScanContext } from '../pipeline/unit.js';
import type { Rule } from '../rules/compile.js';
import { definitionOf } from '../sources/registry.js';
import type { Source } from '../sources/types.js';
import { acquireSlot, takeToken, type Slot } from './semaphore.js';
import { QUEUE_NAME, keyId, messagesKey, parseJob, resultKey, writeBatch, type JobData, type JobResult } from './protocol.js';
import { connectRedis, describeRedisUrl } from './redis.js';

/** Events per Redis list entry: few round trips, small entries. */
const BATCH_EVENTS = 256;
/** Result lists outlive a coordinator that never comes back, but not forever. */
const RESULT_TTL_MS = 7 * 24 * 3600 * 1000;
/** Messages parsed and scanned at once inside one job. */
const MESSAGE_CONCURRENCY = 8;
/** Sources kept open between jobs of the same scan (network sources list their units once). */
const SOURCE_CACHE = 8;
/** Rosters (--edm) kept loaded: one is the usual case; a second while scans with another overlap. */
const ROSTER_CACHE = 2;
/** Message scanners (worker threads) of other settings kept when idle. */
const SCANNER_CACHE = 2;

export interface WorkerOptions {
  readonly url: URL;
  readonly key: Buffer;
  readonly rules: readonly Rule[];
  readonly rulesDigest: string;
  /** Jobs run at once by this worker. */
  readonly concurrency: number;
  readonly env: NodeJS.ProcessEnv;
  /** One line at a time (stderr): job ids, counts and errors, never content. */
  readonly log: (line: string) => void;
  /** Job lock and stalled-check interval (PHI_SCAN_QUEUE_LOCK_MS). */
  readonly lockMs: number;
  /** Graph requests per second per tenant across workers (PHI_SCAN_QUEUE_GRAPH_RATE). */
  readonly graphRate: number;
  /** Test only: a pause per message (PHI_SCAN_QUEUE_TEST_DELAY_MS). */
  readonly delayMs: number;
  /** Aborted: finish the jobs in hand, then stop. */
  readonly stop: AbortSignal;
}

/** Runs until `stop` is aborted; returns the exit code (2 on a key or rules mismatch). */
export async function runWorker(o: WorkerOptions): Promise<number> {
  const redis = await connectRedis(o.url);
  const today = new Date();
  const engine = createEngine(o.rules, o.key, { today });
  const safeText = maskPath(engine.redact);
  const myKeyId = keyId(o.key);
  const budget = new ByteBudget(256 * 1024 * 1024);
  const parseLimit = pLimit(MESSAGE_CONCURRENCY * o.concurrency);
  const sources = new Map<string, Promise<OpenSource>>();
  // Test-only knobs (documented in README: Scale-out, testing): a unit whose path contains
  // PHI_SCAN_QUEUE_TEST_FAIL always fails; PHI_SCAN_QUEUE_TEST_DELAY_MS slows every message.
  const failOn = o.env.PHI_SCAN_QUEUE_TEST_FAIL;
  const delayMs = o.delayMs;
  const lockMs = o.lockMs;
  let exitCode = 0;
  const refuse = new AbortController();
  // Rosters by their keyed digest: each is read and loaded once, whichever jobs and scans use it.
  const rosters = new Map<string, Promise<Edm>>();
  const rosterFor = (wanted: RosterRef): Promise<Edm> => {
    let cached = rosters.get(wanted.digest);
    if (!cached) {
      cached = loadRoster(wanted, o.key);
      void cached.then((edm) => o.log(`phi-scan: worker: roster loaded (${edm.header.rows} rows)`), () => undefined);
      rosters.set(wanted.digest, cached);
      // Not kept when it failed: the file may be mounted or fixed by the next attempt.
      cached.catch(() => rosters.delete(wanted.digest));
      while (rosters.size > ROSTER_CACHE) rosters.delete(rosters.keys().next().value as string);
    }
    return cached;
  };

  const sourceFor = (data: JobData): Promise<OpenSource> => {
    const cacheKey = `${data.scanId}\0${data.spec}`;
    let cached = sources.get(cacheKey);
    if (!cached) {
      const rateKey = definitionOf(data.spec).rateKey(data.spec);
      const rate = o.graphRate;
      const gate = rateKey !== undefined ? () => takeToken(redis, `phi-scan:limit:${rateKey}`, rate, rate) : undefined;
      cached = openSource(data, o.env, o.key, gate);
      sources.set(cacheKey, cached);
      cached.catch(() => sources.delete(cacheKey));
      while (sources.size > SOURCE_CACHE) {
        const [oldest, source] = sources.entries().next().value as [string, Promise<OpenSource>];
        sources.delete(oldest);
        void source.then((s) => s.source.close?.()).catch(() => undefined);
      }
    }
    return cached;
  };

  // Message scanners by the settings that shape them: made from the job's settings exactly as a
  // one-process scan makes its own (pipeline/run.ts messageScanner: worker threads, message
  // timeout, thread memory, extraction limits, roster), kept for the next job or scan with the
  // same settings, closed once idle and evicted. All judge dates against the worker's "today".
  const scanners = new Map<string, { scanner: Promise<MessageScanner>; options: UnitScanContext['options']; users: number }>();
  const scannerFor = (data: JobData, roster: Edm | undefined): { scanner: Promise<MessageScanner>; options: UnitScanContext['options']; release: () => void } => {
    const options: ScannerOptions = { rules: o.rules, key: o.key, ...scanOptionsOf(data.settings) };
    const { rules: _rules, key: _key, ...shaping } = options;
    const cacheKey = JSON.stringify({ ...shaping, roster: data.edmDigest });
    let entry = scanners.get(cacheKey);
    if (!entry) {
      entry = { scanner: messageScanner(engine, options, today, roster), options: messageScanOptions(options, today, roster), users: 0 };
      scanners.set(cacheKey, entry);
      entry.scanner.catch(() => scanners.delete(cacheKey));
    }
    const held = entry;
    held.users++;
    for (const [k, other] of scanners) {
      if (scanners.size <= SCANNER_CACHE) break;
      if (other.users > 0 || other === held) continue;
      scanners.delete(k);
      void other.scanner.then((x) => x.close()).catch(() => undefined);
    }
    return { scanner: held.scanner, options: held.options, release: () => void held.users-- };
  };

  const processor = async (job: Job, lockToken?: string): Promise<JobResult> => {
    const parsed = parseJob(job.data);
    if ('refused' in parsed) {
      // Not this version's job (or altered in Redis): failed for good, its unit an error record
      // at the coordinator (job-failed, naming the keys); this worker runs on.
      const why = safeText(parsed.refused.message);
      o.log(`phi-scan: worker: refusing job ${job.id ?? '?'}: ${parsed.refused.code}: ${why}`);
      throw new UnrecoverableError(`${parsed.refused.code}: ${why}`);
    }
    const data = parsed.job;
    const mismatch =
      data.keyId !== myKeyId
        ? 'the fingerprint key differs (set the same PHI_SCAN_KEY on the coordinator and every worker)'
        : data.rulesDigest !== o.rulesDigest
          ? 'the rules differ (give every worker the same --rules as the coordinator)'
          : undefined;
    if (mismatch) {
      // Fingerprints made with another key (or other rules) would not match the coordinator's:
      // the job goes back to the queue untouched for a worker that fits, and this one stops.
      o.log(`phi-scan: worker: refusing job ${job.id ?? '?'}: ${mismatch}; stopping`);
      exitCode = 2;
      refuse.abort();
      await job.moveToDelayed(Date.now() + 1000, lockToken);
      throw new DelayedError();
    }
    if (failOn && data.units.some(({ unit }) => unit.ref.includes(failOn))) throw new Error('failing on purpose (PHI_SCAN_QUEUE_TEST_FAIL)');
    const token = randomBytes(8).toString('hex');
    // A roster this worker cannot read, or not the coordinator's: the job fails (retried, then a
    // job-failed error record naming why), never scanned without it.
    const roster = data.settings.edm !== undefined && data.edmDigest !== undefined ? await rosterFor({ path: data.settings.edm, digest: data.edmDigest }) : undefined;
    const { source, unitIds } = await sourceFor(data);
    const slot = await limitSlot(redis, data);
    const scanning = scannerFor(data, roster);
    let ctx: UnitScanContext;
    try {
      ctx = { engine, options: scanning.options, scanner: await scanning.scanner, budget, parseLimit, window: MESSAGE_CONCURRENCY };
    } catch (err) {
      scanning.release();
      await slot?.release();
      throw new Error(safeText(safeReason(err)));
    }
    let scanned = 0;
    let flushed = false;
    o.log(`phi-scan: worker: job ${job.id ?? '?'} started (attempt ${job.attemptsMade + 1})`);
    try {
      for (const [offset, { unit: sent, after }] of data.units.entries()) {
        // The job carries the unit id's digest; a network source finds its folder by the real id.
        const unit = { ...sent, id: unitIds.get(sent.id) ?? sent.id };
        const key = resultKey(data.scanId, token, offset);
        let batch: UnitEvent[] = [];
        let batchMessages = 0;
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const text = writeBatch(batch);
          const n = batchMessages;
          batch = [];
          batchMessages = 0;
          await redis.multi().rpush(key, text).pexpire(key, RESULT_TTL_MS).incrby(messagesKey(data.scanId), n).exec();
          if (!flushed) o.log(`phi-scan: worker: job ${job.id ?? '?'} first results written`);
          flushed = true;
        };
        await scanUnit(source, unit, after !== undefined ? { unitId: unit.id, cursor: after } : undefined, ctx, async (event) => {
          batch.push(event);
          if (event.type === 'message') {
            batchMessages++;
            scanned++;
            if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
          }
          if (batch.length >= BATCH_EVENTS) await flush();
        });
        await flush();
      }
    } catch (err) {
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      // BullMQ keeps a failed job's message and stack in Redis: only a masked reason goes there.
      throw new Error(safeText(safeReason(err)));
    } finally {
      scanning.release();
      await slot?.release();
    }
    o.log(`phi-scan: worker: job ${job.id ?? '?'} done: ${data.units.length} unit(s), ${scanned} messages`);
    return { token, units: data.units.length };
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redis,
    concurrency: o.concurrency,
    // A killed worker's job is taken again once its lock expires and a stalled check runs.
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 2,
  });
  worker.on('failed', (job, err) => o.log(`phi-scan: worker: job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${safeReason(err)}`));
  worker.on('error', (err) => o.log(`phi-scan: worker: ${safeReason(err)}`));
  o.log(`phi-scan: worker: waiting for jobs on ${describeRedisUrl(o.url)} (concurrency ${o.concurrency})`);

  await new Promise<void>((resolve) => {
    if (o.stop.aborted || refuse.signal.aborted) resolve();
    o.stop.addEventListener('abort', () => resolve(), { once: true });
    refuse.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // Graceful: jobs in hand run to their end (a second signal kills the process; the job then
  // stalls and another worker takes it).
  await worker.close();
  for (const x of scanners.values()) await x.scanner.then((m) => m.close()).catch(() => undefined);
  for (const s of sources.values()) await s.then((x) => x.source.close?.()).catch(() => undefined);
  await redis.quit().catch(() => undefined);
  return exitCode;
}

/** Where the job's roster is (its absolute path) and the coordinator's keyed digest of it. */
interface RosterRef {
  readonly path: string;
  readonly digest: string;
}

/**
 * The job's roster, read from its path on this worker and checked against the coordinator's
 * digest. Errors name neither the path nor anything of the content.
 */
async function loadRoster(wanted: RosterRef, key: Buffer): Promise<Edm> {
  let bytes: Buffer;
  try {
    bytes = await readFile(wanted.path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new Error(`the roster (--edm) cannot be read on this worker (${typeof code === 'string' ? code : 'I/O error'}); every worker needs the coordinator's EDM file at the same path`);
  }
  if (edmDigest(bytes, key) !== wanted.digest) {
    throw new Error("the roster (--edm) on this worker differs from the coordinator's; every worker needs the same EDM file at the same path");
  }
  try {
    return parseEdm(bytes, 'the roster', key);
  } catch {
    throw new Error('the roster (--edm) cannot be loaded on this worker');
  }
}

/** A source opened by a worker, and the digests of its units' ids (network sources) → the ids. */
interface OpenSource {
  readonly source: Source;
  readonly unitIds: ReadonlyMap<string, string>;
}

/** Archive sources read a unit from its path alone; network sources list their units once. */
async function openSource(data: JobData, env: NodeJS.ProcessEnv, key: Buffer, rateGate?: () => Promise<void>): Promise<OpenSource> {
  const definition = definitionOf(data.spec);
  const o = scanOptionsOf(data.settings);
  const source = definition.create(data.spec, o.sourceSettings[definition.name], { maxMessageBytes: o.maxMessageBytes, mailbox: o.mailbox }, { env, beforeRequest: rateGate });
  const unitIds = new Map<string, string>();
  if (definition.listsUnitsOnWorker) {
    // Mailboxes that cannot be opened were reported by the coordinator already.
    for (const unit of await source.units(() => undefined)) unitIds.set(nameDigest(key, unit.id), unit.id);
  }
  return { source, unitIds };
}

/**
 * Limits that hold across workers, as the job's source defines them (sources/registry.ts): IMAP
 * jobs hold one of the host's connection slots (--imap-connections, default 4); Graph jobs (one
 * mailbox each, at most 4 requests in flight inside) hold one of their tenant's job slots.
 */
async function limitSlot(redis: Redis, data: JobData): Promise<Slot | undefined> {
  const definition = definitionOf(data.spec);
  const limit = definition.limit(data.spec, sourceSettingsOf(data.settings)[definition.name]);
  return limit ? acquireSlot(redis, `phi-scan:limit:${limit.key}`, limit.slots) : undefined;
}
