/**
 * What a source must do to take part in remediation: find a planned message again and re-scan
 * it (verify), then act on it, and undo an action it logged. One implementation per kind of
 * source (IMAP, Graph, archives); the run in run.ts drives them and writes the audit log.
 */
import type { MessageScanner } from '../pipeline/scanner-types.js';
import type { Place } from './audit.js';
import type { PlanFile, PlanItem } from './plan.js';

export type Verdict =
  /** Found, unchanged, still holding every finding of the plan: it may be acted on. */
  | { readonly status: 'ok' }
  /** The action is already done (a second --apply, or a run killed after acting): where it is now. */
  | { readonly status: 'already-done'; readonly to?: Place }
  /** Not acted on: gone, changed, no longer holding the plan's findings, or not supported. */
  | { readonly status: 'skip'; readonly reason: string };

export interface ActResult {
  readonly from: Place;
  readonly to?: Place;
}

export interface RemediationTarget {
  verify(item: PlanItem): Promise<Verdict>;
  act(item: PlanItem): Promise<ActResult>;
  close(): Promise<void>;
}

/** Undo of one logged action: where the message went back to. */
export interface UndoTarget {
  undo(entry: { readonly action: string; readonly mailbox: string; readonly from: Place; readonly to?: Place; readonly keyword?: string }): Promise<{ readonly to: Place }>;
  close(): Promise<void>;
}

/** The end of the reason given when planned findings are not found again (the CLI counts these). */
export const NOT_FOUND_AGAIN = 'findings are no longer in the message';

export interface RescanContext {
  /**
   * Scans a message again: at `low`, with the scan's rules, depth, attachment and OCR limits and
   * roster (`remediate --rules … --edm …`), in worker threads under the scan's time and memory
   * fences (`--message-timeout`, `--thread-memory`) where the installation has them.
   */
  readonly scanner: MessageScanner;
  /** Called after each message is read again (a progress line). */
  readonly rescanned?: () => void;
  /** move/tag/delete, the destination and keyword (`header`), and the plan's items again (archives verify a file's planned messages together). */
  readonly plan: PlanFile;
  /** False for a dry run: nothing may change (IMAP EXAMINE, no CREATE). */
  readonly apply: boolean;
}

/**
 * Re-scans a message's bytes and says whether it is still the planned one: the same Message-ID
 * and every planned finding's fingerprint found again. At `low`, so a finding the scan reported
 * is found whatever threshold that scan used; with the scan's other detection settings (ctx.scanner).
 */
export async function stillHolds(ctx: RescanContext, item: PlanItem, bytes: Uint8Array): Promise<Verdict> {
  const outcome = await ctx.scanner.scan({ bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), size: bytes.byteLength });
  ctx.rescanned?.();
  // Not read to the end (its thread ran out of time or memory): not verified, which is not "changed".
  const stopped = outcome.problems.find((p) => p.code === 'timeout' || p.code === 'scan-failed');
  if (stopped) throw new Error(stopped.message);
  if (outcome.messageId !== item.messageId) return { status: 'skip', reason: 'changed: another message is at this place (Message-ID differs)' };
  const found = new Set(outcome.findings.map((f) => f.fingerprint));
  const missing = item.fingerprints.filter((f) => !found.has(f)).length;
  if (missing > 0) return { status: 'skip', reason: `changed: ${missing} of the plan's ${item.fingerprints.length} ${NOT_FOUND_AGAIN}` };
  return { status: 'ok' };
}
