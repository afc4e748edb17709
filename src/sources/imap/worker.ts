/** Worker-thread side of src/sources/imap/thread.ts: runs the in-thread IMAP source. */
import { parentPort, workerData } from 'node:worker_threads';
import { isCursorAdvance, type UnitItem } from '../../model/message.js';
import { ScanError } from '../../common/errors.js';
import { imapSource } from '../imap.js';
import { THREAD_READ_AHEAD_BYTES, type FromWorker, type ThreadInit, type ToWorker, type WireItem } from './thread.js';

const port = parentPort;
if (!port) throw new Error('src/sources/imap/worker.ts runs only as a worker thread');
const init = workerData as ThreadInit;
const source = imapSource(init.spec, { maxMessageBytes: init.maxMessageBytes, imap: init.imap });
const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const failure = (err: unknown): { message: string; scanErrorCode?: ScanError['code'] } =>
  err instanceof ScanError ? { message: err.message, scanErrorCode: err.code } : { message: err instanceof Error ? err.message : String(err) };

interface Stream {
  iterator: AsyncIterator<UnitItem>;
  unacked: number;
  wake?: () => void;
  cancelled: boolean;
}
const streams = new Map<number, Stream>();

async function pump(id: number, stream: Stream): Promise<void> {
  try {
    for (;;) {
      while (stream.unacked > THREAD_READ_AHEAD_BYTES && !stream.cancelled) await new Promise<void>((r) => (stream.wake = r));
      if (stream.cancelled) {
        await stream.iterator.return?.();
        return;
      }
      const next = await stream.iterator.next();
      if (next.done) break;
      const item = next.value;
      if (isCursorAdvance(item)) {
        post({ type: 'item', id, item: { kind: 'cursor', cursor: item.cursor, ...(item.present ? { present: item.present } : {}) }, bytes: 0 });
        continue;
      }
      // A copy of exactly the message's bytes, moved (not cloned) to the main thread.
      const bytes = new Uint8Array(item.bytes);
      const wire: WireItem = {
        kind: 'message',
        locator: item.locator,
        size: item.size,
        bytes,
        ...(item.oversize ? { oversize: item.oversize } : {}),
        cursor: item.cursor,
      };
      stream.unacked += bytes.byteLength;
      post({ type: 'item', id, item: wire, bytes: bytes.byteLength }, [bytes.buffer]);
    }
    post({ type: 'end', id });
  } catch (err) {
    post({ type: 'failed', id, error: failure(err) });
  } finally {
    streams.delete(id);
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.op) {
    case 'units':
      source.units((problem) => post({ type: 'problem', problem })).then(
        (units) => post({ type: 'units', call: m.call, units }),
        (err: unknown) => post({ type: 'failed', call: m.call, error: failure(err) }),
      );
      break;
    case 'messages': {
      const stream: Stream = { iterator: source.messages(m.unit, m.after)[Symbol.asyncIterator](), unacked: 0, cancelled: false };
      streams.set(m.id, stream);
      void pump(m.id, stream);
      break;
    }
    case 'ack': {
      const s = streams.get(m.id);
      if (s) {
        s.unacked -= m.bytes;
        s.wake?.();
        s.wake = undefined;
      }
      break;
    }
    case 'cancel': {
      const s = streams.get(m.id);
      if (s) {
        s.cancelled = true;
        s.wake?.();
      }
      break;
    }
    case 'close':
      void (source.close?.() ?? Promise.resolve()).finally(() => post({ type: 'closed', call: m.call }));
      break;
  }
});
