/**
 * Bench corpora in .bench/: an mboxrd file of synthetic mail, generated deterministically from a
 * seed and reused when a previous run left the same file (same generator version, seed and
 * target, and the file still has the recorded size). A sidecar `.json` keeps the ground truth.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { MailGenerator, mboxrdEscape, type MessageKind } from './mailgen.js';

/** Bump when the generator's output changes, so stale corpora are regenerated. */
export const GENERATOR_VERSION = 4;

export interface CorpusMeta {
  readonly generatorVersion: number;
  readonly seed: number;
  readonly targetBytes: number;
  readonly bytes: number;
  readonly messages: number;
  /** Messages carrying at least one labelled SSN. */
  readonly phiMessages: number;
  readonly kinds: Record<MessageKind, number>;
  /** How many copies of `base` this file is made of (1 for a generated file). */
  readonly copies: number;
}

export interface Corpus {
  readonly path: string;
  readonly meta: CorpusMeta;
  readonly reused: boolean;
  readonly seconds: number;
}

function readMeta(file: string): CorpusMeta | undefined {
  try {
    return JSON.parse(readFileSync(`${file}.json`, 'utf8')) as CorpusMeta;
  } catch {
    return undefined;
  }
}

function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : -1;
}

/** Generates messages until the file holds at least `targetBytes` (whole messages only). */
export function ensureCorpus(file: string, targetBytes: number, seed: number): Corpus {
  const started = performance.now();
  const old = readMeta(file);
  if (old && old.generatorVersion === GENERATOR_VERSION && old.seed === seed && old.targetBytes === targetBytes && old.copies === 1 && fileSize(file) === old.bytes) {
    return { path: file, meta: old, reused: true, seconds: 0 };
  }
  const gen = new MailGenerator(seed);
  const tmp = `${file}.partial`;
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  let messages = 0;
  let phiMessages = 0;
  const kinds: Record<MessageKind, number> = { plain: 0, qp: 0, alternative: 0, csv: 0 };
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = (): void => {
    const buf = Buffer.from(pending.join(''), 'utf8');
    writeSync(fd, buf);
    bytes += buf.length;
    pending = [];
    pendingChars = 0;
  };
  try {
    // Sizes are counted in UTF-8 bytes per message so the stop point does not depend on batching.
    let written = 0;
    while (written < targetBytes) {
      const m = gen.message();
      // Each message ends with a line break, then the blank line that separates it from the next From_ line.
      const entry = `${m.fromLine}\n${mboxrdEscape(m.text)}\n`;
      pending.push(entry);
      pendingChars += entry.length;
      written += Buffer.byteLength(entry, 'utf8');
      messages++;
      kinds[m.kind]++;
      if (m.phi) phiMessages++;
      if (pendingChars > 8 * 1024 * 1024) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const meta: CorpusMeta = { generatorVersion: GENERATOR_VERSION, seed, targetBytes, bytes, messages, phiMessages, kinds, copies: 1 };
  writeFileSync(`${file}.json`, `${JSON.stringify(meta, null, 2)}\n`);
  return { path: file, meta, reused: false, seconds: (performance.now() - started) / 1000 };
}

/** `copies` concatenations of `base` (a valid mbox, since every message ends with a blank line). */
export async function ensureConcatenated(file: string, base: Corpus, copies: number): Promise<Corpus> {
  const started = performance.now();
  const expected: CorpusMeta = {
    ...base.meta,
    bytes: base.meta.bytes * copies,
    messages: base.meta.messages * copies,
    phiMessages: base.meta.phiMessages * copies,
    kinds: Object.fromEntries(Object.entries(base.meta.kinds).map(([k, n]) => [k, n * copies])) as Record<MessageKind, number>,
    copies,
  };
  const old = readMeta(file);
  if (old && JSON.stringify(old) === JSON.stringify(expected) && fileSize(file) === expected.bytes) {
    return { path: file, meta: old, reused: true, seconds: 0 };
  }
  const tmp = `${file}.partial`;
  rmSync(tmp, { force: true });
  const out = await open(tmp, 'w');
  const input = await open(base.path, 'r');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (let i = 0; i < copies; i++) {
      let position = 0;
      for (;;) {
        const { bytesRead } = await input.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) break;
        await out.write(chunk, 0, bytesRead);
        position += bytesRead;
      }
    }
  } finally {
    await input.close();
    await out.close();
  }
  renameSync(tmp, file);
  writeFileSync(`${file}.json`, `${JSON.stringify(expected, null, 2)}\n`);
  return { path: file, meta: expected, reused: false, seconds: (performance.now() - started) / 1000 };
}
