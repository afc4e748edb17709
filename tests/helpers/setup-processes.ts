/**
 * Run before every test file (vitest.config.ts setupFiles): when the file ends, after its own
 * afterAll hooks, no process it started may still run (helpers/processes.ts). A leftover is
 * killed and the file fails, naming it: a worker left waiting on a queue, the CLI of a test that
 * timed out, a server not stopped.
 */
import { afterAll } from 'vitest';
import { describeLeftovers, listProcesses, reapLeftovers } from './processes.js';

afterAll(async () => {
  const left = await reapLeftovers(() => listProcesses().filter((p) => p.ppid === process.pid));
  if (left.length > 0) throw new Error(describeLeftovers('this test file ended with processes it started', left));
}, 30_000);
