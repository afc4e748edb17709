/** A queued scan's coordinator, set up from the scan's settings (session/session.ts uses it). */
import type { JobSettings } from '../pipeline/settings.js';
import { edmDigest, parseEdm, readEdmFile } from '../edm/edm.js';
import { nameDigest } from '../findings/fingerprint.js';
import { ScanError } from '../common/errors.js';
import { openCoordinator, pendingScan, type Coordinator } from './coordinator.js';
import { keyId, rulesDigest } from './protocol.js';
import { describeRedisUrl } from './redis.js';

export interface CoordinatorSetup {
  readonly url: URL;
  readonly sources: readonly string[];
  readonly stateDir: string;
  readonly key: Buffer;
  readonly rulesDirs: readonly string[];
  readonly sinceLast: boolean;
  /**
   * What every job carries (pipeline/settings.ts jobSettingsOf): the scan's settings but the
   * per-process ones. `edm` (absolute): the jobs carry its path and keyed digest, never its content.
   */
  readonly settings: JobSettings;
  readonly redact: (text: string) => string;
  readonly signal: AbortSignal;
  readonly onProgress?: ((line: string) => void) | undefined;
  /** PHI_SCAN_QUEUE_* are read from here. */
  readonly env: NodeJS.ProcessEnv;
}

/** Redis memory above which a queued scan hands out only the job its output needs next (PHI_SCAN_QUEUE_REDIS_MB). */
export const DEFAULT_REDIS_BUDGET_MB = 1024;

/** Opens the coordinator of a queued scan; `done()` after a complete scan deletes its jobs. */
export async function coordinatorFor(s: CoordinatorSetup): Promise<{ coordinator: Coordinator; done: () => Promise<void> }> {
  const settings = s.settings;
  const ids = { keyId: keyId(s.key), rulesDigest: await rulesDigest(s.rulesDirs), edmDigest: settings.edm !== undefined ? rosterDigest(settings.edm, s.key) : undefined };
  const pending = await pendingScan(s.stateDir, { sources: s.sources, sinceLast: s.sinceLast, settings, ...ids, queue: describeRedisUrl(s.url) });
  const env = s.env;
  const coordinator = await openCoordinator({
    url: s.url,
    scanId: pending.scanId,
    ...ids,
    settings,
    attempts: envInt(env, 'PHI_SCAN_QUEUE_ATTEMPTS', 3),
    backoffMs: envInt(env, 'PHI_SCAN_QUEUE_BACKOFF_MS', 5000),
    redisBudgetMb: envInt(env, 'PHI_SCAN_QUEUE_REDIS_MB', DEFAULT_REDIS_BUDGET_MB, 0),
    redact: s.redact,
    unitId: (id) => nameDigest(s.key, id),
    signal: s.signal,
    onProgress: s.onProgress,
  });
  return {
    coordinator,
    done: async () => {
      await coordinator.finish();
      await pending.forget();
    },
  };
}

/** The roster's keyed digest, once it is known to be an EDM file of this key (else a ScanError, exit 2). */
function rosterDigest(file: string, key: Buffer): string {
  const bytes = readEdmFile(file);
  parseEdm(bytes, file, key);
  return edmDigest(bytes, key);
}

/** A whole number of `min` (default 1) or more from the environment, else a usage error naming the variable. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ScanError('usage', `${name}: must be a whole number of ${min} or more`);
  return n;
}

