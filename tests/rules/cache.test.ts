/**
 * The built loader reads the bundled rules from the cache the build wrote (dist/rules/rules-cache.json)
 * only while the rule files are what it was written from: a changed, renamed or added file is
 * parsed again, in a new process and in the same one (src/rules/load.ts).
 */
import { cpSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';

type Loader = typeof import('../../src/rules/load.js');

/**
 * A copy of the built package (dist/, rules/, data/) whose bundled rules the test may edit; its
 * loader is a module of its own, so it starts with nothing in memory. Only the built loader has
 * the build's cache beside it.
 */
async function builtCopy(): Promise<{ root: string; loader: Loader }> {
  const root = tempDir('phi-rules-cache-');
  for (const dir of ['dist', 'rules', 'data']) cpSync(path.join(ROOT, dir), path.join(root, dir), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), readFileSync(path.join(ROOT, 'package.json')));
  const loader = (await import(/* @vite-ignore */ path.join(root, 'dist', 'rules', 'load.js'))) as Loader;
  return { root, loader };
}

describe('rules cache', () => {
  it('holds what YAML reads from each bundled rule file, and the bundled rules load from it', async () => {
    const cache = JSON.parse(readFileSync(path.join(ROOT, 'dist', 'rules', 'rules-cache.json'), 'utf8')) as { files: { name: string; data: unknown }[] };
    expect(cache.files.map((f) => f.name).length).toBeGreaterThan(10);
    for (const f of cache.files) expect(f.data, f.name).toEqual(parse(readFileSync(path.join(ROOT, 'rules', f.name), 'utf8')));
    const { loader } = await builtCopy();
    const { rules } = await loader.loadRules([loader.BUNDLED_RULES_DIR]);
    expect(loader.lastRulesRead).toBe('cache');
    expect(rules.map((r) => path.basename(r.file)).sort()).toEqual(cache.files.map((f) => f.name).filter((n) => !/allow/.test(n)).sort());
    await loader.loadRules([loader.BUNDLED_RULES_DIR]);
    expect(loader.lastRulesRead).toBe('memory');
  });

  it('a bundled file changed, renamed or added after the build is parsed, and what it says now is what loads', async () => {
    const { loader } = await builtCopy();
    const dir = loader.BUNDLED_RULES_DIR;
    const ssn = (rules: Awaited<ReturnType<Loader['loadRules']>>['rules']) => rules.find((r) => r.id === 'ssn');
    const load = async (expected: 'parsed' | 'memory') => {
      const { rules } = await loader.loadRules([dir]);
      expect(loader.lastRulesRead).toBe(expected);
      return rules;
    };

    writeFileSync(path.join(dir, 'ssn.yaml'), readFileSync(path.join(dir, 'ssn.yaml'), 'utf8').replace(/^description: .*$/m, 'description: changed after the build'));
    expect(ssn(await load('parsed'))?.definition.description).toBe('changed after the build');
    expect(ssn(await load('memory'))?.definition.description).toBe('changed after the build');

    renameSync(path.join(dir, 'ssn.yaml'), path.join(dir, 'ssn-renamed.yaml'));
    expect(ssn(await load('parsed'))?.file).toBe(path.join(dir, 'ssn-renamed.yaml'));

    writeFileSync(path.join(dir, 'zz-allow.yaml'), 'kind: allowlist\nentries:\n  - values: ["078-05-1120"]\n    rules: [ssn]\n');
    expect(ssn(await load('parsed'))?.allow.has('078051120')).toBe(true);
  });
});
