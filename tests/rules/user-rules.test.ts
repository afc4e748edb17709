/**
 * Rules users write: the generic `pattern` detector and its validators (tables of must-match and
 * must-not-match), `rules check DIR` over a folder's own examples, the scan's warning for a rule
 * whose examples fail, `rules list` roles.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mod11Valid, patternDetector } from '../../src/detectors/pattern.js';
import { detectorsById } from '../../src/detectors/index.js';
import { createEngine } from '../../src/engine/engine.js';
import { compileRules } from '../../src/rules/compile.js';
import { BUNDLED_RULES_DIR, parseRuleFile } from '../../src/rules/load.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** A user's own card-style member number: 16 digits after "Card no", Luhn-checked. */
const CARD_RULE = `id: our-card
category: insurance
detector: pattern
validate: [luhn]
description: Our health-card number (16 digits, Luhn).
patterns:
  - name: sixteen-digits
    regex: '(?<![\\w-])\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}(?![\\w-])'
    score: 0.6
    requireContext: true
context:
  words: [card no, health card]
examples:
  match: ['Health card 4539 1488 0343 6467']
  noMatch: ['Health card 4539 1488 0343 6468', 'order 4539 1488 0343 6467']
`;

/** A mod-11 number (NHS-number style: 10 digits, check digit last). */
const NHS_RULE = `id: our-nhs
category: medical-record-number
detector: pattern
validate: [mod11, not-placeholder]
description: A 10-digit number with a mod-11 check digit.
patterns:
  - name: ten-digits
    regex: '(?<![\\w-])\\d{3} ?\\d{3} ?\\d{4}(?![\\w-])'
    score: 0.5
    requireLabel: true
context:
  words: [nhs number, nhs no]
examples:
  match: ['NHS number: 943 476 5919']
  noMatch: ['NHS number: 943 476 5918']
`;

function rulesOf(...texts: string[]): ReturnType<typeof compileRules> {
  return compileRules(
    texts.map((t, i) => {
      const parsed = parseRuleFile(`rule-${i}.yaml`, t);
      if (!parsed.rule) throw new Error(parsed.errors.join('; '));
      return { file: `rule-${i}.yaml`, rule: parsed.rule };
    }),
    { checkRedos: true },
  );
}

const reported = (rules: ReturnType<typeof compileRules>['rules'], text: string): string[] =>
  createEngine(rules, Buffer.from('k'))
    .scan({ location: 'body', item: 'body', format: 'text', text }, 'medium')
    .map((h) => `${h.finding.rule} ${h.finding.masked}`);

describe('the pattern detector\'s validators', () => {
  const luhn = patternDetector(['luhn'], detectorsById);
  const mod11 = patternDetector(['mod11'], detectorsById);
  const npi = patternDetector(['npi'], detectorsById);
  const none = patternDetector([], detectorsById);
  if (typeof luhn === 'string' || typeof mod11 === 'string' || typeof npi === 'string' || typeof none === 'string') throw new Error('validators');
  const env = { today: new Date('2026-01-01') };
  const verdict = (d: typeof luhn, value: string): string => d.check(d.normalize(value), env).kind;

  it.each(['4539 1488 0343 6467', '79927398713', '4111-1111-1111-1111'])('luhn accepts %j', (v) => expect(verdict(luhn, v)).toBe('valid'));
  it.each(['4539 1488 0343 6468', '79927398710', 'ABCD', '5'])('luhn refuses %j', (v) => expect(verdict(luhn, v)).toBe('invalid'));
  it.each(['9434765919', '0306406152', '030640615X'.replace('5X', '52')])('mod11 accepts %j', (v) => expect(verdict(mod11, v)).toBe('valid'));
  it.each(['9434765918', '0306406153', 'A434765919', '943476591'])('mod11 refuses %j', (v) => expect(verdict(mod11, v)).toBe('invalid'));
  it('mod11 takes X for 10 (ISBN-10 style)', () => {
    expect(mod11Valid('080442957X')).toBe(true);
    expect(mod11Valid('0804429579')).toBe(false);
  });
  it.each(['1493876209', '1765432988'])('an existing check by name (npi) accepts %j', (v) => expect(verdict(npi, v)).toBe('valid'));
  it.each(['1493876208', '3493876209', '1234567893'])('an existing check by name (npi) refuses %j', (v) => expect(verdict(npi, v)).toBe('invalid'));
  it('without validators a match is unchecked, masked to its last 4', () => {
    expect(verdict(none, 'AB-12345')).toBe('unchecked');
    // At most half of a value's characters show (3 of 7), never more than 4.
    expect(none.mask('ab-12345', 'AB12345')).toBe('••-••345');
  });
  it('an unknown validator name is refused with the known names', () => {
    expect(patternDetector(['crc32'], detectorsById)).toMatch(/^unknown validator 'crc32' \(known: luhn, mod11, not-placeholder, ssn, .*npi/);
  });
});

describe('a rule with detector: pattern', () => {
  it('finds valid values with context and drops invalid ones', () => {
    const { rules, errors } = rulesOf(CARD_RULE, NHS_RULE);
    expect(errors).toEqual([]);
    expect(reported(rules, 'Health card 4539 1488 0343 6467')).toEqual(['our-card •••• •••• •••• 6467']);
    expect(reported(rules, 'Health card 4539 1488 0343 6468')).toEqual([]);
    expect(reported(rules, 'ticket 4539 1488 0343 6467')).toEqual([]);
    expect(reported(rules, 'NHS number: 943 476 5919')).toEqual(['our-nhs ••• ••• 5919']);
    expect(reported(rules, 'NHS number: 943 476 5918')).toEqual([]);
    expect(reported(rules, 'NHS number: 000 000 0000')).toEqual([]);
  });

  it('validate on another detector, or an unknown validator, is a load error naming the file', () => {
    const other = CARD_RULE.replace('detector: pattern', 'detector: mrn');
    expect(rulesOf(other).errors).toEqual([expect.stringMatching(/^rule-0\.yaml \(rule our-card\): validate: only a rule with detector: pattern takes validators/)]);
    expect(rulesOf(CARD_RULE.replace('[luhn]', '[luhn, crc32]')).errors).toEqual([expect.stringMatching(/^rule-0\.yaml \(rule our-card\): validate: unknown validator 'crc32'/)]);
  });
});

describe('phi-scan rules check DIR', () => {
  it('passes a folder whose examples hold, and fails (exit 1) on a match example that does not match', { timeout: 240_000 }, async () => {
    const good = tempDir();
    writeFileSync(path.join(good, 'card.yaml'), CARD_RULE);
    writeFileSync(path.join(good, 'nhs.yaml'), NHS_RULE);
    const ok = await runCli(['rules', 'check', good]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('2 rules, 5 examples: all pass\n');
    expect(ok.code).toBe(0);

    const bad = tempDir();
    // A typo in the example (6468 fails Luhn) and a noMatch that does match.
    writeFileSync(path.join(bad, 'card.yaml'), CARD_RULE.replace("match: ['Health card 4539 1488 0343 6467']", "match: ['Health card 4539 1488 0343 6468']").replace("'order 4539 1488 0343 6467'", "'card no 4111 1111 1111 1111'"));
    const r = await runCli(['rules', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual([
      `FAIL ${bad}/card.yaml (rule our-card): examples.match.0 gives no finding of the rule at medium or above: "Health card •••• •••• •••• 6468"`,
      `FAIL ${bad}/card.yaml (rule our-card): examples.noMatch.1 gives a finding of the rule at medium or above: "card no •••• •••• •••• 1111"`,
      '1 rules, 3 examples: 2 fail',
      '',
    ]);
    // The scan loads it with a warning that names the command to run.
    const mbox = path.join(tempDir(), 'x.mbox');
    writeFileSync(mbox, 'From a@b Mon Mar  4 09:15:00 2024\nSubject: hi\n\nhello\n');
    const scan = await runCli(['scan', `mbox:${mbox}`, '--rules', 'builtin', '--rules', bad, '--format', 'jsonl']);
    expect(scan.code).toBe(0);
    expect(scan.stderr).toContain(`phi-scan: warning: ${bad}/card.yaml (rule our-card): examples.match.0 gives no finding`);
    expect(scan.stderr).toContain(`(phi-scan rules check ${bad})`);
    for (const out of [r.stdout, scan.stderr]) expect(out).not.toMatch(/4539 1488|4111 1111/);
  });

  it('checks the bundled rules as "builtin"', { timeout: 60_000 }, async () => {
    const r = await runCli(['rules', 'check', 'builtin']);
    expect(r.code).toBe(0);
    // Every bundled rule file is checked, whatever their number.
    const files = readdirSync(BUNDLED_RULES_DIR).filter((f) => f.endsWith('.yaml')).length;
    expect(r.stdout).toMatch(new RegExp(`^${files} rules, \\d+ examples: all pass\\n$`));
  });
});
