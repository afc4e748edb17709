/** Worker-thread side of src/pipeline/pool.ts: scans messages (its engine built with the first one), or only parses them, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { parseMessage } from '../parse/mime.js';
import { safeReason } from '../common/safe-reason.js';
import type { FromPoolWorker, PoolInit, ToPoolWorker, ToPoolWorkerMessage } from './pool.js';
import { testHook } from './test-hooks.js';

const port = parentPort;
if (!port) throw new Error('src/pipeline/pool-worker.ts runs only as a worker thread');
const init = workerData as PoolInit;
/**
 * The rules and what scans with them, loaded and built with the first message to scan: a worker
 * that only parses (the 2-core default) never loads them, and is ready ~0.1 s sooner.
 */
async function loadScanning() {
  const [{ createEngine }, { rulesFromData }, { scanMessage }, { packOutcome }] = await Promise.all([
    import('../engine/engine.js'),
    import('../rules/compile.js'),
    import('./scan-message.js'),
    import('./outcome-wire.js'),
  ]);
  return { engine: createEngine(rulesFromData(init.rules), Buffer.from(init.key), { today: new Date(init.today) }), scanMessage, packOutcome };
}
let scanning: ReturnType<typeof loadScanning> | undefined;
const hooks = process.env.PHI_SCAN_TEST_HOOKS === '1';
const post = (m: FromPoolWorker): void => port.postMessage(m);

// One message at a time, in arrival order: the pool times the oldest message it sent.
const queue: { readonly m: ToPoolWorkerMessage; readonly bytes: Buffer }[] = [];
let running = false;

async function drain(): Promise<void> {
  running = true;
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const { m, bytes } = next;
    try {
      if (hooks) await testHook(bytes);
      if (m.kind === 'message') {
        const { engine, scanMessage, packOutcome } = await (scanning ??= loadScanning());
        post({ type: 'done', id: m.id, outcome: packOutcome(await scanMessage({ bytes, size: m.size }, engine, init.options)) });
      } else post({ type: 'parsed', id: m.id, parsed: await parseMessage(bytes, init.options) });
    } catch (err) {
      post({ type: 'threw', id: m.id, reason: safeReason(err) });
    }
  }
  running = false;
}

port.on('message', ({ messages, bytes }: ToPoolWorker) => {
  for (const m of messages) queue.push({ m, bytes: Buffer.from(bytes.buffer, bytes.byteOffset + m.offset, m.length) });
  if (!running) void drain();
});
post({ type: 'ready' });
