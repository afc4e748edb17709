/**
 * Runs a plan: for each message, find it again and re-scan it (every source kind's `verify`),
 * then, with --apply, act on it between an `intent` and an outcome entry of the audit log.
 * A dry run does the same verification read-only and says what it would do; it writes no log.
 *
 * Idempotent: an item the log already shows done is not touched again, and an item whose action
 * is found done (moved by a run killed before logging it, keyword already set) is logged as done
 * without acting. Nothing is retried blindly after a dropped connection: the message is verified
 * again first.
 */
import { AuditLog, verifyLog, type LoggedEntry, type Place } from './audit.js';
import { itemKey, type PlanFile, type PlanItem } from './plan.js';
import type { RemediationTarget, RescanContext, UndoTarget } from './target.js';
import { safeReason } from '../common/safe-reason.js';
import { ScanError } from '../common/errors.js';

/** One line of what happened (or would), for stdout. */
export interface StepRecord {
  readonly type: 'remediation-step';
  readonly status: 'would-act' | 'done' | 'already-done' | 'skipped' | 'failed';
  readonly action: string;
  readonly source: string;
  readonly mailbox: string;
  readonly folder: string;
  readonly locator: string;
  readonly messageId: string;
  readonly to?: string;
  readonly reason?: string;
}

export type TargetFactory = (source: string, ctx: RescanContext) => RemediationTarget | undefined;

export interface RunOutcome {
  readonly counts: Record<StepRecord['status'], number>;
}

/** Items the log shows done (by an earlier session), and intents whose outcome was never logged. */
function fromLog(entries: readonly LoggedEntry[], action: string): { done: Set<string>; open: Map<string, number> } {
  const done = new Set<string>();
  const open = new Map<string, number>();
  const outcomeOf = new Set(entries.filter((e) => e.refers !== undefined).map((e) => e.refers));
  const undone = new Set(entries.filter((e) => e.event === 'done' && e.action?.startsWith('undo-')).map((e) => e.refers));
  for (const e of entries) {
    if (e.action !== action || !e.source || !e.mailbox || !e.from?.locator) continue;
    const key = itemKey({ source: e.source, mailbox: e.mailbox, locator: e.from.locator });
    if (e.event === 'done' && !undone.has(e.seq)) done.add(key);
    if (e.event === 'intent' && !outcomeOf.has(e.seq)) open.set(key, e.seq);
  }
  return { done, open };
}

export async function runPlan(
  planFile: PlanFile,
  ctx: RescanContext,
  targetFor: TargetFactory,
  log: AuditLog | undefined,
  emit: (r: StepRecord) => void,
): Promise<RunOutcome> {
  const counts: Record<StepRecord['status'], number> = { 'would-act': 0, done: 0, 'already-done': 0, skipped: 0, failed: 0 };
  const plan = planFile.header;
  const earlier = log ? fromLog(log.earlier, plan.action) : { done: new Set<string>(), open: new Map<string, number>() };
  const targets = new Map<string, RemediationTarget | undefined>();
  const base = (i: PlanItem) => ({
    type: 'remediation-step' as const,
    action: plan.action,
    source: i.source,
    mailbox: i.mailbox,
    folder: i.folder,
    locator: i.locator,
    messageId: i.messageId,
    ...(plan.to !== undefined && plan.action === 'move' ? { to: plan.to } : {}),
  });
  const say = (r: StepRecord): void => {
    counts[r.status]++;
    emit(r);
  };
  const logged = (i: PlanItem) => ({
    action: plan.action,
    source: i.source,
    mailbox: i.mailbox,
    messageId: i.messageId,
    fingerprints: i.fingerprints,
    ...(plan.keyword !== undefined ? { keyword: plan.keyword } : {}),
  });
  log?.append({ event: 'start', action: plan.action, reason: `plan of run ${plan.run}: ${planFile.count} messages`, ...(plan.to ? { to: { folder: plan.to } } : {}) });
  try {
    for await (const item of planFile.items()) {
      const key = itemKey(item);
      if (earlier.done.has(key)) {
        say({ ...base(item), status: 'already-done', reason: 'the audit log shows it done' });
        continue;
      }
      if (!targets.has(item.source)) targets.set(item.source, targetFor(item.source, ctx));
      const target = targets.get(item.source);
      const from: Place = { folder: item.folder, locator: item.locator };
      const open = earlier.open.get(key);
      if (!target) {
        say({ ...base(item), status: 'skipped', reason: 'this kind of source cannot be remediated' });
        log?.append({ event: 'skipped', ...logged(item), from, reason: 'this kind of source cannot be remediated' });
        continue;
      }
      let verdict;
      try {
        verdict = await target.verify(item);
      } catch (err) {
        const reason = `cannot verify: ${safeReason(err)}`;
        say({ ...base(item), status: 'failed', reason });
        log?.append({ event: 'failed', ...logged(item), from, reason });
        continue;
      }
      if (verdict.status === 'already-done') {
        say({ ...base(item), status: 'already-done', reason: 'found done in the mailbox' });
        log?.append({ event: 'done', ...logged(item), from, ...(verdict.to ? { to: verdict.to } : {}), reason: 'found done when verified', ...(open ? { refers: open } : {}) });
        continue;
      }
      if (verdict.status === 'skip') {
        say({ ...base(item), status: 'skipped', reason: verdict.reason });
        log?.append({ event: 'skipped', ...logged(item), from, reason: verdict.reason, ...(open ? { refers: open } : {}) });
        continue;
      }
      if (!ctx.apply || !log) {
        say({ ...base(item), status: 'would-act' });
        continue;
      }
      if (open) {
        // A run stopped between its intent and acting: verified not done, so that intent ends
        // here (failed, with why) and this run acts under its own.
        log.append({ event: 'failed', ...logged(item), from, reason: 'not done when verified again (the run that began it stopped first); acted on again', refers: open });
      }
      const intent = log.append({ event: 'intent', ...logged(item), from, ...(plan.action === 'move' && plan.to ? { to: { folder: plan.to } } : {}) });
      try {
        const r = await target.act(item);
        log.append({ event: 'done', ...logged(item), from: r.from, ...(r.to ? { to: r.to } : {}), refers: intent });
        say({ ...base(item), status: 'done' });
      } catch (err) {
        const reason = safeReason(err);
        log.append({ event: 'failed', ...logged(item), from, reason, refers: intent });
        say({ ...base(item), status: 'failed', reason });
      }
    }
  } finally {
    for (const t of targets.values()) await t?.close().catch(() => undefined);
    log?.append({ event: 'end', action: plan.action, counts: { ...counts } });
  }
  return { counts };
}

export type UndoFactory = (source: string) => UndoTarget | undefined;

/**
 * `--undo LOG`: every action the log shows done and not yet undone, reversed where the action
 * allows (moves go back, keywords are removed; a delete cannot be undone), logged in the same log.
 */
export async function undoLog(file: string, key: Buffer, apply: boolean, undoFor: UndoFactory, emit: (r: StepRecord) => void): Promise<RunOutcome> {
  const counts: Record<StepRecord['status'], number> = { 'would-act': 0, done: 0, 'already-done': 0, skipped: 0, failed: 0 };
  const v = await verifyLog(file, key);
  if (!v.ok) throw new ScanError('usage', `${file}: the audit log does not verify (${v.problems[0]}): nothing undone`);
  const undone = new Set(v.entries.filter((e) => e.event === 'done' && e.action?.startsWith('undo-')).map((e) => e.refers));
  const todo = v.entries.filter((e) => e.event === 'done' && (e.action === 'move' || e.action === 'tag' || e.action === 'delete') && !undone.has(e.seq));
  const log = apply ? await AuditLog.open(file, key) : undefined;
  const targets = new Map<string, UndoTarget | undefined>();
  const say = (r: StepRecord): void => {
    counts[r.status]++;
    emit(r);
  };
  log?.append({ event: 'start', action: 'undo', reason: `${todo.length} logged actions to undo` });
  try {
    for (const e of todo.reverse()) {
      const source = e.source as string;
      const mailbox = e.mailbox as string;
      const from = e.from as Place;
      const base = { type: 'remediation-step' as const, action: `undo-${e.action}`, source, mailbox, folder: e.to?.folder ?? from.folder, locator: from.locator ?? '', messageId: e.messageId ?? '', to: from.folder };
      if (e.action === 'delete') {
        say({ ...base, status: 'skipped', reason: 'a delete cannot be undone' });
        continue;
      }
      if (!targets.has(source)) targets.set(source, undoFor(source));
      const t = targets.get(source);
      if (!t) {
        say({ ...base, status: 'skipped', reason: 'nothing to undo for this kind of source (its source was never changed)' });
        continue;
      }
      if (!log) {
        say({ ...base, status: 'would-act' });
        continue;
      }
      const intent = log.append({ event: 'intent', action: `undo-${e.action}`, source, mailbox, ...(e.messageId ? { messageId: e.messageId } : {}), from: e.to ?? from, to: from, refers: e.seq });
      try {
        const r = await t.undo({ action: e.action as string, mailbox, from, ...(e.to ? { to: e.to } : {}), ...(e.keyword ? { keyword: e.keyword } : {}) });
        log.append({ event: 'done', action: `undo-${e.action}`, source, mailbox, ...(e.messageId ? { messageId: e.messageId } : {}), from: e.to ?? from, to: r.to, refers: e.seq, reason: `intent ${intent}` });
        say({ ...base, status: 'done' });
      } catch (err) {
        const reason = safeReason(err);
        log.append({ event: 'failed', action: `undo-${e.action}`, source, mailbox, from: e.to ?? from, reason, refers: intent });
        say({ ...base, status: 'failed', reason });
      }
    }
  } finally {
    for (const t of targets.values()) await t?.close().catch(() => undefined);
    log?.append({ event: 'end', action: 'undo', counts: { ...counts } });
    log?.close();
  }
  return { counts };
}
