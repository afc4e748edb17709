/** Worker-thread side of src/pipeline/pool.ts: scans messages (its engine built with the first one), or only parses them, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Engine } from '../engine/engine.js';
import { parseMessage, parseOptions, safeReason } from '../parse/mime.js';
import type { FromPoolWorker, PoolInit, ToPoolWorker } from './pool.js';
import { testHook } from './test-hooks.js';

const port = parentPort;
if (!port) throw new Error('src/pipeline/pool-worker.ts runs only as a worker thread');
const init = workerData as PoolInit;
// The rules, loaded and built with the first message to scan: a worker that only parses (the
// 2-core default) never loads them, and is ready ~0.1 s sooner.
let scanning: Promise<{ engine: Engine; scanMessage: typeof import('./scan-message.js').scanMessage; packOutcome: typeof import('./outcome-wire.js').packOutcome }> | undefined;
const scanningOnce = (): NonNullable<typeof scanning> =>
  (scanning ??= Promise.all([import('../engine/engine.js'), import('../rules/compile.js'), import('./scan-message.js'), import('./outcome-wire.js')]).then(
    ([{ createEngine }, { rulesFromData }, { scanMessage }, { packOutcome }]) => ({
      engine: createEngine(rulesFromData(init.rules), Buffer.from(init.key), { today: new Date(init.today) }),
      scanMessage,
      packOutcome,
    }),
  ));
const hooks = process.env.PHI_SCAN_TEST_HOOKS === '1';
const post = (m: FromPoolWorker): void => port.postMessage(m);

// One message at a time, in arrival order: the pool times the oldest message it sent.
const queue: ToPoolWorker[] = [];
let running = false;

async function drain(): Promise<void> {
  running = true;
  for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
    const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    try {
      if (hooks) await testHook(bytes);
      if (m.kind === 'message') {
        const { engine, scanMessage, packOutcome } = await scanningOnce();
        post({ type: 'done', id: m.id, outcome: packOutcome(await scanMessage({ bytes, size: m.size }, engine, init.options)) });
      }
      else post({ type: 'parsed', id: m.id, parsed: await parseMessage(bytes, parseOptions(init.options)) });
    } catch (err) {
      post({ type: 'threw', id: m.id, reason: safeReason(err) });
    }
  }
  running = false;
}

port.on('message', (m: ToPoolWorker) => {
  queue.push(m);
  if (!running) void drain();
});
post({ type: 'ready' });
