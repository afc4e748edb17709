/** The command line of scale-out: `scan --queue` (coordinator settings) and `phi-scan worker`. */
import type { Confidence } from '../model/finding.js';
import type { ExtractLimits } from '../extract/context.js';
import type { SourceSettings } from '../sources/registry.js';
import type { Rule } from '../rules/compile.js';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { nameDigest } from '../findings/fingerprint.js';
import { openCoordinator, pendingScan, type Coordinator } from '../queue/coordinator.js';
import { keyId, rulesDigest, type Settings } from '../queue/protocol.js';
import { describeRedisUrl } from '../queue/redis.js';
import { runWorker } from '../queue/worker.js';
import { ScanError } from '../shared/errors.js';

export interface CoordinatorSetup {
  readonly url: URL;
  readonly sources: readonly string[];
  readonly stateDir: string;
  readonly key: Buffer;
  readonly rulesDirs: readonly string[];
  readonly sinceLast: boolean;
  readonly minConfidence: Confidence;
  readonly maxMessageBytes: number;
  readonly maxNestingDepth: number;
  readonly limits: Partial<ExtractLimits>;
  readonly mailbox?: string;
  /** Each source's own settings (sources/registry.ts): the jobs carry them unchanged. */
  readonly sourceSettings: SourceSettings;
  readonly redact: (text: string) => string;
  readonly signal: AbortSignal;
  readonly onProgress?: (line: string) => void;
}

/** Opens the coordinator of a queued scan; `done()` after a complete scan deletes its jobs. */
export async function coordinatorFor(s: CoordinatorSetup): Promise<{ coordinator: Coordinator; done: () => Promise<void> }> {
  const settings: Settings = {
    minConfidence: s.minConfidence,
    maxMessageBytes: s.maxMessageBytes,
    maxNestingDepth: s.maxNestingDepth,
    limits: { ...s.limits },
    ...(s.mailbox !== undefined ? { mailbox: s.mailbox } : {}),
    sourceSettings: s.sourceSettings,
  };
  const ids = { keyId: keyId(s.key), rulesDigest: await rulesDigest(s.rulesDirs) };
  const pending = await pendingScan(s.stateDir, { sources: s.sources, sinceLast: s.sinceLast, settings, ...ids, queue: describeRedisUrl(s.url) });
  const env = process.env;
  const coordinator = await openCoordinator({
    url: s.url,
    scanId: pending.scanId,
    ...ids,
    settings,
    attempts: envInt(env, 'PHI_SCAN_QUEUE_ATTEMPTS', 3),
    backoffMs: envInt(env, 'PHI_SCAN_QUEUE_BACKOFF_MS', 5000),
    redact: s.redact,
    unitId: (id) => nameDigest(s.key, id),
    signal: s.signal,
    ...(s.onProgress ? { onProgress: s.onProgress } : {}),
  });
  return {
    coordinator,
    done: async () => {
      await coordinator.finish();
      await pending.forget();
    },
  };
}

/** A whole number of 1 or more from the environment, else a usage error naming the variable. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ScanError('usage', `${name}: must be a whole number of 1 or more`);
  return n;
}

export interface WorkerFlags {
  concurrency: number;
  state?: string;
}

export async function startWorker(url: URL, flags: WorkerFlags, rules: readonly Rule[], dirs: readonly string[]): Promise<number> {
  const key = await resolveKey(resolveStateDir(flags.state, process.env), process.env);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    // First signal: finish the jobs in hand. Second: stop now (the jobs stall and are retried).
    if (signals === 1) {
      process.stderr.write('phi-scan: worker: stopping after the jobs in hand (signal again to stop now)\n');
      stop.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await runWorker({
      url,
      key,
      rules,
      rulesDigest: await rulesDigest(dirs),
      concurrency: flags.concurrency,
      lockMs: envInt(process.env, 'PHI_SCAN_QUEUE_LOCK_MS', 30_000),
      graphRate: envInt(process.env, 'PHI_SCAN_QUEUE_GRAPH_RATE', 100),
      delayMs: process.env.PHI_SCAN_QUEUE_TEST_DELAY_MS ? envInt(process.env, 'PHI_SCAN_QUEUE_TEST_DELAY_MS', 1) : 0,
      env: process.env,
      log: (line) => void process.stderr.write(`${line}\n`),
      stop: stop.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
