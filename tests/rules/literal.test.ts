import { describe, expect, it } from 'vitest';
import { requiredLiteral } from '../../src/rules/literal.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';

describe('requiredLiteral: the literal every match contains', () => {
  it.each([
    [/PID(?<=(?:^|[\r\n])PID)(?:\|[^|\r\n]*){6}\|(?<value>\d{8})/dg, 'PID'],
    [/\*MI\*(?<value>[A-Z0-9]{5,20})/g, '*MI*'],
    [/REF\*SY\*(?<value>\d{9})(?=[~*\s]|$)/g, 'REF*SY*'],
    [/(?<![\w-])ABC(?=\d)DEF\d+/g, 'ABCDEF'], // a lookahead between literals consumes nothing
    [/^PID\|\d/gm, 'PID|'],
  ])('%s requires %j', (regex, literal) => {
    expect(requiredLiteral(regex)).toBe(literal);
  });

  it.each([
    [/(?<![\w\-/])\d{3}-\d{2}-\d{4}/g], // no literal of two characters
    [/(?:PID|MSH)\|\d/g], // an alternative: neither literal is required
    [/(?:PID)?\d{4}/g], // optional
    [/pid\|\d/gi], // ignores case: `includes` would miss `Pid|`
    [/a\d/g], // one character is no useful filter
  ])('%s requires nothing', (regex) => {
    expect(requiredLiteral(regex)).toBeUndefined();
  });

  it('every bundled pattern that names a literal finds it in each of its matching examples', async () => {
    const { rules } = await loadRules([BUNDLED_RULES_DIR]);
    let checked = 0;
    for (const rule of rules) {
      for (const pattern of rule.patterns) {
        if (!pattern.literal) continue;
        for (const example of rule.examples.match) {
          pattern.regex.lastIndex = 0;
          if (pattern.regex.test(example)) {
            expect(example.includes(pattern.literal), `${rule.id}/${pattern.name}`).toBe(true);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
