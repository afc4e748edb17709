/**
 * The shape automaton of the bundled rules as the build stores it (dist/engine/shapes-cache.json),
 * so that a process does not build it again: subset construction is ~130 ms of a cold process's
 * main thread, a seventh of an empty scan (README, Benchmarks). The key is the SHA-256 of the
 * shapes themselves and of shapes.ts's own code: the same shapes built by the same code give the
 * same automaton, so any other shapes (user rules, an edited rule) or any other builder are built
 * as before. Only the build writes it, from the bundled rules; nothing of mail is in it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ShapeStep } from '../rules/shape.js';
import { buildShapeAutomaton, type ShapeAutomaton } from './shapes.js';

/** The cache file the build writes (dist/engine/, beside the built builder). */
export const SHAPES_CACHE_FILE = fileURLToPath(new URL('./shapes-cache.json', import.meta.url));

/** What the key covers besides the shapes: the builder's code and the byte order of its tables. None when that code cannot be read. */
const BUILDER_VERSION = ((): string | undefined => {
  try {
    const own = readFileSync(fileURLToPath(new URL('./shapes.js', import.meta.url)));
    return createHash('sha256').update(`phi-scan shapes cache 1\0${endianness()}\0`).update(own).digest('hex');
  } catch {
    return undefined; // run from src/ by tsx (shapes.ts beside it): no cache
  }
})();

/** The key of a list of shapes: every step's set and whether it is optional, in order. */
export function shapesKey(shapes: readonly (readonly ShapeStep[])[]): string | undefined {
  if (BUILDER_VERSION === undefined) return undefined;
  const hash = createHash('sha256').update(BUILDER_VERSION);
  for (const shape of shapes) {
    hash.update('\0shape');
    for (const step of shape) hash.update(`${step.optional ? '?' : '.'}${step.set.map((inSet) => (inSet ? '1' : '0')).join('')}`);
  }
  return hash.digest('hex');
}

const bytes = z.string().transform((b64) => Buffer.from(b64, 'base64'));
const CacheSchema = z.object({
  key: z.string(),
  automaton: z.object({
    classOf: bytes,
    classCount: z.number().int().positive(),
    transitions: bytes,
    acceptLow: bytes,
    acceptHigh: bytes,
    included: z.array(z.number().int().nonnegative()),
    gated: z.boolean(),
    anchors: bytes,
    reach: z.number().int(),
    digitReach: z.number().int(),
  }),
});

/** A copy of `b`'s bytes as a typed array of `size`-byte elements (aligned, owning its memory). */
function typed<T>(b: Buffer, size: number, make: (buffer: ArrayBuffer) => T): T | undefined {
  if (b.length % size !== 0) return undefined;
  const copy = new ArrayBuffer(b.length);
  new Uint8Array(copy).set(b);
  return make(copy);
}

/** The cached automaton read back, when it is whole: tables of the lengths its state and class counts give. */
function automatonFrom(data: z.infer<typeof CacheSchema>['automaton']): ShapeAutomaton | undefined {
  const classOf = typed(data.classOf, 1, (b) => new Uint8Array(b));
  const transitions = typed(data.transitions, 2, (b) => new Uint16Array(b));
  const acceptLow = typed(data.acceptLow, 4, (b) => new Uint32Array(b));
  const acceptHigh = typed(data.acceptHigh, 4, (b) => new Uint32Array(b));
  const anchors = typed(data.anchors, 1, (b) => new Uint8Array(b));
  if (!classOf || !transitions || !acceptLow || !acceptHigh || !anchors) return undefined;
  const states = acceptLow.length;
  const whole =
    classOf.length === 128 &&
    anchors.length === 128 &&
    acceptHigh.length === states &&
    transitions.length === states * data.classCount &&
    classOf.every((c) => c < data.classCount) &&
    transitions.every((s) => s < states);
  return whole ? { ...data, classOf, transitions, acceptLow, acceptHigh, anchors } : undefined;
}

let diskCache: { key: string; automaton: ShapeAutomaton } | null | undefined;
/** The build's cache, read once per process; null when there is none or it is not whole. */
function readDiskCache(): { key: string; automaton: ShapeAutomaton } | null {
  if (diskCache !== undefined) return diskCache;
  diskCache = null;
  try {
    const parsed = CacheSchema.safeParse(JSON.parse(readFileSync(SHAPES_CACHE_FILE, 'utf8')));
    const automaton = parsed.success ? automatonFrom(parsed.data.automaton) : undefined;
    if (parsed.success && automaton) diskCache = { key: parsed.data.key, automaton };
  } catch {
    // no cache (a source checkout, a bundler) or an unreadable one: build
  }
  return diskCache;
}

/** How the last automaton was had: from the build's cache, or built. */
export let lastShapesRead: 'cache' | 'built' | undefined;

/** The automaton of `shapes`: the build's when it was made from these shapes by this code, else built now. */
export function shapeAutomatonFor(shapes: readonly (readonly ShapeStep[])[]): ShapeAutomaton {
  const key = shapesKey(shapes);
  const cached = key === undefined ? null : readDiskCache();
  if (cached && cached.key === key) {
    lastShapesRead = 'cache';
    return cached.automaton;
  }
  lastShapesRead = 'built';
  return buildShapeAutomaton(shapes);
}

const base64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Writes the cache for these shapes (the bundled rules'; `npm run build` calls it). False when there is no key. */
export async function writeShapesCache(shapes: readonly (readonly ShapeStep[])[], out: string = SHAPES_CACHE_FILE): Promise<boolean> {
  const key = shapesKey(shapes);
  if (key === undefined) return false;
  const a = buildShapeAutomaton(shapes);
  const automaton = {
    classOf: base64(a.classOf),
    classCount: a.classCount,
    transitions: base64(a.transitions),
    acceptLow: base64(a.acceptLow),
    acceptHigh: base64(a.acceptHigh),
    included: a.included,
    gated: a.gated,
    anchors: base64(a.anchors),
    reach: a.reach,
    digitReach: a.digitReach,
  };
  await writeFile(out, `${JSON.stringify({ key, automaton })}\n`);
  return true;
}
