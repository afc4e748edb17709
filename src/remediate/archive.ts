/**
 * Archives before a migration (mbox, Maildir, EML folders): the source is never modified. `move`
 * writes two copies under the plan's `--to DIR`: `DIR/clean/…` with every message but the planned
 * ones that verify, and `DIR/quarantine/…` with those, keeping the source's relative paths (an
 * mbox file split in two mbox files; a Maildir's or EML folder's message files copied to one
 * side or the other, Maildir folders with their cur/new/tmp). The clean copy is what migrates.
 *
 * A copy is written to `NAME.partial` and renamed when complete, so a killed run leaves no
 * half-written copy under the final name; the next run writes it again.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { splitMbox } from '../sources/mbox-split.js';
import { walkTree } from '../sources/files.js';
import type { PlanItem } from './plan.js';
import { stillHolds, type ActResult, type RemediationTarget, type RescanContext, type Verdict } from './target.js';

const MAX_MESSAGE = 512 * 1024 * 1024;
/** Planned messages verified at once when the scanner does not say (scan's default --concurrency). */
const VERIFY_AT_ONCE = 8;

/** The mbox message whose From_ line starts at `offset`, or undefined (unreadable, gone, no From_ line there any more). */
async function mboxMessageAt(file: string, offset: number): Promise<Buffer | undefined> {
  const stream = createReadStream(file, { start: offset, highWaterMark: 64 * 1024 });
  try {
    for await (const m of splitMbox(stream as AsyncIterable<Buffer>, { maxMessageBytes: MAX_MESSAGE, startOffset: offset })) return m.offset === offset ? m.bytes : undefined;
  } catch {
    // unreadable, gone, or not a From_ line at that offset
  } finally {
    stream.destroy();
  }
  return undefined;
}

export function archiveRemediation(source: string, ctx: RescanContext): RemediationTarget {
  const scheme = source.slice(0, source.indexOf(':'));
  const root = source.slice(scheme.length + 1);
  const plan = ctx.plan.header;
  const outDir = plan.to ?? 'PHI-Quarantine';
  /** locator → verdict of the planned message there (no fingerprints: a plan's items are not held). */
  const verdicts = new Map<string, Verdict>();
  /** locator → why its message could not be read again. */
  const unverifiable = new Map<string, unknown>();
  let verified = false;
  /** Files (mbox) or the tree (`*`) whose copies are written. */
  const written = new Set<string>();
  let rootIsFile: boolean | undefined;

  /** mbox: `FILE@OFFSET`; Maildir/EML: the message file. */
  const unitOf = (item: PlanItem): { file: string; at: string } => {
    if (scheme === 'mbox') {
      const i = item.locator.lastIndexOf('@');
      return { file: item.locator.slice(0, i), at: item.locator.slice(i + 1) };
    }
    return { file: scheme === 'maildir' || scheme === 'eml' ? '*' : item.locator, at: item.locator };
  };

  async function relative(file: string): Promise<string> {
    rootIsFile ??= (await stat(root)).isFile();
    return rootIsFile ? path.basename(root) : path.relative(root, file);
  }

  /** The planned message read again where the scan found it: the mbox message at its offset, or its file. */
  async function verdictOf(item: PlanItem): Promise<Verdict> {
    const { file, at } = unitOf(item);
    if (scheme !== 'mbox') {
      const bytes = await readFile(at).catch(() => undefined);
      return bytes ? stillHolds(ctx, item, bytes) : { status: 'skip', reason: 'gone: the message file no longer exists' };
    }
    const offset = Number(at);
    const bytes = await mboxMessageAt(file, offset);
    return bytes ? stillHolds(ctx, item, bytes) : { status: 'skip', reason: 'gone: no message starts at this offset any more' };
  }

  /**
   * Every planned message of this source verified before any copy is written (a copy holds the
   * whole file or tree): the plan is read again for them, one pass, and only verdicts are kept.
   * As many at once as the scanner takes (its threads parse while this thread runs the rules).
   */
  async function verifyAll(): Promise<void> {
    if (verified) return;
    verified = true;
    const window = ctx.scanner.ahead ?? VERIFY_AT_ONCE;
    const inFlight = new Set<Promise<void>>();
    try {
      for await (const other of ctx.plan.items()) {
        if (other.source !== source || verdicts.has(other.locator) || unverifiable.has(other.locator)) continue;
        const p: Promise<void> = verdictOf(other)
          .then(
            (v) => void verdicts.set(other.locator, v),
            (err: unknown) => void unverifiable.set(other.locator, err),
          )
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
    } finally {
      await Promise.all(inFlight);
    }
  }

  async function verify(item: PlanItem): Promise<Verdict> {
    if (plan.action !== 'move') return { status: 'skip', reason: `archives are never modified: use --action move --to DIR (clean and quarantine copies), not ${plan.action}` };
    await verifyAll();
    // Could not be read again (its thread ran out of time or memory): this item fails (run.ts), its message stays on the clean side.
    if (unverifiable.has(item.locator)) throw unverifiable.get(item.locator);
    let verdict = verdicts.get(item.locator);
    if (!verdict) {
      verdict = await verdictOf(item);
      verdicts.set(item.locator, verdict);
    }
    return verdict;
  }

  async function writeMbox(file: string): Promise<void> {
    const rel = await relative(file);
    const clean = path.join(outDir, 'clean', rel);
    const quarantine = path.join(outDir, 'quarantine', rel);
    await mkdir(path.dirname(clean), { recursive: true, mode: 0o700 });
    await mkdir(path.dirname(quarantine), { recursive: true, mode: 0o700 });
    const cleanOut = await open(`${clean}.partial`, 'w', 0o600);
    const quarantineOut = await open(`${quarantine}.partial`, 'w', 0o600);
    const input = await open(file, 'r');
    try {
      // Byte ranges of the source as they are (From_ line, >From quoting and all).
      const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
      for await (const m of splitMbox(stream as AsyncIterable<Buffer>, { maxMessageBytes: MAX_MESSAGE })) {
        const quarantined = verdicts.get(`${file}@${m.offset}`)?.status === 'ok';
        const buf = Buffer.alloc(m.end - m.offset);
        await input.read(buf, 0, buf.length, m.offset);
        await (quarantined ? quarantineOut : cleanOut).write(buf);
      }
      await cleanOut.sync();
      await quarantineOut.sync();
    } finally {
      await cleanOut.close();
      await quarantineOut.close();
      await input.close();
    }
    await rename(`${clean}.partial`, clean);
    await rename(`${quarantine}.partial`, quarantine);
  }

  /** Maildir and EML: every file under the root goes to one copy or the other. */
  async function writeTree(): Promise<void> {
    const isFile = (await stat(root)).isFile();
    const all: string[] = [];
    if (isFile) all.push(root);
    else for await (const w of walkTree(root)) if (w.kind === 'file') all.push(w.path);
    const ok = new Set([...verdicts].filter(([, v]) => v.status === 'ok').map(([p]) => path.resolve(p)));
    for (const f of all) {
      const rel = isFile ? path.basename(f) : path.relative(root, f);
      if (scheme === 'maildir' && rel.split(path.sep).includes('tmp')) continue;
      const side = ok.has(path.resolve(f)) ? 'quarantine' : 'clean';
      const to = path.join(outDir, side, rel);
      await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
      if (scheme === 'maildir') for (const d of ['cur', 'new', 'tmp']) await mkdir(path.join(path.dirname(path.dirname(to)), d), { recursive: true, mode: 0o700 });
      await copyFile(f, `${to}.partial`);
      await rename(`${to}.partial`, to);
    }
  }

  async function act(item: PlanItem): Promise<ActResult> {
    const { file, at } = unitOf(item);
    if (!verdicts.has(item.locator)) throw new Error('not verified');
    if (!written.has(file)) {
      // Every planned message of the source is verified (verify) before its copies are written.
      if (scheme === 'mbox') await writeMbox(file);
      else await writeTree();
      written.add(file);
    }
    const rel = await relative(scheme === 'mbox' ? file : at);
    return { from: { folder: item.folder, locator: item.locator }, to: { folder: 'quarantine', file: path.join(outDir, 'quarantine', rel) } };
  }

  return { verify, act, close: async () => undefined };
}
