/**
 * One memory layout for both sides of the WebAssembly prescan (src/engine/wasm/layout.ts): the
 * .wat is assembled from it and prescan.ts writes the tables with it. These tests fail when the
 * .wat holds a layout number of its own, when the table's regions overlap, or when the layout
 * does not reach the binary; and the prescan's silent fallback to JavaScript is a warning.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWat, watSource, WAT_FILE } from '../../scripts/build-wasm.js';
import { createEngine, type EngineWarning } from '../../src/engine/engine.js';
import { bucketOf, hashWord, slotOf } from '../../src/engine/keywords.js';
import { PRESCAN_LAYOUT, substituteLayout } from '../../src/engine/wasm/layout.js';
import { PRESCAN_WASM } from '../../src/engine/wasm/prescan-binary.js';
import { compileRules, type Rule } from '../../src/rules/compile.js';
import { BUNDLED_RULES_DIR, loadRules, parseRuleFile } from '../../src/rules/load.js';

const L = PRESCAN_LAYOUT;
const key = Buffer.from('0123456789abcdef0123456789abcdef');
const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const template = readFileSync(WAT_FILE, 'utf8');
/** The .wat without its comments: what is assembled. */
const code = template.replace(/;;[^\n]*/g, '');

describe('the prescan memory layout', () => {
  it('prescan.wat writes no layout number of its own: every one is a {NAME} of layout.ts', () => {
    const numbers = new Set<string>();
    for (const value of Object.values(L)) {
      if (value < 256) continue; // small struct offsets and sizes (4, 8, 12, 64) are also plain arithmetic
      numbers.add(String(value));
      numbers.add(`0x${value.toString(16)}`);
    }
    const written = [...code.matchAll(/(?<![\w$])(0x[0-9a-f]+|\d+)(?![\w])/gi)].map((m) => (m[1] as string).toLowerCase());
    expect(written.filter((n) => numbers.has(n))).toEqual([]);
    // and every table address is read through its name
    expect(code).not.toMatch(/offset=\d{3,}/);
  });

  it('every {NAME} of the .wat is in the table', () => {
    const names = [...code.matchAll(/\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((n) => !Object.hasOwn(L, n))).toEqual([]);
    expect(() => substituteLayout('(i32.const {NOT_IN_THE_TABLE})')).toThrow(/not in the layout/);
  });

  it('regions do not overlap and derived fields agree', () => {
    const regions: [string, number, number][] = [
      ['info', L.INFO_AT, L.INFO_AT + 2 * 129],
      ['results', L.RESULTS_AT, L.KEPT_SPACE_AT + 4],
      ['anchors', L.ANCHORS_AT, L.ANCHORS_AT + 16],
      ['anchor nibbles', L.ANCHOR_NIBBLES_AT, L.ANCHOR_NIBBLES_AT + 16],
      ['byte masks', L.BYTE_MASKS_AT, L.BYTE_MASKS_AT + 8 * 9],
      ['words', L.WORDS_AT, L.WORDS_AT + 8 * L.WORD_SLOTS],
      ['buckets', L.BUCKETS_AT, L.BUCKETS_AT + 2 * L.BUCKETS],
      ['map', L.MAP_AT, L.MAP_AT + 2 * 65536],
      ['lists', L.LISTS_AT, L.LISTS_AT + L.LIST_BYTES * (L.WORD_SLOTS / 2)],
    ];
    for (let i = 1; i < regions.length; i++) {
      const [before, , end] = regions[i - 1] as [string, number, number];
      const [name, start] = regions[i] as [string, number, number];
      expect(start, `${name} starts after ${before} ends`).toBeGreaterThanOrEqual(end);
    }
    for (const field of ['POSITIVE', 'PROGRAM', 'MARKERS', 'FAST_WORD', 'FAST_LENGTH', 'FAST_ID'] as const) {
      expect(L[`LISTS_${field}_AT`]).toBe(L.LISTS_AT + L[`LIST_${field}`]);
    }
    expect(L.LIST_FAST_ID + 4).toBeLessThanOrEqual(L.LIST_BYTES);
    expect(L.WORD_LIST_AT).toBe(L.WORDS_AT + 4);
    // keywords.ts hashes into the table with the same constants
    for (const word of ['ssn', 'member', 'date', 'confidential', 'x'.repeat(40)]) {
      expect(slotOf(hashWord(word))).toBeLessThan(L.WORD_SLOTS);
      expect(bucketOf(hashWord(word))).toBeLessThan(L.BUCKETS);
    }
  });

  it('the layout reaches the binary: the committed one is assembled from it, and another layout gives another', async () => {
    expect(Buffer.from(await compileWat(watSource(template))).toString('base64')).toBe(PRESCAN_WASM);
    const moved = await compileWat(watSource(template, { ...L, MAP_AT: L.MAP_AT + 16 }));
    expect(Buffer.from(moved).toString('base64')).not.toBe(PRESCAN_WASM);
  });
});

/** A user rule whose keywords start with `count` different words. */
function manyKeywords(count: number): Rule[] {
  const word = (i: number): string => `zq${String.fromCharCode(97 + (i % 26), 97 + (Math.floor(i / 26) % 26), 97 + Math.floor(i / 676))}`;
  const yaml = [
    'id: user-many-words',
    'category: ssn',
    'detector: ssn',
    'description: more first words of keywords than the WebAssembly table holds',
    'patterns:',
    '  - name: p',
    "    regex: '\\d{3}-\\d{2}-\\d{4}'",
    '    score: 0.5',
    '    requireContext: true',
    'context:',
    '  words:',
    ...Array.from({ length: count }, (_, i) => `    - ${word(i)}`),
    'examples:',
    `  match: ['${word(0)} 536-90-4399']`,
    "  noMatch: ['536-90-4399']",
    '',
  ].join('\n');
  const { rule } = parseRuleFile('user.yaml', yaml);
  const compiled = compileRules([{ file: 'user.yaml', rule: rule as NonNullable<typeof rule> }], { checkRedos: false });
  expect(compiled.errors).toEqual([]);
  return compiled.rules;
}

describe('the fallback from the WebAssembly prescan to JavaScript is a warning', () => {

  it('is none with the bundled rules, and none when JavaScript is asked for', () => {
    expect(createEngine(rules, key).warnings).toEqual([]);
    expect(createEngine(rules, key, { javascriptPrescan: true }).warnings).toEqual([]);
  });

  it('is given once, with a code and a reason and no keyword, when the rules have too many first words', () => {
    const user = manyKeywords(L.WORD_SLOTS / 2 + 10);
    const told: EngineWarning[] = [];
    const engine = createEngine([...rules, ...user], key, { onWarning: (w) => told.push(w) });
    expect(told).toHaveLength(1);
    expect(engine.warnings).toEqual(told);
    expect(told[0]).toMatchObject({ code: 'prescan-javascript', reason: 'too-many-keyword-lists' });
    expect(told[0]?.message).toMatch(/WebAssembly.*findings are the same/);
    expect(told[0]?.message).not.toMatch(/zq/);
    // and the findings are what the JavaScript prescan gives
    const segment = { location: 'body', item: 'body', format: 'text' as const, text: 'zqaaa 536-90-4399, SSN 489-36-8350' };
    expect(engine.scanAll(segment)).toEqual(createEngine([...rules, ...user], key, { javascriptPrescan: true }).scanAll(segment));
    expect(engine.scanAll(segment).length).toBeGreaterThan(0);
  });

  it('a runtime without WebAssembly is told too', () => {
    const g = globalThis as { WebAssembly?: unknown };
    const saved = g.WebAssembly;
    let warnings: readonly EngineWarning[];
    try {
      delete g.WebAssembly;
      warnings = createEngine(rules, key).warnings;
    } finally {
      g.WebAssembly = saved;
    }
    expect(warnings.map((w) => w.reason)).toEqual(['no-webassembly']);
  });
});
