/**
 * The scan pipeline: the only module that wires sources, parser, engine and sinks together.
 *
 * Sources split into units (a folder of a mailbox); units run concurrently, and inside a unit
 * up to `concurrency` messages are parsed and scanned at once. Output order is deterministic
 * whatever finishes first: units in source order, messages in source order within a unit.
 * Memory is bounded by byte budgets, not by archive size: one on message content in flight
 * (BYTE_BUDGET), one on finished outcomes waiting for their turn in the output order
 * (ORDER_BUDGET: a unit behind the head stops reading while they fill it).
 */
import type { Suppressions } from '../findings/suppress.js';
import pLimit from 'p-limit';
import type { Category, Confidence } from '../model/finding.js';
import type { Checkpoint, Presence, SourceUnit } from '../model/message.js';
import { severityOf, type Problem } from '../model/problem.js';
import { createEngine, type Engine, type EngineWarning } from '../engine/engine.js';
import type { Edm } from '../edm/edm.js';
import { DEFAULT_MESSAGE_TIMEOUT_S, DEFAULT_THREAD_MEMORY_MB } from './settings.js';
import type { Rule } from '../rules/compile.js';
import { openSource, type SourceSettings } from '../sources/registry.js';
import { distinctMailboxNames } from '../sources/names.js';
import type { Source, SourceRuntime, UnitProblem } from '../sources/types.js';
import type { CheckpointStore } from '../state/checkpoints.js';
import type { ErrorRecord, MailboxRecord, RunStatus, ScanEvent, ScanSummary, Sink, StopReason } from '../sinks/types.js';
import { ByteBudget } from './byte-budget.js';
import type { ExtractLimits } from '../extract/context.js';
import { createScanner, type MessageScanner, type ScannerSettings, type StartingScanner } from './scanner.js';
import { redactPath, scanUnit, type UnitEvent, type UnitScanContext } from './unit.js';
import type { MessageScanOptions } from './scan-message.js';
import { maskSource } from '../findings/names.js';
import { edmFor } from '../edm/edm.js';

/**
 * A scan's options: what the settings give (SettingsScanOptions, pipeline/settings.ts scanOptionsOf)
 * and what the process running it gives. Optional fields take `undefined` as "the default", so a
 * caller passes what it has without a spread per field.
 */
export interface ScanOptions extends ThreadOptions {
  readonly sources: readonly string[];
  readonly rules: readonly Rule[];
  /** The fingerprint key (see findings/key.ts). */
  readonly key: Buffer;
  readonly minConfidence: Confidence;
  /** Messages parsed and scanned at once. */
  readonly concurrency: number;
  readonly maxMessageBytes: number;
  readonly maxNestingDepth: number;
  /** Per-attachment extraction limits (see extract/context.ts for the defaults). */
  readonly limits?: Partial<ExtractLimits> | undefined;
  /** `--mailbox`: the mailbox name to report for archive sources. */
  readonly mailbox?: string | undefined;
  /** Each source's own settings under its name (`{ imap: {...}, graph: {...} }`, sources/registry.ts). */
  readonly sourceSettings?: SourceSettings | undefined;
  /** The environment sources read credentials from (default process.env) and the process's hooks. */
  readonly sourceRuntime?: Partial<SourceRuntime> | undefined;
  readonly sinks: readonly Sink[];
  /** Where units record how far they got (always written when given). */
  readonly checkpoints?: CheckpointStore | undefined;
  /** Resume every unit after its checkpoint: scan only what is new. */
  readonly sinceLast?: boolean | undefined;
  /**
   * Stops the scan; what was read is reported and the run is marked `interrupted`. Abort with
   * the reason `'output-closed'` when the reader of the output went away (default: `'signal'`).
   */
  readonly signal?: AbortSignal | undefined;
  /** `--strict`: items not read by design (severity `skipped`) make the scan incomplete too. */
  readonly strict?: boolean | undefined;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Runs the units elsewhere (queue workers, see queue/coordinator.ts) instead of here. */
  readonly remote?: RemoteUnits | undefined;
  /** Bytes (estimated) of finished outcomes held waiting for the output order; default ORDER_BUDGET. */
  readonly orderBudgetBytes?: number | undefined;
  /** Reviewed findings to leave out of every sink and count (an ignore file, findings/suppress.ts). */
  readonly suppress?: Suppressions | undefined;
  /** `--edm FILE`: the patient roster as keyed fingerprints (edm/edm.ts). */
  readonly edm?: string | undefined;
  /** What the engine says about itself, once per run (e.g. its prescan fell back to JavaScript); never a value. */
  readonly onWarning?: ((warning: EngineWarning) => void) | undefined;
  /**
   * The engine of these `rules` and `key`, made by the caller with `startedAt` as its "today"
   * (the session's, which it also needs for names before the scan starts): not made twice.
   * `scanner`: its threads, started by the caller from these options before it built the engine
   * (session.ts), so that their modules load meanwhile; this scan makes and closes the scanner.
   */
  readonly engine?: { readonly engine: Engine; readonly startedAt: Date; readonly scanner?: StartingScanner } | undefined;
}

/** Units to run elsewhere, with the checkpoint each resumes after. */
export interface UnitWork {
  readonly unit: SourceUnit;
  /** The SOURCE argument as given (the worker opens the unit's source with it). */
  readonly spec: string;
  readonly after?: Checkpoint;
}

/** A place that runs units and hands back each unit's events (queue/coordinator.ts). */
export interface RemoteUnits {
  /** Hands every unit out at once (units are already named safely). */
  start(work: readonly UnitWork[]): Promise<void>;
  /** Replays unit `index`'s events in order, once it has run. */
  run(index: number, out: (event: UnitEvent) => Promise<void>): Promise<void>;
}

export interface ThreadOptions {
  /** Worker threads that parse and scan messages; 0: on this thread. Default: CPU cores - 1, at least 1. */
  readonly threads?: number | undefined;
  /** With threads: a message still scanning after this long becomes a 'timeout' error record. Default 60 s. */
  readonly messageTimeoutMs?: number | undefined;
  /** With threads: heap cap of each worker thread, MB (default 1024). */
  readonly threadMemoryMb?: number | undefined;
}

export interface Progress {
  readonly messages: number;
  readonly bytes: number;
  readonly mailbox: string;
  readonly elapsedMs: number;
}

export interface ScanResult {
  readonly summary: ScanSummary;
  /** 0 nothing found, 1 PHI found, 3 incomplete or interrupted (CONTRACT.md exit status). */
  readonly exitCode: 0 | 1 | 3;
  /**
   * The most finished messages (and their estimated bytes) held at once waiting for the sinks
   * and the output order: bounded by the order budget, whatever the archive's size.
   */
  readonly held: { readonly maxMessages: number; readonly maxBytes: number };
}

/** A message event without the findings an ignore file suppresses (the message itself stays: it was scanned). */
function withoutSuppressed(event: Extract<ScanEvent, { type: 'message' }>, suppress: Suppressions): ScanEvent {
  const findings = suppress.keep(event.outcome.messageId, event.outcome.findings);
  return findings.length === event.outcome.findings.length ? event : { ...event, outcome: { ...event.outcome, findings } };
}

/** How often a running unit writes its checkpoint (it always does at its end). */
const CHECKPOINT_FLUSH_MS = 2000;

export const DEFAULT_MESSAGE_TIMEOUT_MS = DEFAULT_MESSAGE_TIMEOUT_S * 1000;

/** Bytes of message content held in memory at once across all units. */
const BYTE_BUDGET = 256 * 1024 * 1024;
/** Bytes (estimated, heldBytes) of finished outcomes waiting for their turn in the output order. */
export const ORDER_BUDGET = 32 * 1024 * 1024;
/** The least a held message counts for (heldBytes): order budget / this bounds the messages held. */
export const HELD_MESSAGE_MIN_BYTES = 512;

type Queued =
  | ScanEvent
  | { readonly type: 'checkpoint'; readonly checkpoint: Checkpoint }
  | { readonly type: 'present'; readonly unit: SourceUnit; readonly present: Presence };

/** An estimate of what an event held for the output order costs in memory (masked values only, never content). */
function heldBytes(e: Queued): number {
  switch (e.type) {
    case 'checkpoint':
      return 64 + e.checkpoint.unitId.length + e.checkpoint.cursor.length;
    case 'present':
      return 64 + ('removed' in e.present ? e.present.removed.reduce((n, l) => n + 16 + l.length, 0) : e.present.uids.length);
    case 'error':
      return 256 + e.record.error.length;
    case 'mailbox':
      return 256;
    case 'message': {
      let n = HELD_MESSAGE_MIN_BYTES + (e.outcome.maskedSubject?.length ?? 0) + e.context.locator.length + 256 * e.outcome.problems.length;
      for (const f of e.outcome.findings) n += 256 + f.masked.length + f.location.length + (f.part?.length ?? 0);
      return n;
    }
  }
}

interface MailboxStats {
  source: string;
  mailbox: string;
  messages: number;
  messagesWithPhi: number;
  byCategory: Map<Category, number>;
  errors: number;
  skipped: number;
  /** A unit of the mailbox ended after the scan was told to stop. */
  interrupted: boolean;
}

const newStats = (source: string, mailbox: string): MailboxStats => ({
  source,
  mailbox,
  messages: 0,
  messagesWithPhi: 0,
  byCategory: new Map(),
  errors: 0,
  skipped: 0,
  interrupted: false,
});

/** Why the scan was stopped, from its AbortSignal's reason. */
export function stopReason(signal: AbortSignal | undefined): StopReason | undefined {
  if (!signal?.aborted) return undefined;
  return signal.reason === 'output-closed' ? 'output-closed' : 'signal';
}

/** Resolves every SOURCE to its units first, so a bad path fails the run before any output (exit 2). */
async function resolveUnits(
  options: ScanOptions,
  report: (source: Source, problem: UnitProblem) => void,
  opened: Source[],
): Promise<{ source: Source; unit: SourceUnit }[]> {
  const sources = options.sources.map((spec) => {
    const source = openSource(
      spec,
      options.sourceSettings ?? {},
      {
        maxMessageBytes: options.maxMessageBytes,
        mailbox: options.mailbox,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      { env: process.env, ...options.sourceRuntime },
    );
    opened.push(source);
    return source;
  });
  const unitLists = await Promise.all(sources.map((s) => s.units((p) => report(s, p))));
  // Two archives named alike are never reported as one mailbox (sources/names.ts).
  return distinctMailboxNames(unitLists.flatMap((units, i) => units.map((unit) => ({ source: sources[i] as Source, unit }))));
}

/**
 * Mailbox and folder names come from file and folder names, which users may have typed
 * identifiers into; they are reported with every candidate masked. `ref` (the path used
 * to read) stays as it is and is never written out.
 */
function withSafeNames(unit: SourceUnit, redact: (text: string) => string): SourceUnit {
  const safe = redactPath(redact);
  return { ...unit, mailbox: safe(unit.mailbox), folder: safe(unit.folder), source: safe(unit.source) };
}

export async function scan(options: ScanOptions): Promise<ScanResult> {
  const startedAt = options.engine?.startedAt ?? new Date();
  if (options.edm !== undefined) {
    // A roster that cannot be read or was built with another key stops the scan before it starts.
    edmFor(options.edm, options.key);
  }
  // Worker threads build their own engines: all judge dates against the same "today".
  const engine = options.engine?.engine ?? createEngine(options.rules, options.key, { today: startedAt, ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  const unitProblems: { source: Source; problem: UnitProblem }[] = [];
  // Sources holding network connections release them however the scan ends.
  const opened: Source[] = [];
  const closeSources = (): Promise<unknown> => Promise.all(opened.map((s) => s.close?.().catch(() => undefined)));
  // Worker threads start (or, started by the session, go on loading) while sources open (IMAP
  // logins, folder lists); the session's are waited for by the first message that needs them
  // (scanner.ts withEngine). Units run on queue workers (`remote`) scan nothing here: no thread
  // (each would load its readers and hold 30–60 MB for nothing).
  const scanner = options.remote
    ? messageScanner(engine, { ...options, threads: 0 }, startedAt)
    : options.engine?.scanner
      ? Promise.resolve(options.engine.scanner.withEngine(engine))
      : messageScanner(engine, options, startedAt);
  scanner.catch(() => undefined); // a pool made here that cannot start fails scanUnits, where it is awaited
  try {
    return await scanUnits(options, startedAt, engine, scanner, unitProblems, opened);
  } finally {
    await scanner.then((s) => s.close(), () => undefined);
    await closeSources();
  }
}

/** How each message is scanned (pipeline/scan-message.ts), from a scan's options. */
export function messageScanOptions(o: ScannerOptions, today: Date, roster?: Edm): MessageScanOptions {
  return {
    minConfidence: o.minConfidence,
    maxNestingDepth: o.maxNestingDepth,
    limits: o.limits ?? {},
    people: { key: o.key, today, edm: o.edm, roster },
  };
}

/** What a message scanner is made from (a scan's options; a queue worker's job settings). */
export type ScannerOptions = Pick<ScanOptions, 'rules' | 'key' | 'minConfidence' | 'maxNestingDepth' | 'limits' | 'edm' | 'threads' | 'messageTimeoutMs' | 'threadMemoryMb'>;

/**
 * Where a scan's messages are scanned (worker threads, or this thread), from its options: the
 * one-process scan and a queue worker (queue/worker.ts) both make theirs here. `roster`: a
 * roster loaded and checked already (a queue worker's); threads load `edm` themselves.
 */
export function messageScanner(engine: Engine, o: ScannerOptions, today: Date, roster?: Edm): Promise<MessageScanner> {
  return createScanner(engine, scannerSettings(o, today, roster));
}

/** What a scanner is made with, from a scan's options (the session starts its threads with these: scanner.ts startScanner). */
export function scannerSettings(o: ScannerOptions, today: Date, roster?: Edm): ScannerSettings {
  return {
    rules: o.rules,
    key: o.key,
    today,
    options: messageScanOptions(o, today, roster),
    threads: o.threads,
    messageTimeoutMs: o.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS,
    threadMemoryMb: o.threadMemoryMb ?? DEFAULT_THREAD_MEMORY_MB,
  };
}

async function scanUnits(
  options: ScanOptions,
  startedAt: Date,
  engine: ReturnType<typeof createEngine>,
  scannerReady: Promise<MessageScanner>,
  unitProblems: { source: Source; problem: UnitProblem }[],
  opened: Source[],
): Promise<ScanResult> {
  const work = (await resolveUnits(options, (source, problem) => unitProblems.push({ source, problem }), opened)).map(({ source, unit }) => ({
    source,
    unit: withSafeNames(unit, engine.redact),
  }));
  const scanner = await scannerReady;
  const budget = new ByteBudget(Math.max(BYTE_BUDGET, options.maxMessageBytes));
  // A thread that parses ahead gets more messages at once than --concurrency (scanner.ts PARSE_AHEAD).
  const inFlight = Math.max(1, options.concurrency, scanner.ahead ?? 0);
  const parseLimit = pLimit(inFlight);
  // Units (folders) read at once: enough that a tenant of small mailboxes keeps the network
  // busy; sources cap their own connections (IMAP per host, Graph per mailbox and globally).
  const unitLimit = pLimit(Math.max(1, Math.min(work.length, Math.max(4, options.concurrency))));
  const window = inFlight;

  const stats = new Map<string, MailboxStats>();
  const mailboxOrder: string[] = [];
  const lastUnitOfMailbox = new Map<string, number>();
  work.forEach(({ unit }, i) => {
    const key = `${unit.source}\0${unit.mailbox}`;
    if (!stats.has(key)) {
      stats.set(key, newStats(unit.source, unit.mailbox));
      mailboxOrder.push(key);
    }
    lastUnitOfMailbox.set(key, i);
  });

  // Mailboxes that could not be opened at all: an error record and a mailbox record each, first.
  const problemKeys: string[] = [];
  for (const { source, problem } of unitProblems) {
    const mailbox = redactPath(engine.redact)(problem.mailbox);
    const spec = redactPath(engine.redact)(source.spec);
    const key = `${spec}\0${mailbox}`;
    if (!stats.has(key)) {
      stats.set(key, newStats(spec, mailbox));
      mailboxOrder.push(key);
      problemKeys.push(key);
    }
  }

  let totalMessages = 0;
  let totalBytes = 0;
  let currentMailbox = work[0]?.unit.mailbox ?? '';
  const progress = (): void =>
    options.onProgress?.({ messages: totalMessages, bytes: totalBytes, mailbox: currentMailbox, elapsedMs: Date.now() - startedAt.getTime() });

  // --- ordered output: events of the head unit go straight to the sinks, later units buffer ---
  let chain: Promise<void> = Promise.resolve();
  let head = 0;
  // A checkpoint travels in the same ordered stream as the events, so a cursor is put only
  // after every message before it reached the sinks (the state store commits both together).
  const buffered: Queued[][] = work.map(() => []);
  const finished: boolean[] = work.map(() => false);

  // --- the order budget: events from their emit until the sinks have them (buffered or queued) ---
  const orderBudget = Math.max(1, options.orderBudgetBytes ?? ORDER_BUDGET);
  const held = { bytes: 0, messages: 0, maxBytes: 0, maxMessages: 0 };
  const waiting: { index: number; resolve: () => void }[] = [];
  const mayRead = (index: number): boolean => index === head || held.bytes < orderBudget;
  const wake = (): void => {
    for (let i = 0; i < waiting.length; ) {
      const w = waiting[i] as { index: number; resolve: () => void };
      if (mayRead(w.index)) {
        waiting.splice(i, 1);
        w.resolve();
      } else i++;
    }
  };
  /** A unit behind the head reads on only while the held outcomes fit the order budget; the head always does. */
  const admit = (index: number): Promise<void> =>
    mayRead(index) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ index, resolve }));
  const hold = (event: Queued): void => {
    held.bytes += heldBytes(event);
    if (event.type === 'message') held.messages++;
    held.maxBytes = Math.max(held.maxBytes, held.bytes);
    held.maxMessages = Math.max(held.maxMessages, held.messages);
  };
  const letGo = (event: Queued): void => {
    held.bytes -= heldBytes(event);
    if (event.type === 'message') held.messages--;
    if (waiting.length > 0) wake();
  };

  /** Queues an event for the sinks; it was counted as held by `hold` and is let go once written. */
  const deliver = (event: Queued): void => {
    chain = chain.then(async () => {
      try {
        if (event.type === 'checkpoint') {
          options.checkpoints?.put(event.checkpoint);
          return;
        }
        if (event.type === 'present') {
          options.checkpoints?.present?.(event.unit, event.present);
          return;
        }
        const kept = event.type === 'message' && options.suppress ? withoutSuppressed(event, options.suppress) : event;
        account(kept);
        for (const sink of options.sinks) await sink.write(kept);
      } finally {
        letGo(event);
      }
    });
  };
  const account = (event: ScanEvent): void => {
    if (event.type === 'message') {
      const s = stats.get(`${event.context.source}\0${event.context.mailbox}`);
      if (!s) return;
      s.messages++;
      if (event.outcome.findings.length > 0) s.messagesWithPhi++;
      for (const f of event.outcome.findings) s.byCategory.set(f.category, (s.byCategory.get(f.category) ?? 0) + 1);
    } else if (event.type === 'error') {
      const s = stats.get(`${event.record.source}\0${event.record.mailbox ?? ''}`);
      if (s && event.record.severity === 'skipped') s.skipped++;
      else if (s) s.errors++;
    }
  };
  const mailboxRecord = (key: string): MailboxRecord => {
    const s = stats.get(key) as MailboxStats;
    const byCategory: MailboxRecord['byCategory'] = {};
    for (const [c, n] of [...s.byCategory].sort((a, b) => (a[0] < b[0] ? -1 : 1))) byCategory[c] = n;
    return {
      type: 'mailbox',
      source: s.source,
      mailbox: s.mailbox,
      messages: s.messages,
      messagesWithPhi: s.messagesWithPhi,
      byCategory,
      errors: s.errors,
      skipped: s.skipped,
      ...(s.interrupted ? { interrupted: true as const } : {}),
    };
  };
  const closeUnitsInOrder = (): void => {
    while (head < work.length && finished[head]) {
      const { unit } = work[head] as { unit: SourceUnit };
      const key = `${unit.source}\0${unit.mailbox}`;
      if (lastUnitOfMailbox.get(key) === head) {
        chain = chain.then(async () => {
          const record = mailboxRecord(key);
          for (const sink of options.sinks) await sink.write({ type: 'mailbox', record });
        });
      }
      head++;
      if (head < work.length) {
        currentMailbox = (work[head] as { unit: SourceUnit }).unit.mailbox;
        for (const e of buffered[head] as Queued[]) deliver(e);
        (buffered[head] as Queued[]).length = 0;
      }
    }
    // The new head reads on whatever the budget says.
    if (waiting.length > 0) wake();
  };
  for (const { source, problem } of unitProblems) {
    const safe = redactPath(engine.redact);
    const unit = { id: '', source: safe(source.spec), mailbox: safe(problem.mailbox), folder: safe(problem.folder ?? ''), ref: '' };
    const record = errorRecord(unit, { ...problem.problem, message: safe(problem.problem.message) });
    if (problem.folder === undefined) delete record.folder;
    hold({ type: 'error', record });
    deliver({ type: 'error', record });
  }
  for (const key of problemKeys) {
    if (!lastUnitOfMailbox.has(key)) chain = chain.then(async () => {
      const record = mailboxRecord(key);
      for (const sink of options.sinks) await sink.write({ type: 'mailbox', record });
    });
  }

  const emit = async (index: number, event: Queued): Promise<void> => {
    hold(event);
    if (index === head) {
      deliver(event);
      await chain; // backpressure: the head unit waits for the sinks
    } else {
      (buffered[index] as Queued[]).push(event);
    }
  };

  const checkpoints = options.checkpoints;
  const unitCtx: UnitScanContext = {
    engine,
    options,
    scanner,
    budget,
    parseLimit,
    window,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  /** A unit ended the scan (its scanner cannot run, a sink failed): no mailbox is closed after it. */
  let failed = false;
  const runUnit = async (index: number, source: Source, unit: SourceUnit): Promise<void> => {
    let lastFlush = Date.now();
    const out = async (event: UnitEvent): Promise<void> => {
      if (event.type === 'message') {
        // A message naming its own folder (PST) carries it, already masked.
        const where = event.folder === undefined ? unit : { ...unit, folder: event.folder };
        const context = { source: where.source, mailbox: where.mailbox, folder: where.folder, locator: event.locator };
        await emit(index, { type: 'message', context, outcome: event.outcome });
        for (const p of event.outcome.problems) await emit(index, { type: 'error', record: errorRecord(where, p, event.outcome.messageId) });
        totalMessages++;
        totalBytes += event.size;
        progress();
      } else if (event.type === 'error') {
        const record = errorRecord(unit, event.problem);
        if (unit.folder === '') delete record.folder; // a unit that is a whole file (PST): no folder to name
        await emit(index, { type: 'error', record });
      } else if (event.type === 'present') {
        if (checkpoints) await emit(index, { type: 'present', unit, present: event.present });
      } else if (checkpoints) {
        await emit(index, { type: 'checkpoint', checkpoint: { unitId: unit.id, cursor: event.cursor } });
        if (Date.now() - lastFlush > CHECKPOINT_FLUSH_MS) {
          lastFlush = Date.now();
          await checkpoints.flush();
        }
      }
    };
    try {
      if (options.remote) await options.remote.run(index, out);
      else await scanUnit(source, unit, options.sinceLast ? checkpoints?.get(unit.id) : undefined, { ...unitCtx, admit: () => admit(index) }, out);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      await checkpoints?.flush();
      // Stopped (SIGINT, closed output) before this unit ended: its mailbox is only partly read.
      if (options.signal?.aborted) (stats.get(`${unit.source}\0${unit.mailbox}`) as MailboxStats).interrupted = true;
      finished[index] = true;
      if (!failed) closeUnitsInOrder();
    }
  };

  if (options.remote) {
    // Units run on queue workers; their results are read back one unit after the other, in
    // order, so every unit is the head unit when it is read and nothing buffers here.
    await options.remote.start(work.map(({ source, unit }) => ({ unit, spec: source.spec, ...(options.sinceLast && checkpoints?.get(unit.id) ? { after: checkpoints.get(unit.id) as Checkpoint } : {}) })));
    for (const [i, { source, unit }] of work.entries()) await runUnit(i, source, unit);
  } else {
    // The ranges of one file are read one after the other: read at once they add nothing on one
    // machine (one file, one pool) but hold each other's finished outcomes for the output order
    // (peak RSS on a 400 MB mbox of 128 MB ranges: 561 MB at once, 338 MB as one unit).
    const rangesOf = new Map<string, ReturnType<typeof pLimit>>();
    const inTurn = (unit: SourceUnit): (<T>(run: () => Promise<T>) => Promise<T>) => {
      if (!unit.range) return (run) => run();
      let limit = rangesOf.get(unit.ref);
      if (!limit) rangesOf.set(unit.ref, (limit = pLimit(1)));
      return limit;
    };
    await Promise.all(work.map(({ source, unit }, i) => inTurn(unit)(() => unitLimit(() => runUnit(i, source, unit)))));
  }
  await chain;
  // Units that finished behind the head put their last cursors only when their events were delivered.
  await options.checkpoints?.flush();

  const mailboxes = mailboxOrder.map(mailboxRecord);
  const summary: ScanSummary = {
    // Sources as given may name a person (`mbox:/exports/Roe SSN ….mbox`): masked like every name.
    sources: options.sources.map(maskSource(engine.redact)),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    minConfidence: options.minConfidence,
    mailboxes,
    messages: mailboxes.reduce((n, m) => n + m.messages, 0),
    messagesWithPhi: mailboxes.reduce((n, m) => n + m.messagesWithPhi, 0),
    errors: mailboxes.reduce((n, m) => n + m.errors, 0),
    skipped: mailboxes.reduce((n, m) => n + m.skipped, 0),
    bytes: totalBytes,
    strict: options.strict === true,
    ...runStatus(mailboxes, options),
  };
  for (const sink of options.sinks) await sink.close(summary);
  const exitCode = summary.status !== 'complete' ? 3 : summary.messagesWithPhi > 0 ? 1 : 0;
  return { summary, exitCode, held: { maxMessages: held.maxMessages, maxBytes: held.maxBytes } };
}

/** The run's outcome: what decides exit 3, the `run` record and the state store's run status. */
function runStatus(mailboxes: readonly MailboxRecord[], options: ScanOptions): { status: RunStatus; stoppedBy?: StopReason } {
  const stoppedBy = stopReason(options.signal);
  if (stoppedBy !== undefined) return { status: 'interrupted', stoppedBy };
  const failed = mailboxes.some((m) => m.errors > 0 || (options.strict === true && m.skipped > 0));
  return { status: failed ? 'incomplete' : 'complete' };
}

function errorRecord(unit: SourceUnit, problem: Problem, messageId?: string): ErrorRecord {
  return {
    type: 'error',
    source: unit.source,
    mailbox: unit.mailbox,
    folder: unit.folder,
    // Absent ones stay out of the record (JSON leaves undefined fields out; the store writes null).
    messageId,
    location: problem.location,
    error: problem.message,
    code: problem.code,
    severity: severityOf(problem.code),
  };
}
