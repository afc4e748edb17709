/**
 * A pool of worker threads that run scanMessage, so parsing and the rule engine use every core
 * while the main thread reads sources and writes reports; or that only parse messages (`parse`:
 * MIME, bodies, attachments into text) for a main thread that runs the rules (scanner.ts).
 *
 * A worker that scans builds its own engine once, with its first message, from plain data (rule
 * definitions, key, "today"): compiled RegExps and detector functions do not cross threads. A
 * message crosses as a copy of its bytes (moved, not cloned); its outcome (already masked) comes
 * back as JSON text, or its parsed text as a structured clone.
 *
 * A worker holds at most PER_WORKER messages (or `perWorker`), taken one after the other, and is
 * sent them one at a time or, with `sendBatch`, in lists of up to that many. The one
 * it is on has a time limit: past it, the worker is terminated and replaced, and that message
 * alone becomes an error record ('timeout'); a worker that dies (out of memory, crash) costs
 * only the message it was scanning ('scan-failed'). Messages queued behind it go to another
 * worker: nothing else is lost, nothing is scanned twice.
 *
 * The pool belongs to one scan: no process-global state.
 */
import { Worker } from 'node:worker_threads';
import type { Problem } from '../model/problem.js';
import { ruleData, type RuleData } from '../rules/compile.js';
import type { ParsedMessage } from '../parse/mime.js';
import { headerFields, isoDate, syntheticMessageId } from '../parse/header-values.js';
import { safeReason } from '../common/safe-reason.js';
import type { MessageInput, MessageOutcome, MessageScanOptions } from './scan-message.js';
import { unpackOutcome } from './outcome-wire.js';
import { ScannerFailed, type MessageScanner, type ScannerSettings } from './scanner-types.js';
import { compiledWorker } from '../common/compiled-worker.js';

/** Messages handed to one worker at once: the next is there when the current one ends. */
const PER_WORKER = 2;
/** A replacement worker that cannot start this many times in a row is given up. */
const MAX_START_FAILURES = 3;

/** What a worker is started with: plain data only. */
export interface PoolInit {
  readonly rules: readonly RuleData[];
  readonly key: Uint8Array;
  readonly today: number;
  readonly options: MessageScanOptions;
}

/** `message`: scan it; `parse`: only parse it. Its bytes are `length` bytes at `offset` of its batch's. */
export interface ToPoolWorkerMessage {
  readonly kind: 'message' | 'parse';
  readonly id: number;
  readonly offset: number;
  readonly length: number;
  readonly size: number;
}

/** Messages sent at once (`sendBatch`), their bytes end to end in one buffer: one transfer, not one each. */
export interface ToPoolWorker {
  readonly messages: readonly ToPoolWorkerMessage[];
  readonly bytes: Uint8Array;
}

export type FromPoolWorker =
  | { readonly type: 'ready' }
  /**
   * The outcome as text (outcome-wire.ts): a roster's outcome holds thousands of findings, and
   * one string crosses threads several times cheaper than structured cloning of as many objects.
   */
  | { readonly type: 'done'; readonly id: number; readonly outcome: string }
  /** A parsed message: its text as a few strings, cloned as they are (raw text stays in the process). */
  | { readonly type: 'parsed'; readonly id: number; readonly parsed: ParsedMessage }
  /** scanMessage threw: the reason is already safe to print (safeReason). */
  | { readonly type: 'threw'; readonly id: number; readonly reason: string };

/** The worker's entry point sits beside this file once compiled (dist/pipeline/pool-worker.js). */
export function poolWorkerUrl(): URL | undefined {
  return compiledWorker(import.meta.url, './pool-worker.js');
}

type Answer = Extract<FromPoolWorker, { type: 'done' | 'parsed' }>;

interface Task {
  readonly id: number;
  readonly kind: ToPoolWorkerMessage['kind'];
  readonly raw: MessageInput;
  /** The outcome from the worker's answer (for `parse`, the rules run here). */
  readonly outcome: (answer: Answer) => MessageOutcome;
  readonly resolve: (outcome: MessageOutcome) => void;
  readonly reject: (err: Error) => void;
}

/** The threads of a pool: they scan messages, or parse them for `then` to scan here. */
export interface Pool extends MessageScanner {
  parse(raw: MessageInput, then: (parsed: ParsedMessage) => MessageOutcome): Promise<MessageOutcome>;
  /**
   * Resolves once a thread can take messages (those given before wait for it); rejects with
   * ScannerFailed when the first cannot start, and so does every message given to the pool.
   */
  readonly ready: Promise<void>;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  /** Sent to this worker, oldest (the one being scanned) first. */
  readonly assigned: Task[];
  timer?: NodeJS.Timeout;
  /** Why it failed ('error' event), reported when it has exited. */
  failure?: string;
  /** Set once the pool stopped caring about this worker (timed out, died, closed). */
  gone: boolean;
}

/** The outcome of a message that could not be scanned: its id and date from the headers alone. */
function failed(raw: MessageInput, problem: Problem): MessageOutcome {
  const fields = headerFields(raw.bytes);
  return { messageId: fields.messageId ?? syntheticMessageId(raw.bytes), date: isoDate(fields.date), maskedSubject: null, findings: [], problems: [problem] };
}

export function startPool(
  url: URL,
  settings: ScannerSettings & { readonly threads: number; readonly perWorker?: number; readonly sendBatch?: number; readonly youngGenerationMb?: number },
): Pool {
  const init: PoolInit = {
    rules: ruleData(settings.rules),
    key: new Uint8Array(settings.key),
    today: settings.today.getTime(),
    options: settings.options,
  };
  const timeoutSeconds = Math.round(settings.messageTimeoutMs / 100) / 10;
  const slots = new Set<Slot>();
  const pending: Task[] = [];
  let nextId = 1;
  let closed = false;
  let startFailures = 0;
  /** Why no worker can run (every start failed): tasks then fail instead of waiting forever. */
  let broken: string | undefined;
  /** The first worker could not start: the pool never ran, and every task rejects with this. */
  let cannotStart: ScannerFailed | undefined;
  let firstReady: { resolve: () => void; reject: (e: Error) => void } | undefined;

  const send = (slot: Slot, tasks: readonly Task[]): void => {
    // A copy of exactly each message's bytes (raw.bytes may be a view into a larger buffer),
    // moved to the worker. raw stays here: a failed message is still reported with its id.
    const bytes = new Uint8Array(tasks.reduce((n, t) => n + t.raw.bytes.byteLength, 0));
    const messages: ToPoolWorkerMessage[] = [];
    let offset = 0;
    for (const task of tasks) {
      bytes.set(task.raw.bytes, offset);
      messages.push({ kind: task.kind, id: task.id, offset, length: task.raw.bytes.byteLength, size: task.raw.size });
      offset += task.raw.bytes.byteLength;
      slot.assigned.push(task);
    }
    const armNow = slot.assigned.length === tasks.length;
    slot.worker.postMessage({ messages, bytes } satisfies ToPoolWorker, [bytes.buffer]);
    if (armNow) arm(slot);
  };

  /** The time limit runs for the message the worker is scanning (the oldest it holds). */
  const arm = (slot: Slot): void => {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const head = slot.assigned[0];
    if (!head) return;
    slot.timer = setTimeout(() => {
      lose(slot, head, {
        code: 'timeout',
        message: `message not scanned: still scanning after ${timeoutSeconds} s (--message-timeout); its worker thread was stopped`,
      });
    }, settings.messageTimeoutMs);
  };

  const dispatch = (): void => {
    if (broken !== undefined) {
      for (const task of pending.splice(0)) task.resolve(failed(task.raw, { code: 'scan-failed', message: `message not scanned: ${broken}` }));
      return;
    }
    // Fill idle workers first, then give each a message to start on when it is done. With
    // `sendBatch`, a worker with messages in hand is topped up only once a whole batch fits.
    const perWorker = settings.perWorker ?? PER_WORKER;
    const batch = settings.sendBatch ?? 1;
    for (let depth = 1; depth <= perWorker && pending.length > 0; depth++) {
      for (const slot of slots) {
        if (pending.length === 0) break;
        if (!slot.ready || slot.gone || slot.assigned.length >= depth) continue;
        const room = perWorker - slot.assigned.length;
        if (slot.assigned.length > 0 && room < batch) continue;
        send(slot, pending.splice(0, Math.min(room, batch)));
      }
    }
  };

  /**
   * The worker is done for: `victim` (the message it was scanning, if known) gets `problem`,
   * the messages queued behind it go back to the front of the queue, a new worker takes its place.
   */
  const lose = (slot: Slot, victim: Task | undefined, problem: Problem): void => {
    if (slot.gone) return;
    slot.gone = true;
    slots.delete(slot);
    clearTimeout(slot.timer);
    void slot.worker.terminate().catch(() => undefined);
    const rest = slot.assigned.splice(0).filter((t) => t !== victim);
    if (victim) victim.resolve(failed(victim.raw, problem));
    pending.unshift(...rest);
    if (!closed) spawn();
    dispatch();
  };

  const spawn = (): void => {
    const worker = new Worker(url, {
      workerData: init,
      resourceLimits: {
        maxOldGenerationSizeMb: settings.threadMemoryMb,
        ...(settings.youngGenerationMb !== undefined ? { maxYoungGenerationSizeMb: settings.youngGenerationMb } : {}),
      },
      // Nothing a worker prints may reach the report on stdout.
      stdout: true,
    });
    worker.stdout.resume();
    const slot: Slot = { worker, ready: false, assigned: [], gone: false };
    slots.add(slot);
    worker.on('message', (m: FromPoolWorker) => {
      if (slot.gone) return;
      if (m.type === 'ready') {
        slot.ready = true;
        startFailures = 0;
        firstReady?.resolve();
        firstReady = undefined;
        dispatch();
        return;
      }
      const task = slot.assigned.shift();
      if (!task || task.id !== m.id) {
        lose(slot, task, { code: 'scan-failed', message: 'message not scanned: its worker thread answered out of turn' });
        return;
      }
      arm(slot);
      if (m.type === 'threw') task.reject(new Error(m.reason));
      else {
        try {
          task.resolve(task.outcome(m));
        } catch (err) {
          task.reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
      dispatch();
    });
    const died = (why: string): void => {
      if (slot.gone) return;
      if (!slot.ready) {
        // It never started: no message is to blame. Retry a few times, then give up.
        slot.gone = true;
        slots.delete(slot);
        startFailures++;
        const reason = `a worker thread could not start (${why})`;
        if (firstReady) {
          cannotStart = new ScannerFailed(reason);
          firstReady.reject(cannotStart);
          firstReady = undefined;
          void stop(cannotStart);
        } else if (startFailures < MAX_START_FAILURES && !closed) {
          spawn();
        } else if (slots.size === 0) {
          broken = reason;
          dispatch();
        }
        return;
      }
      lose(slot, slot.assigned[0], { code: 'scan-failed', message: `message not scanned: its worker thread stopped (${why})` });
    };
    // Acted on at 'exit' only: Node delivers every message the worker posted before it, so a
    // message it finished just before dying is not mistaken for the one that killed it.
    worker.on('error', (err: Error & { code?: string }) => {
      slot.failure ??= err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of memory: over ${settings.threadMemoryMb} MB of heap` : safeReason(err);
    });
    worker.on('exit', (code) => died(slot.failure ?? `exit code ${code}`));
  };

  /** Stops every worker; the tasks still here reject with `why` (nobody waits for them, or the pool never ran). */
  const stop = async (why: Error): Promise<void> => {
    closed = true;
    const all = [...slots];
    for (const slot of all) {
      slot.gone = true;
      clearTimeout(slot.timer);
    }
    slots.clear();
    const orphans = [...pending.splice(0), ...all.flatMap((s) => s.assigned.splice(0))];
    for (const task of orphans) task.reject(why);
    await Promise.all(all.map((s) => s.worker.terminate().catch(() => undefined)));
  };

  // The first worker must start, or the pool never runs; the others start alongside. Messages
  // given meanwhile wait in `pending`: a scan with nothing to parse never waits for a thread.
  const ready = new Promise<void>((resolve, reject) => (firstReady = { resolve, reject }));
  ready.catch(() => undefined); // awaited by whoever needs it; every task rejects with it too
  for (let i = 0; i < settings.threads; i++) spawn();

  const submit = (kind: ToPoolWorkerMessage['kind'], raw: MessageInput, outcome: Task['outcome']): Promise<MessageOutcome> =>
    new Promise<MessageOutcome>((resolve, reject) => {
      if (closed) {
        reject(cannotStart ?? new Error('the scan has ended'));
        return;
      }
      pending.push({ id: nextId++, kind, raw, outcome, resolve, reject });
      dispatch();
    });
  const wrongAnswer = (): never => {
    throw new Error('its worker thread answered with the wrong kind of result');
  };

  return {
    ready,
    scan: (raw) => submit('message', raw, (m) => (m.type === 'done' ? unpackOutcome(m.outcome) : wrongAnswer())),
    parse: (raw, then) => submit('parse', raw, (m) => (m.type === 'parsed' ? then(m.parsed) : wrongAnswer())),
    // Early (an exception, or a scan that ended with the threads still starting): nobody waits for what is left.
    close: () => stop(new Error('the scan has ended')),
  };
}
