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

interface FileState {
  /** offset (mbox) or path (file per message) → verdict of the planned message there. */
  readonly verdicts: Map<string, Verdict>;
  written: boolean;
}

export function archiveRemediation(source: string, ctx: RescanContext): RemediationTarget {
  const scheme = source.slice(0, source.indexOf(':'));
  const root = source.slice(scheme.length + 1);
  const plan = ctx.plan;
  const outDir = plan.to ?? 'PHI-Quarantine';
  const files = new Map<string, FileState>();
  const planned = new Map<string, PlanItem[]>();
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

  async function verifyMbox(file: string, state: FileState): Promise<void> {
    const wanted = new Map((planned.get(file) ?? []).map((i) => [unitOf(i).at, i]));
    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
    try {
      for await (const m of splitMbox(stream as AsyncIterable<Buffer>, { maxMessageBytes: MAX_MESSAGE })) {
        const item = wanted.get(String(m.offset));
        if (item) state.verdicts.set(String(m.offset), await stillHolds(ctx, item, m.bytes));
      }
    } finally {
      stream.destroy();
    }
  }

  async function verify(item: PlanItem): Promise<Verdict> {
    if (plan.action !== 'move') return { status: 'skip', reason: `archives are never modified: use --action move --to DIR (clean and quarantine copies), not ${plan.action}` };
    const { file, at } = unitOf(item);
    let state = files.get(file);
    if (!state) {
      state = { verdicts: new Map(), written: false };
      files.set(file, state);
      if (scheme === 'mbox') {
        for (const other of ctxItems()) {
          const u = unitOf(other);
          if (u.file === file) planned.set(file, [...(planned.get(file) ?? []), other]);
        }
        try {
          await verifyMbox(file, state);
        } catch {
          // unreadable or gone: every planned message of it is skipped below
        }
      }
    }
    if (scheme !== 'mbox') {
      if (!state.verdicts.has(at)) {
        let bytes: Buffer | undefined;
        try {
          bytes = await readFile(at);
        } catch {
          bytes = undefined;
        }
        state.verdicts.set(at, bytes ? await stillHolds(ctx, item, bytes) : { status: 'skip', reason: 'gone: the message file no longer exists' });
      }
    }
    return state.verdicts.get(at) ?? { status: 'skip', reason: 'gone: no message starts at this offset any more' };
  }

  function ctxItems(): PlanItem[] {
    return plan.items.filter((i) => i.source === source);
  }

  async function writeMbox(file: string, state: FileState): Promise<void> {
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
        const quarantined = state.verdicts.get(String(m.offset))?.status === 'ok';
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
  async function writeTree(state: FileState): Promise<void> {
    const isFile = (await stat(root)).isFile();
    const all: string[] = [];
    if (isFile) all.push(root);
    else for await (const w of walkTree(root)) if (w.kind === 'file') all.push(w.path);
    const ok = new Set([...state.verdicts].filter(([, v]) => v.status === 'ok').map(([p]) => path.resolve(p)));
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
    const state = files.get(file);
    if (!state) throw new Error('not verified');
    if (!state.written) {
      // All the planned messages of this file (or tree) are verified before its copies are written.
      if (scheme !== 'mbox') for (const other of ctxItems()) if (!state.verdicts.has(other.locator)) await verify(other);
      if (scheme === 'mbox') await writeMbox(file, state);
      else await writeTree(state);
      state.written = true;
    }
    const rel = await relative(scheme === 'mbox' ? file : at);
    return { from: { folder: item.folder, locator: item.locator }, to: { folder: 'quarantine', file: path.join(outDir, 'quarantine', rel) } };
  }

  return { verify, act, close: async () => undefined };
}
