/**
 * One unit (a folder of a mailbox), start to end: read its messages after a checkpoint, scan
 * them, and hand out the unit's events in source order. Used by the one-process scan (run.ts)
 * and by a queue worker (queue/worker.ts), so both produce exactly the same events.
 *
 * Events are plain data (masked values and fingerprints only, no message content), so a
 * worker can ship them through Redis and the coordinator can replay them.
 */
import type { LimitFunction } from 'p-limit';
import type { Checkpoint, Presence, RawMessage, SourceUnit } from '../model/message.js';
import { isCursorAdvance } from '../model/message.js';
import type { Problem } from '../model/problem.js';
import type { Engine } from '../engine/engine.js';
import { maskPath } from '../findings/names.js';
import { syntheticMessageId } from '../parse/header-values.js';
import { safeReason } from '../common/safe-reason.js';
import type { Source } from '../sources/types.js';
import { locatorNumbersOf } from '../sources/registry.js';
import type { ByteBudget } from './byte-budget.js';
import { scanMessage, type MessageOutcome, type MessageScanOptions } from './scan-message.js';
import { ScannerFailed, type MessageScanner } from './scanner-types.js';

/**
 * Names are paths (`Archive/2019`, `pst:exports/SSN 489-…/x.pst`): each part is masked on its
 * own, as the rules do not take a value glued to a `/` for an identifier; control characters
 * are replaced (findings/names.ts).
 */
export const redactPath = maskPath;

/** What a unit produces, in order. */
export type UnitEvent =
  /**
   * A scanned message; `locator` is already redacted. `folder` (masked) when the message names
   * its own folder inside the unit (a PST file is one unit).
   */
  | { readonly type: 'message'; readonly locator: string; readonly folder?: string; readonly size: number; readonly outcome: MessageOutcome }
  /** A problem of the unit (reading stopped), not of one message. */
  | { readonly type: 'error'; readonly problem: Problem }
  /** Every message before this point has been handed out: the unit may resume here. */
  | { readonly type: 'cursor'; readonly cursor: string }
  /** Which messages of earlier runs are still in the unit (IMAP UIDs): the others are gone. */
  | { readonly type: 'present'; readonly present: Presence };

export interface UnitScanContext {
  readonly engine: Engine;
  readonly options: MessageScanOptions;
  /** Where messages are scanned (pipeline/scanner.ts); default: on this thread with `engine`. */
  readonly scanner?: MessageScanner;
  /** Caps the bytes of messages in memory at once (shared across units). */
  readonly budget: ByteBudget;
  /** Caps messages parsed and scanned at once (shared across units). */
  readonly parseLimit: LimitFunction;
  /** Messages of this unit in flight at once. */
  readonly window: number;
  readonly signal?: AbortSignal;
  /**
   * Resolves when the unit may read its next item. The one-process scan (run.ts) holds back a
   * unit behind the head while the outcomes waiting for their turn fill the ordering budget.
   */
  readonly admit?: () => Promise<void>;
}

/**
 * Scans one unit. Never throws for bad input: a unit that cannot be read to its end yields
 * what was read and then an `error` event. `out` is awaited (backpressure). Throws only when
 * the scanner cannot run at all (ScannerFailed) or `out` throws.
 */
export async function scanUnit(
  source: Source,
  unit: SourceUnit,
  after: Checkpoint | undefined,
  ctx: UnitScanContext,
  out: (event: UnitEvent) => Promise<void>,
): Promise<void> {
  const { engine } = ctx;
  const safeName = redactPath(engine.redact);
  // A locator's names are masked; the source's own numbers that end it (an mbox offset, IMAP's
  // UIDVALIDITY and UID) are not: remediation finds the message by them.
  // Folders, and the names in locators (every message of an mbox shares its file's), masked once each.
  const masked = new Map<string, string>();
  const safeOnce = (name: string): string => {
    let safe = masked.get(name);
    if (safe === undefined) masked.set(name, (safe = safeName(name)));
    return safe;
  };
  const ownNumbers = locatorNumbersOf(unit.source);
  const safeLocator = (locator: string): string => {
    const m = ownNumbers?.exec(locator);
    return m ? safeOnce(locator.slice(0, m.index)) + m[0] : safeName(locator);
  };
  const inFlight: Promise<{ raw: RawMessage; outcome: MessageOutcome }>[] = [];
  // Messages go out in source order, so a cursor goes out only once every message before it
  // has: a crash never skips one.
  const settleOldest = async (): Promise<void> => {
    const { raw, outcome } = await (inFlight.shift() as Promise<{ raw: RawMessage; outcome: MessageOutcome }>);
    const folder = raw.unit === unit || raw.unit.folder === unit.folder ? undefined : safeOnce(raw.unit.folder);
    await out({ type: 'message', locator: safeLocator(raw.locator), ...(folder !== undefined ? { folder } : {}), size: raw.size, outcome });
    await out({ type: 'cursor', cursor: raw.cursor });
  };
  const items = source.messages(unit, after)[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      // Admitted before the next item is read: a unit held back holds no message bytes.
      if (ctx.admit) await ctx.admit();
      const next = await items.next();
      if (next.done) {
        done = true;
        break;
      }
      const item = next.value;
      if (ctx.signal?.aborted) break;
      if (isCursorAdvance(item)) {
        while (inFlight.length > 0) await settleOldest();
        if (item.problem) {
          const problem = item.item === undefined ? item.problem : { ...item.problem, message: `${safeName(item.item)}: ${item.problem.message}` };
          await out({ type: 'error', problem: { ...problem, message: safeName(problem.message) } });
        }
        if (item.present) await out({ type: 'present', present: item.present });
        if (item.cursor !== '') await out({ type: 'cursor', cursor: item.cursor });
        continue;
      }
      const raw = item;
      await ctx.budget.acquire(raw.bytes.length);
      const scanned = ctx
        .parseLimit(() => (ctx.scanner ? ctx.scanner.scan(raw) : scanMessage(raw, engine, ctx.options)))
        .catch((err: unknown) => {
          if (err instanceof ScannerFailed) throw err; // not this message's fault: the scan ends
          return failedOutcome(raw, err);
        })
        .finally(() => ctx.budget.release(raw.bytes.length))
        .then((outcome) => ({ raw, outcome }));
      scanned.catch(() => undefined); // rejects only with ScannerFailed, taken up in turn by settleOldest
      inFlight.push(scanned);
      while (inFlight.length >= ctx.window) await settleOldest();
    }
    while (inFlight.length > 0) await settleOldest();
  } catch (err) {
    if (err instanceof ScannerFailed) throw err;
    // The unit could not be read to its end: what was read is reported, the rest is an error.
    while (inFlight.length > 0) await settleOldest();
    await out({ type: 'error', problem: { code: 'source-failed', message: safeName(`${unit.folder ? `${unit.folder}: ` : ''}reading stopped: ${safeReason(err)}`) } });
  } finally {
    // Left early (stopped, or a failure): the source closes its files and connections, as `for await` would.
    if (!done) await items.return?.(undefined).catch(() => undefined);
  }
}

/** scanMessage does not throw for bad input; this is the last line of defence, never a crash. */
function failedOutcome(raw: RawMessage, err: unknown): MessageOutcome {
  return {
    messageId: syntheticMessageId(raw.bytes),
    date: null,
    maskedSubject: null,
    findings: [],
    problems: [{ code: 'parse-failed', message: `message could not be scanned: ${safeReason(err)}` }],
  };
}
