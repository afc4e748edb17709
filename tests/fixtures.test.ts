/** The committed demo archive is exactly what fixtures/generate.ts writes (synthetic, reproducible). */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAttachmentFiles } from '../fixtures/attachments.js';
import { buildDemoFiles } from '../fixtures/generate.js';
import { ROOT } from './helpers/cli.js';
import { DEMO } from './helpers/demo.js';

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

describe('fixtures/generate.ts', () => {
  it('reproduces fixtures/demo byte for byte', () => {
    const generated = buildDemoFiles();
    expect(listFiles(DEMO).sort()).toEqual([...generated.keys()].map((k) => k.split('/').join(path.sep)).sort());
    for (const [rel, bytes] of generated) {
      expect(readFileSync(path.join(DEMO, rel)).equals(bytes), rel).toBe(true);
    }
  });

  it('reproduces fixtures/attachments byte for byte', () => {
    const dir = path.join(ROOT, 'fixtures', 'attachments');
    const generated = buildAttachmentFiles();
    expect(listFiles(dir).sort()).toEqual([...generated.keys()].sort());
    for (const [rel, bytes] of generated) expect(readFileSync(path.join(dir, rel)).equals(bytes), rel).toBe(true);
  });
});
