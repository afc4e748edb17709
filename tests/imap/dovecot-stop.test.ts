/**
 * The test server's stop (tests/imap/dovecot.sh) must end Dovecot while other processes come and
 * go: CI once saw it exit 1 before killing anything, because a process ended between the /proc glob
 * and its read, and the run then failed on a Dovecot left running. Processes are spawned and end
 * all through each stop here, as on a busy CI machine.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireOrSkip } from '../helpers/cli.js';
import { dovecotInstalled, startDovecot } from '../helpers/dovecot.js';
import { listProcesses } from '../helpers/processes.js';

const HAVE_DOVECOT = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled());

/** Still there (a zombie, exited and not yet reaped, counts as gone: helpers/processes.ts). */
const alive = (pid: number): boolean => listProcesses().some((p) => p.pid === pid);

/** Short-lived processes, a few at a time, from a shell of its own until stopped. */
function churn(): () => Promise<void> {
  const shell = spawn('bash', ['-c', 'while :; do for i in 1 2 3 4 5 6 7 8; do /bin/true & done; wait; done'], {
    stdio: 'ignore',
    detached: true,
  });
  const ended = new Promise<void>((resolve) => shell.on('close', () => resolve()));
  return async () => {
    process.kill(-(shell.pid ?? 0), 'SIGKILL');
    await ended;
  };
}

describe.runIf(HAVE_DOVECOT)('the test Dovecot', () => {
  it('stops, children and all, while other processes start and end', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const server = await startDovecot({ alice: 'alicepw' });
      const master = Number(readFileSync(path.join(server.base, 'run', 'master.pid'), 'utf8'));
      expect(alive(master)).toBe(true);
      const stopChurn = churn();
      try {
        await server.stop();
      } finally {
        await stopChurn();
      }
      expect(alive(master), `round ${round}`).toBe(false);
    }
  });
});
