/** Every rule file's own examples: each `match` gives a finding of that rule at medium or above, no `noMatch` does. */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';
import { confidenceRank } from '../../src/model/finding.js';

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const engine = createEngine(rules, Buffer.from('test-key'));

function reportedRules(text: string): string[] {
  // scanAll: context-only rules (NPI, DEA, payers) are judged by the signals they give.
  return engine
    .scanAll({ location: 'body', item: 'body', format: 'text', text })
    .filter((h) => confidenceRank(h.finding.confidence) >= confidenceRank('medium'))
    .map((h) => h.finding.rule);
}

describe.each(rules.map((r) => [r.id, r] as const))('rule %s', (id, rule) => {
  it('has at least one example each way', () => {
    expect(rule.examples.match.length).toBeGreaterThan(0);
    expect(rule.examples.noMatch.length).toBeGreaterThan(0);
  });
  it.each(rule.examples.match)('matches %j', (text) => {
    expect(reportedRules(text)).toContain(id);
  });
  it.each(rule.examples.noMatch)('does not match %j', (text) => {
    expect(reportedRules(text)).not.toContain(id);
  });
});
