/**
 * The IMAP source run in a worker thread. imapflow's protocol parsing and TLS cost about as much
 * CPU per message as the scan itself (bench/imap.ts); on the main thread the two would take
 * turns, in a worker they run side by side, so scanning over IMAP costs little more than
 * scanning the same messages from a file.
 *
 * The main thread keeps a thin Source that forwards `units()` and `messages()`; the worker runs
 * the ordinary in-thread source (src/sources/imap.ts) with the same spec and options. Messages
 * cross as copied bytes with flow control: the worker stays at most READ_AHEAD_BYTES ahead.
 */
import { Worker } from 'node:worker_threads';
import type { Checkpoint, Presence, RawMessage, SourceUnit, UnitItem } from '../../model/message.js';
import { ScanError, type ScanErrorCode } from '../../common/errors.js';
import type { Source, UnitProblem } from '../types.js';
import type { ImapCreateOptions, ImapSourceOptions } from './options.js';
import { ReadAhead } from './read-ahead.js';
import { compiledWorker } from '../../common/compiled-worker.js';

const READ_AHEAD_BYTES = 8 * 1024 * 1024;

/** What crosses the thread boundary: plain data only (no functions, no AbortSignal). */
export interface ThreadInit {
  readonly spec: string;
  readonly maxMessageBytes: number;
  readonly imap: Omit<ImapSourceOptions, 'wireLog' | 'thread'>;
}

export type ToWorker =
  | { op: 'units'; call: number }
  | { op: 'messages'; id: number; unit: SourceUnit; after?: Checkpoint }
  | { op: 'ack'; id: number; bytes: number }
  | { op: 'cancel'; id: number }
  | { op: 'close'; call: number };

export type WireItem =
  | { kind: 'cursor'; cursor: string; present?: Presence }
  | { kind: 'message'; locator: string; size: number; bytes: Uint8Array; oversize?: RawMessage['oversize']; cursor: string };

export type FromWorker =
  | { type: 'units'; call: number; units: SourceUnit[] }
  | { type: 'problem'; problem: UnitProblem }
  | { type: 'failed'; call?: number; id?: number; error: { message: string; scanErrorCode?: ScanErrorCode } }
  | { type: 'item'; id: number; item: WireItem; bytes: number }
  | { type: 'end'; id: number }
  | { type: 'closed'; call: number };

/** The worker's entry point sits beside this file once compiled (dist/sources/imap/worker.js). */
export function threadWorkerUrl(): URL | undefined {
  return compiledWorker(import.meta.url, './worker.js');
}

export function threadedImapSource(spec: string, options: ImapCreateOptions, workerUrl: URL): Source {
  const { wireLog: _w, thread: _t, ...imap } = options.imap ?? {};
  const init: ThreadInit = { spec, maxMessageBytes: options.maxMessageBytes, imap: { ...imap, env: { ...(imap.env ?? process.env) } } };
  let worker: Worker | undefined;
  let nextId = 1;
  let report: ((p: UnitProblem) => void) | undefined;
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const streams = new Map<number, ReadAhead<WireItem>>();

  const toError = (e: { message: string; scanErrorCode?: ScanErrorCode }): Error =>
    e.scanErrorCode ? new ScanError(e.scanErrorCode, e.message) : new Error(e.message);

  const start = (): Worker => {
    if (worker) return worker;
    const w = new Worker(workerUrl, { workerData: init });
    w.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'units':
          calls.get(m.call)?.resolve(m.units);
          calls.delete(m.call);
          break;
        case 'closed':
          calls.get(m.call)?.resolve(undefined);
          calls.delete(m.call);
          break;
        case 'problem':
          report?.(m.problem);
          break;
        case 'item':
          void streams.get(m.id)?.push(m.item, m.bytes);
          break;
        case 'end':
          streams.get(m.id)?.end();
          break;
        case 'failed':
          if (m.call !== undefined) {
            calls.get(m.call)?.reject(toError(m.error));
            calls.delete(m.call);
          }
          if (m.id !== undefined) streams.get(m.id)?.fail(toError(m.error));
          break;
      }
    });
    const die = (err: unknown): void => {
      const e = new Error(`IMAP worker thread stopped: ${err instanceof Error ? err.message : String(err)}`);
      for (const c of calls.values()) c.reject(e);
      calls.clear();
      for (const s of streams.values()) s.fail(e);
    };
    w.on('error', die);
    w.on('exit', (code) => {
      if (code !== 0) die(new Error(`exit code ${code}`));
      worker = undefined;
    });
    worker = w;
    return w;
  };

  const call = <T>(msg: (call: number) => ToWorker): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      start().postMessage(msg(id));
    });
  };

  return {
    kind: 'imap',
    spec,
    async units(r: (problem: UnitProblem) => void): Promise<SourceUnit[]> {
      report = r;
      return call<SourceUnit[]>((c) => ({ op: 'units', call: c }));
    },
    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncGenerator<UnitItem> {
      const id = nextId++;
      // The queue never holds back the worker (it is bounded by acks below, not by the queue).
      const queue = new ReadAhead<WireItem>(Number.POSITIVE_INFINITY);
      streams.set(id, queue);
      const w = start();
      w.postMessage({ op: 'messages', id, unit, ...(after ? { after } : {}) } satisfies ToWorker);
      let finished = false;
      try {
        for (let item = await queue.pop(); item !== undefined; item = await queue.pop()) {
          if (item.kind === 'cursor') {
            yield item;
            continue;
          }
          w.postMessage({ op: 'ack', id, bytes: item.bytes.byteLength } satisfies ToWorker);
          yield {
            unit,
            locator: item.locator,
            size: item.size,
            bytes: Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.byteLength),
            ...(item.oversize ? { oversize: item.oversize } : {}),
            cursor: item.cursor,
          };
        }
        finished = true;
      } finally {
        streams.delete(id);
        if (!finished) worker?.postMessage({ op: 'cancel', id } satisfies ToWorker);
      }
    },
    async close(): Promise<void> {
      if (!worker) return;
      const w = worker;
      await call<void>((c) => ({ op: 'close', call: c })).catch(() => undefined);
      await w.terminate();
    },
  };
}

export { READ_AHEAD_BYTES as THREAD_READ_AHEAD_BYTES };
