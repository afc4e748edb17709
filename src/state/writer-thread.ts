/**
 * The state store's own thread (store.ts `openStateStoreInThread`): its own connection to
 * the database, applying the scan's write operations in the order they were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { safeReason } from '../common/safe-reason.js';
import { openStateDb, scanPragmas } from './store.js';
import { storeWriter } from './writer.js';
import type { FromWriterThread, ToWriterThread, WriterThreadInit } from './store.js';

const port = parentPort;
if (!port) throw new Error('src/state/writer-thread.ts runs only as a worker thread');
const init = workerData as WriterThreadInit;
const post = (m: FromWriterThread): void => port.postMessage(m);

let db: ReturnType<typeof openStateDb> | undefined;
let writer: ReturnType<typeof storeWriter> | undefined;
try {
  db = openStateDb(init.file, { create: false });
  scanPragmas(db);
  writer = storeWriter(db, init.runId);
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', reason: safeReason(err) });
}

port.on('message', (m: ToWriterThread) => {
  if ('end' in m) {
    // Whatever the scan wrote before it ended is committed, as the store on the scan's thread does.
    try {
      if (writer && !writer.failed) writer.apply({ op: 'commit' });
    } catch (err) {
      post({ type: 'failed', reason: (err as Error).message });
    }
    db?.close();
    port.close();
    return;
  }
  // After a failure (told once) nothing more is written: the scan stops at its next write (store.ts).
  if (!writer || writer.failed) return;
  try {
    for (const op of m.ops) writer.apply(op);
    post({ type: 'ack', seq: m.seq });
  } catch (err) {
    post({ type: 'failed', reason: (err as Error).message }); // the writer's own, already safe
  }
});
