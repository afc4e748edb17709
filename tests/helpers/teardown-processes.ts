/**
 * The run's last check (vitest.config.ts globalSetup): no process of this checkout's CLI and no
 * server a helper started (Redis, Dovecot) is left when the suite ends, also those a test file
 * lost track of (its process ended and they lived on). Leftovers are killed and the run fails.
 */
import { CLI } from './cli.js';
import { describeLeftovers, forgetServers, listProcesses, reapLeftovers, registeredServersAlive } from './processes.js';

export function setup(): void {
  forgetServers(process.pid);
}

export async function teardown(): Promise<void> {
  const left = await reapLeftovers(() => [...listProcesses().filter((p) => p.pid !== process.pid && p.args.includes(CLI)), ...registeredServersAlive(process.pid)]);
  forgetServers(process.pid);
  if (left.length === 0) return;
  // vitest reports an error thrown here but still exits 0: the status is set too.
  process.exitCode = 1;
  throw new Error(describeLeftovers('the test run ended with processes of its own', left));
}
