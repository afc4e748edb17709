import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_RULES_DIR, loadRules, parseRuleFile } from '../../src/rules/load.js';

const ruleWith = (words: string): string => `id: t
category: ssn
detector: ssn
patterns:
  - name: p
    regex: '\\d{3}-\\d{2}-\\d{4}'
    score: 0.5
    requireContext: true
context:
  words:
${words}
`;

describe('a # in a keyword list that YAML reads as a comment', () => {
  it.each([
    ['    - group #', "'group #'"],
    ['    - medicare #:', "'medicare #:'"],
    ['    - member  #  ', "'member #'"],
  ])('%j warns and says how to write it', (line, suggestion) => {
    // Warned whether or not the rest of the file is valid (this one lacks a description and examples).
    const { warnings } = parseRuleFile('t.yaml', ruleWith(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('t.yaml:');
    expect(warnings[0]).toContain(suggestion);
  });

  it.each([
    ["    - 'group #'"], // quoted: the # is part of the keyword
    ['    - group#'], // no space before #: YAML keeps it
    ['    - dob # date of birth, as clinics abbreviate it'], // a real comment
    ['    - ssn'],
  ])('%j does not warn', (line) => {
    expect(parseRuleFile('t.yaml', ruleWith(line)).warnings).toEqual([]);
  });

  it('the bundled rules load without a warning', async () => {
    const { warnings } = await loadRules([BUNDLED_RULES_DIR]);
    expect(warnings).toEqual([]);
  });
});

describe('the backtracking check at load', () => {
  it('applies to a user folder loaded beside the bundled rules (the bundled ones are checked by engine.test.ts)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phi-rules-'));
    writeFileSync(path.join(dir, 'slow.yaml'), 'id: slow\ncategory: ssn\ndetector: ssn\ndescription: x\npatterns:\n  - name: p\n    regex: "(\\\\d+)+x"\n    score: 0.5\nexamples:\n  match: [a]\n  noMatch: [b]\n');
    await expect(loadRules([BUNDLED_RULES_DIR, dir])).rejects.toThrow(`${dir}/slow.yaml (rule slow): patterns.0.regex: may backtrack catastrophically`);
    await expect(loadRules([dir, BUNDLED_RULES_DIR])).rejects.toThrow(/slow\.yaml \(rule slow\): patterns\.0\.regex: may backtrack/);
  });
});
