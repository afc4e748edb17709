/**
 * Faults on demand, for the tests of the worker pool: a message with the header
 * `X-Phi-Scan-Test-Hook: hang|crash|exit|oom|throw|limits` misbehaves in its worker thread
 * (`limits` throws an error naming the thread's heap limits).
 * Only when the worker's environment has PHI_SCAN_TEST_HOOKS=1 (pool-worker.ts checks before
 * calling): message content alone can never trigger one.
 */
import { resourceLimits } from 'node:worker_threads';

export async function testHook(bytes: Buffer): Promise<void> {
  const head = bytes.subarray(0, 16 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const hook = /^X-Phi-Scan-Test-Hook:[ \t]*([a-z]+)/im.exec(end === -1 ? head : head.slice(0, end))?.[1]?.toLowerCase();
  switch (hook) {
    case 'hang':
      for (;;); // a scan that never ends (only terminating the thread stops it)
    case 'crash':
      // An exception nobody catches: the thread dies in the middle of the message.
      queueMicrotask(() => {
        throw new Error('test hook: crash');
      });
      return new Promise<void>(() => undefined);
    case 'exit':
      process.exit(7);
    case 'oom': {
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1 << 20).fill(1.5));
    }
    case 'throw':
      throw new Error('test hook: thrown');
    case 'limits':
      // The heap limits this thread runs under, as an error the caller sees.
      throw new Error(`test hook: young generation ${resourceLimits.maxYoungGenerationSizeMb} MB, old generation ${resourceLimits.maxOldGenerationSizeMb} MB`);
    default:
      return;
  }
}
