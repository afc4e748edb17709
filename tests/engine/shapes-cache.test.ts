/**
 * The shape automaton of the bundled rules comes from the cache the build wrote
 * (dist/engine/shapes-cache.json) only when it was made from the same shapes by the same code,
 * and is then the automaton a build gives; other shapes, or a damaged cache, are built
 * (src/engine/shapes-cache.ts). Run on the built modules: the cache sits beside them.
 */
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';

type Cache = typeof import('../../src/engine/shapes-cache.js');
type Shapes = typeof import('../../src/engine/shapes.js');
type Candidates = typeof import('../../src/engine/candidates.js');
type Loader = typeof import('../../src/rules/load.js');

/** A copy of the built package whose cache the test may damage; its modules start with nothing read. */
async function builtCopy(): Promise<{ cacheFile: string; cache: Cache; shapes: Shapes; bundledShapes: ReturnType<Candidates['shapedPatterns']>[number]['shape'][] }> {
  const root = tempDir('phi-shapes-cache-');
  for (const dir of ['dist', 'rules', 'data']) cpSync(path.join(ROOT, dir), path.join(root, dir), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), readFileSync(path.join(ROOT, 'package.json')));
  const load = <T>(file: string): Promise<T> => import(/* @vite-ignore */ path.join(root, 'dist', file)) as Promise<T>;
  const loader = await load<Loader>('rules/load.js');
  const { rules } = await loader.loadRules([loader.BUNDLED_RULES_DIR]);
  const bundledShapes = (await load<Candidates>('engine/candidates.js')).shapedPatterns(rules).map((s) => s.shape);
  const cache = await load<Cache>('engine/shapes-cache.js');
  return { cacheFile: cache.SHAPES_CACHE_FILE, cache, shapes: await load<Shapes>('engine/shapes.js'), bundledShapes };
}

describe('shape automaton cache', () => {
  it('gives the bundled rules the automaton a build gives, from the cache; other shapes are built', async () => {
    const { cache, shapes, bundledShapes } = await builtCopy();
    const cached = cache.shapeAutomatonFor(bundledShapes);
    expect(cache.lastShapesRead).toBe('cache');
    expect(cached).toEqual(shapes.buildShapeAutomaton(bundledShapes));
    expect(cached.acceptLow.length).toBeGreaterThan(100); // not a vacuous comparison

    const fewer = bundledShapes.slice(1);
    expect(cache.shapeAutomatonFor(fewer)).toEqual(shapes.buildShapeAutomaton(fewer));
    expect(cache.lastShapesRead).toBe('built');
  });

  it.each([
    ['not JSON', (_text: string) => '{"key": '],
    ['another key', (text: string) => text.replace(/"key":"[0-9a-f]{8}/, '"key":"00000000')],
    ['a table cut short', (text: string) => text.replace(/"transitions":"[A-Za-z0-9+/]{8}/, '"transitions":"')],
    ['a state out of range', (text: string) => text.replace(/"transitions":"[A-Za-z0-9+/]{4}/, '"transitions":"////')],
  ])('%s: built, the same automaton', async (_name, damage) => {
    const { cacheFile, cache, shapes, bundledShapes } = await builtCopy();
    writeFileSync(cacheFile, damage(readFileSync(cacheFile, 'utf8')));
    expect(cache.shapeAutomatonFor(bundledShapes)).toEqual(shapes.buildShapeAutomaton(bundledShapes));
    expect(cache.lastShapesRead).toBe('built');
  });
});
