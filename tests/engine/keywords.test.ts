/**
 * The keyword index (engine/keywords.ts): which rule lists own a hit on a keyword. A hit on a
 * long keyword also belongs to every list holding a shorter keyword made of whole words of it;
 * the index is checked here against that definition written out pairwise (slow, obviously right).
 */
import { describe, expect, it } from 'vitest';
import { buildKeywordIndex, type KeywordKind } from '../../src/engine/keywords.js';
import { compileRules, type Rule } from '../../src/rules/compile.js';
import { BUNDLED_RULES_DIR, loadRules, parseRuleFile } from '../../src/rules/load.js';

type Owner = { rule: number; kind: KeywordKind; word: string };

/** The definition: every keyword against every list's words, in list order. */
function ownersPairwise(rules: readonly Rule[]): Map<string, Owner[]> {
  const lists: { rule: number; kind: KeywordKind; words: ReadonlySet<string> }[] = [];
  rules.forEach((r, i) => {
    if (r.context) lists.push({ rule: i, kind: 'strong', words: r.context.strong }, { rule: i, kind: 'weak', words: r.context.weak });
    if (r.negative) lists.push({ rule: i, kind: 'negative', words: r.negative.words });
    if (r.dictionary) lists.push({ rule: i, kind: 'term', words: r.dictionary.terms });
  });
  const all = new Set(lists.flatMap((l) => [...l.words]));
  const owners = new Map<string, Owner[]>();
  for (const w of all) {
    const longest = new Map<string, Owner>();
    for (const l of lists) {
      for (const v of l.words) {
        if (!(w === v || ` ${w} `.includes(` ${v} `))) continue;
        const key = `${l.rule}:${l.kind}`;
        const current = longest.get(key);
        if (!current || v.length > current.word.length) longest.set(key, { rule: l.rule, kind: l.kind, word: v });
      }
    }
    owners.set(w, [...longest.values()]);
  }
  return owners;
}

function userRule(id: string, yaml: string[]): Rule[] {
  const { rule, errors } = parseRuleFile(`${id}.yaml`, yaml.join('\n'));
  expect(errors).toEqual([]);
  return compileRules([{ file: `${id}.yaml`, rule: rule as NonNullable<typeof rule> }], { checkRedos: false }).rules;
}

describe('keyword owners', () => {
  it('are, for the bundled rules, exactly the pairwise definition (same owners, same order)', async () => {
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    const index = buildKeywordIndex(rules);
    const expected = ownersPairwise(rules);
    expect(index.owners.size).toBe(expected.size);
    for (const [word, owners] of expected) expect([word, index.owners.get(word)]).toEqual([word, owners]);
    // Not a vacuous comparison: some hit belongs to a shorter keyword's list too.
    expect([...expected].some(([word, os]) => os.some((o) => o.word !== word))).toBe(true);
  });

  it('give a long keyword to the lists of the whole-word keywords inside it, and not of mere substrings', async () => {
    const { rules: bundled } = await loadRules([BUNDLED_RULES_DIR]);
    const user = userRule('user', [
      'id: user-plan-number',
      'category: ssn',
      'detector: ssn',
      'description: keywords inside keywords',
      'patterns:',
      '  - name: number',
      "    regex: '\\d{3}-\\d{2}-\\d{4}'",
      '    score: 0.5',
      '    requireContext: true',
      'context:',
      '  words:',
      '    - plan',
      '    - 401k plan number',
      '    - lan',
      '    - zq xw',
      'negative:',
      '  words:',
      '    - xw',
      '    - zq',
      'examples:',
      "  match: ['401k plan number 536-90-4399']",
      "  noMatch: ['536-90-4399']",
      '',
    ]);
    const rules = [...bundled, ...user];
    const index = buildKeywordIndex(rules);
    const own = rules.length - 1;
    const mine = (word: string): string[] => (index.owners.get(word) ?? []).filter((o) => o.rule === own).map((o) => `${o.kind}:${o.word}`);
    // The longest of the rule's keywords inside it names the hit; `lan` is inside `plan` only as letters.
    expect(mine('401k plan number')).toEqual(['strong:401k plan number']);
    expect(mine('plan')).toEqual(['strong:plan']);
    expect(mine('lan')).toEqual(['strong:lan']);
    // Two of a list's keywords inside it, as long as each other: the list's first names the hit.
    expect(mine('zq xw')).toEqual(['strong:zq xw', 'negative:xw']);
    for (const [word, owners] of ownersPairwise(rules)) expect([word, index.owners.get(word)]).toEqual([word, owners]);
  });
});
