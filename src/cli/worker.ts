/** `phi-scan worker`: runs scan jobs from the queue until SIGTERM/SIGINT (queue/worker.ts). */
import type { Rule } from '../rules/compile.js';
import { Command, Option } from 'commander';
import { resolveKey, resolveStateDir } from '../findings/key.js';
import { resolveRedisUrl } from '../queue/redis.js';
import { loadRules } from '../rules/load.js';
import { rulesDirs } from '../rules/load.js';
import { ScanError } from '../common/errors.js';
import { collect, positiveInt } from './common.js';
import { rulesDigest } from '../queue/protocol.js';
import { envInt } from '../queue/setup.js';
import { runWorker } from '../queue/worker.js';

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

export function registerWorker(program: Command, setExit: (code: number) => void): void {
  program
    .command('worker')
    .description('run scan jobs from a Redis queue (scan --queue hands them out); stops gracefully on SIGTERM/SIGINT')
    .option('--queue <url>', 'redis://HOST[:PORT][/DB] or rediss:// (default $PHI_SCAN_REDIS_URL; a password only there)')
    .option('--concurrency <n>', 'jobs run at once', positiveInt, 1)
    .addOption(new Option('--rules <dir>', 'rules folder, repeatable; must be the same rules as the coordinator\'s').argParser(collect))
    .option('--state <dir>', 'state folder holding the fingerprint key when PHI_SCAN_KEY is not set; it must be the coordinator\'s key')
    .action(async (flags: WorkerFlags & { queue?: string; rules?: string[] }) => {
      const url = resolveRedisUrl(flags.queue, process.env);
      if (!url) throw new ScanError('usage', 'worker: give --queue redis://HOST[:PORT][/DB] or set PHI_SCAN_REDIS_URL');
      const dirs = rulesDirs(flags.rules);
      const { rules } = await loadRules(dirs);
      setExit(await startWorker(url, flags, rules, dirs));
    });
}
