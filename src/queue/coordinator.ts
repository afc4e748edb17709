/**
 * `scan --queue`: the coordinator. It lists the units (as a one-process scan does), hands them
 * out as BullMQ jobs with ids derived from the scan id (so a restarted coordinator re-adds the
 * same jobs and BullMQ keeps the existing ones), and replays each unit's events from Redis in
 * scan order into the same ordered-output code as a one-process scan (pipeline/run.ts): the
 * same records, in the same order, into the same sinks and state store.
 *
 * Redis memory stays bounded whatever the archive's size: jobs are handed out in scan order as
 * the output needs them — the next one always, more only while fewer than WAITING_JOBS wait for
 * a worker and Redis has room under `redisBudgetMb` for their results (jobsToHandOut) — and a
 * job's results are deleted once they are written. A coordinator killed at any point and started
 * again (same command, same state folder) finds the results not yet written and writes
 * everything again: a job whose results were already deleted (the `consumed` mark, set before
 * deleting) runs again under a new id. When the whole scan is written, its jobs and keys are
 * deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { safeReason } from '../common/safe-reason.js';
import type { RemoteUnits, UnitWork } from '../pipeline/run.js';
import type { UnitEvent } from '../pipeline/unit.js';
import type { JobSettings } from '../pipeline/settings.js';
import { JobResultSchema, QUEUE_NAME, consumedKey, generationKey, jobId, messagesKey, parseBatch, resultKey, scanPrefix, type JobData } from './protocol.js';
import { connectRedis } from './redis.js';
import { definitionOf } from '../sources/registry.js';

/** Lists entries read from Redis at once: bounds the coordinator's memory per unit. */
const READ_PAGE = 16;
const POLL_MS = 100;
/**
 * Jobs handed out and not yet taken by a worker, at most: enough that a worker finishing a job
 * finds the next one waiting; more would only let results pile up in Redis (a 128 MiB range of
 * PHI-dense mail leaves ~400 MB of results).
 */
const WAITING_JOBS = 4;

/**
 * Jobs to hand out now. The next job the output needs always goes out; more while fewer than
 * WAITING_JOBS wait and Redis has room for them: its memory now, plus the results still to come
 * of every job out and not finished (waiting or running), each as large as the largest job's
 * results seen so far (none seen yet: memory now alone). Results of jobs handed out keep coming
 * whatever the budget says, so they are counted before the jobs go out.
 */
export function jobsToHandOut(s: {
  readonly nextNeeded: boolean;
  readonly waiting: number;
  readonly running: number;
  readonly memoryBytes: number;
  readonly budgetBytes: number;
  readonly resultBytesPerJob: number;
}): number {
  let room = 0;
  if (s.memoryBytes < s.budgetBytes) {
    room = WAITING_JOBS - s.waiting;
    if (s.resultBytesPerJob > 0) room = Math.min(room, Math.floor((s.budgetBytes - s.memoryBytes) / s.resultBytesPerJob) - s.waiting - s.running);
  }
  return Math.max(s.nextNeeded ? 1 : 0, room);
}

export interface CoordinatorOptions {
  readonly url: URL;
  readonly scanId: string;
  readonly keyId: string;
  readonly rulesDigest: string;
  /** Every job carries them unchanged (protocol.ts JobDataSchema). */
  readonly settings: JobSettings;
  /** `--edm`: the roster's keyed digest (setup.ts). */
  readonly edmDigest?: string | undefined;
  /** Attempts per job before it ends as an error record (default 3). */
  readonly attempts: number;
  /**
   * Redis memory (INFO used_memory, MB) that jobs handed out ahead of the output may fill with
   * their results (PHI_SCAN_QUEUE_REDIS_MB, jobsToHandOut); past it only the job the output
   * needs next goes out.
   */
  readonly redisBudgetMb: number;
  /** First retry delay, doubled each attempt. */
  readonly backoffMs: number;
  readonly redact: (text: string) => string;
  /**
   * What a job carries as a unit's id: its keyed digest (findings/fingerprint.ts nameDigest), as
   * the id is a path or an IMAP folder; the worker maps it back from its own unit list.
   */
  readonly unitId: (id: string) => string;
  readonly signal?: AbortSignal;
  /** A progress line (jobs and messages/s across workers), about once a second. */
  readonly onProgress?: ((line: string) => void) | undefined;
}

export interface Coordinator extends RemoteUnits {
  /** The scan is written: delete its jobs and result keys. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

export async function openCoordinator(o: CoordinatorOptions): Promise<Coordinator> {
  const redis = await connectRedis(o.url);
  const queue = new Queue(QUEUE_NAME, { connection: redis });
  /** unit index → its job and its place in the job. */
  const placement: { job: number; offset: number; folder: string }[] = [];
  let jobs: JobData[] = [];
  /** Each job's BullMQ id: the scan's, or a new one for a job whose results an earlier coordinator of this scan deleted. */
  let ids: string[] = [];
  /** Jobs handed out so far (0 … added − 1), and jobs whose results this coordinator has written. */
  let added = 0;
  let consumed = 0;
  // A coordinator of this scan started again: jobs before the mark have no results left in Redis.
  const generation = await redis.incr(generationKey(o.scanId));
  const consumedBefore = Number((await redis.get(consumedKey(o.scanId))) ?? 0);
  let progressTimer: NodeJS.Timeout | undefined;

  /** The largest results of one job written so far (bytes of Redis memory): jobsToHandOut's estimate. */
  let resultBytesPerJob = 0;
  const usedMemory = async (): Promise<number> => Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? 0);

  /** Hands out jobs in scan order: the next one the output needs always, more while few wait and Redis has room. */
  const handOutNow = async (): Promise<void> => {
    if (added >= jobs.length) return;
    const [counts, memory] = await Promise.all([queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active'), usedMemory()]);
    const room = jobsToHandOut({
      nextNeeded: added === consumed,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      running: counts.active ?? 0,
      memoryBytes: memory,
      budgetBytes: o.redisBudgetMb * 1024 * 1024,
      resultBytesPerJob,
    });
    const next = jobs.slice(added, added + room);
    if (next.length === 0) return;
    // A job that exists already (a restarted coordinator) is kept as it is by BullMQ.
    await queue.addBulk(
      next.map((data, k) => ({
        name: 'unit',
        data,
        opts: { jobId: ids[added + k] as string, attempts: o.attempts, backoff: { type: 'exponential', delay: o.backoffMs }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    added += next.length;
  };
  // One hand-out at a time: a timer calls it while the output replays a long job, and so do the waits.
  let handing: Promise<void> | undefined;
  const handOut = (): Promise<void> => (handing ??= handOutNow().finally(() => (handing = undefined)));
  let handOutTimer: NodeJS.Timeout | undefined;

  /** Job `job`'s results are written: marked consumed (before deleting, so a restart never reads a half-deleted job), deleted, and the next jobs handed out. */
  const consume = async (job: number, token: string | undefined): Promise<void> => {
    if (job + 1 > consumedBefore) await redis.set(consumedKey(o.scanId), String(job + 1));
    const units = (jobs[job] as JobData).units.length;
    if (token !== undefined) {
      const keys = Array.from({ length: units }, (_, offset) => resultKey(o.scanId, token, offset));
      // What its results took (SAMPLES 0: every entry counted), for the hand-out's estimate. A
      // Redis that refuses MEMORY (some hosted ones rename commands) leaves the estimate as it was.
      const sizes = await Promise.all(keys.map((k) => redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0').catch(() => null)));
      resultBytesPerJob = Math.max(resultBytesPerJob, sizes.reduce<number>((sum, b) => sum + (Number(b) || 0), 0));
      await redis.unlink(...keys);
    }
    await queue.remove(ids[job] as string).catch(() => undefined);
    // Only now (the hand-out timer may run meanwhile): the next job goes out once this one is gone.
    consumed = job + 1;
    await handOut();
  };

  const startProgress = (): void => {
    if (!o.onProgress) return;
    const started = Date.now();
    let busy = false;
    progressTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void Promise.all([queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'), redis.get(messagesKey(o.scanId))])
        .then(([c, m]) => o.onProgress?.(queueProgressLine(c, Number(m ?? 0), Date.now() - started, { written: consumed, jobs: jobs.length })))
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 1000);
    progressTimer.unref();
  };

  const waitFinished = async (job: number): Promise<'completed' | 'failed' | 'missing' | 'aborted'> => {
    for (;;) {
      if (o.signal?.aborted) return 'aborted';
      if (job >= added) {
        // Not handed out yet (a hand-out under way may have counted before the last job was written).
        await handOut();
        if (job >= added) await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      const state = await queue.getJobState(ids[job] as string);
      if (state === 'completed' || state === 'failed') return state;
      if (state === 'unknown') return 'missing';
      // (Workers that took the waiting jobs meanwhile get new ones from the hand-out timer.)
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  const failed = (folder: string, why: string): UnitEvent => ({
    type: 'error',
    problem: { code: 'job-failed', message: o.redact(`${folder}: not scanned: ${why}`) },
  });

  return {
    async start(work: readonly UnitWork[]): Promise<void> {
      // One job per unit, or (a source whose limits are per mailbox, such as Graph) every unit of
      // one mailbox in one job.
      jobs = [];
      for (const [i, { unit: given, spec, after }] of work.entries()) {
        // `origin` (an archive's raw path) only tells same-named archives apart here, before the
        // jobs are made: it never goes to Redis.
        const { origin: _origin, ...named } = given;
        const unit = { ...named, id: o.unitId(given.id) };
        const last = jobs[jobs.length - 1];
        const lastUnit = last?.units[last.units.length - 1]?.unit;
        if (last && definitionOf(spec).jobs === 'mailbox' && last.spec === spec && lastUnit?.mailbox === unit.mailbox) {
          placement[i] = { job: jobs.length - 1, offset: last.units.length, folder: unit.folder };
          last.units.push({ unit, after: after?.cursor });
          continue;
        }
        placement[i] = { job: jobs.length, offset: 0, folder: unit.folder };
        jobs.push({ scanId: o.scanId, keyId: o.keyId, rulesDigest: o.rulesDigest, edmDigest: o.edmDigest, spec, settings: o.settings, units: [{ unit, after: after?.cursor }] });
      }
      ids = jobs.map((_, j) => (j < consumedBefore ? `${jobId(o.scanId, j)}-r${generation}` : jobId(o.scanId, j)));
      await handOut();
      // Workers finishing jobs while a long one replays get the next ones (errors: the next call says).
      handOutTimer = setInterval(() => void handOut().catch(() => undefined), POLL_MS);
      handOutTimer.unref();
      startProgress();
    },

    async run(index: number, out: (event: UnitEvent) => Promise<void>): Promise<void> {
      const place = placement[index];
      if (!place) throw new Error(`unit ${index} was not started`);
      const id = ids[place.job] as string;
      const state = await waitFinished(place.job);
      if (state === 'aborted') return;
      const token = await replay(id, state, place, out);
      // The job's last unit is written (or reported as not scanned): its results can go.
      if (place.offset === (jobs[place.job] as JobData).units.length - 1) await consume(place.job, token);
    },

    async finish(): Promise<void> {
      clearInterval(handOutTimer);
      for (const id of ids) await queue.remove(id).catch(() => undefined);
      // After a restart, also the jobs an earlier coordinator of this scan left: one killed between
      // writing a job's results and removing the job, or a job it ran again under a new id.
      for (let g = 1; g < generation; g++) {
        for (let j = 0; j < jobs.length; j++) for (const id of [jobId(o.scanId, j), `${jobId(o.scanId, j)}-r${g}`]) if (id !== ids[j]) await queue.remove(id).catch(() => undefined);
      }
      await deleteKeys(redis, `${scanPrefix(o.scanId)}:*`);
    },

    async close(): Promise<void> {
      if (progressTimer) clearInterval(progressTimer);
      clearInterval(handOutTimer);
      await handing?.catch(() => undefined);
      await queue.close().catch(() => undefined);
      await redis.quit().catch(() => undefined);
    },
  };

  /** Replays one unit's results from its finished job; the job's result token, if it has one. */
  async function replay(id: string, state: 'completed' | 'failed' | 'missing', place: { offset: number; folder: string }, out: (event: UnitEvent) => Promise<void>): Promise<string | undefined> {
    const job = await Job.fromId(queue, id);
    if (state === 'missing' || !job) return void (await out(failed(place.folder, 'its queue job disappeared (removed from Redis)')));
    if (state === 'failed') {
      return void (await out(failed(place.folder, `the queue job failed ${job.attemptsMade} times (last: ${safeReason(new Error(job.failedReason))})`)));
    }
    const result = JobResultSchema.safeParse(job.returnvalue);
    if (!result.success) return void (await out(failed(place.folder, 'its queue job returned no result')));
    const key = resultKey(o.scanId, result.data.token, place.offset);
    for (let at = 0; ; at += READ_PAGE) {
      const page = await redis.lrange(key, at, at + READ_PAGE - 1);
      for (const text of page) {
        let events: UnitEvent[];
        try {
          events = parseBatch(text);
        } catch {
          // Not the shape this version writes (a worker of another version): the unit stops here.
          await out(failed(place.folder, 'its results could not be read (are the workers the same phi-scan version?)'));
          return result.data.token;
        }
        for (const event of events) await out(event);
      }
      if (page.length < READ_PAGE) break;
    }
    return result.data.token;
  }
}

/**
 * The coordinator's progress line: how many of this scan's jobs are written (jobs are handed out
 * as the output needs them, so the queue's own counts show only those in flight), jobs of the
 * queue by state, messages/s across workers.
 */
export function queueProgressLine(c: Readonly<Record<string, number | undefined>>, messages: number, elapsedMs: number, scan: { written: number; jobs: number }): string {
  const queued = (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
  const rate = Math.round(messages / Math.max(0.001, elapsedMs / 1000));
  return `queue: ${scan.written} of ${scan.jobs} jobs written · ${queued} queued, ${c.active ?? 0} active, ${c.completed ?? 0} done, ${c.failed ?? 0} failed · ${messages.toLocaleString('en-US')} messages, ${rate} msg/s across workers`;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

const PendingScan = z.strictObject({ scanId: z.string().regex(/^[0-9a-f]{16}$/), startedAt: z.string() });

/**
 * The scan id: kept in the state folder while a queued scan runs, under a name derived from
 * everything that shapes the scan (sources, settings, key id, rules, queue). The same command
 * started again after a crash finds it and picks up the jobs in flight; a finished scan
 * deletes it, so the next run is a new scan.
 */
export async function pendingScan(stateDir: string, identity: unknown): Promise<{ scanId: string; resumed: boolean; forget: () => Promise<void> }> {
  const name = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
  const dir = path.join(stateDir, 'queue');
  const file = path.join(dir, `${name}.json`);
  const forget = (): Promise<void> => rm(file, { force: true });
  try {
    const parsed = PendingScan.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) return { scanId: parsed.data.scanId, resumed: true, forget };
  } catch {
    // no pending scan (or an unreadable note: start a new scan)
  }
  const scanId = randomBytes(8).toString('hex');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify({ scanId, startedAt: new Date().toISOString() })}\n`, { mode: 0o600 });
  return { scanId, resumed: false, forget };
}
