import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtrackingRisk } from '../../src/rules/safety.js';
import { createEngine, levelOf, type EngineHit, type HitSpan } from '../../src/engine/engine.js';
import { normalizeText } from '../../src/engine/normalize.js';
import { compileRules, wordSource } from '../../src/rules/compile.js';
import { BUNDLED_RULES_DIR, loadRules, parseRuleFile } from '../../src/rules/load.js';
import { maskKeepLast } from '../../src/findings/mask.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { KEY_FILE, resolveKey, resolveStateDir } from '../../src/findings/key.js';

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const key = Buffer.from('0123456789abcdef0123456789abcdef');
const engine = createEngine(rules, key);
const scanText = (text: string) => engine.scan({ location: 'body', item: 'body', format: 'text', text }).map((h) => h.finding);

describe('levels', () => {
  it.each([
    [0.9, 'high'],
    [0.85, 'high'],
    [0.4 + 0.45, 'high'],
    [0.84, 'medium'],
    [0.6, 'medium'],
    [0.59, 'low'],
    [0.3, 'low'],
    [0.29, undefined],
  ])('%f → %s', (score, level) => expect(levelOf(score)).toBe(level));
});

describe('SSN scoring explains itself', () => {
  it.each([
    ['SSN: 536-90-4399', 'high', 'dashed-or-dotted', { label: 'ssn' }],
    ['The social security number we have on file for her, after checking, is 536-90-4399', 'high', 'dashed-or-dotted', { nearKeyword: 'social security number' }],
    ['see 536-90-4399 attached', 'low', 'dashed-or-dotted', {}],
    ['SSN#536904399', 'high', 'unformatted', { label: 'ssn#' }],
    ['The SSN we have on file for her after checking with the office is 536904399', 'medium', 'unformatted', { nearKeyword: 'ssn' }],
    ['Invoice 536-90-4399 for the social security office', 'low', 'dashed-or-dotted', { nearKeyword: 'social security', negative: 'invoice' }],
  ])('%j → %s', (text, confidence, pattern, why) => {
    const [finding, ...rest] = scanText(text);
    expect(rest).toEqual([]);
    expect(finding?.confidence).toBe(confidence);
    expect(finding?.why).toMatchObject({ pattern, verdict: 'valid', ...why });
  });

  it('reports nothing for nine digits without a keyword', () => {
    expect(scanText('Reference 536904399 and 489368350')).toEqual([]);
  });

  it('one finding per value, the best of its occurrences', () => {
    const found = scanText('536-90-4399 ... later: SSN: 536-90-4399, and SSN 489-36-8350');
    expect(found.map((f) => [f.masked, f.confidence])).toEqual([
      ['•••-••-4399', 'high'],
      ['•••-••-8350', 'high'],
    ]);
  });

  it('never puts the raw value in a finding', () => {
    const found = scanText('SSN: 536-90-4399');
    expect(JSON.stringify(found)).not.toMatch(/536.?90.?4399|536904399/);
  });
});

describe('keywords', () => {
  it('match whole words, case-insensitively, with flexible spaces', () => {
    const re = new RegExp(['ssn', 'ss#', 'social security'].map(wordSource).join('|'), 'gi');
    const hits = (t: string) => [...t.matchAll(re)].map((m) => m[0]);
    expect(hits('SSN ssn# SS#12 Social-Security SOCIAL_SECURITY socialsecurity')).toEqual(['SSN', 'ssn', 'SS#', 'Social-Security', 'SOCIAL_SECURITY', 'socialsecurity']);
    expect(hits('assn classn ssnx lessons')).toEqual([]);
  });
});

describe('normalization', () => {
  it('maps Unicode dashes and spaces, removes invisible characters', () => {
    expect(normalizeText('536\u201390\u2013 4399\u00a0x\u200b1\u00ad2')).toBe('536-90- 4399 x12');
    const plain = 'plain ascii';
    expect(normalizeText(plain)).toBe(plain);
  });
});

describe('redact', () => {
  it('masks every candidate, valid or not', () => {
    // J. Doe: an initial and a Census surname, a person's name (masked whole since the name lists)
    expect(engine.redact('Re: J. Doe SSN 536-90-4399 / 000-12-3456 ok')).toBe('Re: •. ••• SSN •••-••-4399 / •••-••-3456 ok');
  });

  // Names with no label: the vendored lists (data/names/) tell them from other capitalized words.
  it.each([
    ['Referral - Rosalind Thistlewood', 'Referral - •••••••• •••••••••••'],
    ['RE: Larkspur, Edmund', 'RE: ••••••••, ••••••'],
    ['FW: Harold J. Whitcombe delivery', 'FW: •••••• •. ••••••••• delivery'],
    ['New oxygen referral - R. Hargrove', 'New oxygen referral - •. ••••••••'],
    ['Re: Budget Review for Houston Office', 'Re: Budget Review for Houston Office'],
    ['Vendor update: Northwind Home Oxygen & Mobility', 'Vendor update: Northwind Home Oxygen & Mobility'],
    ['Grant Application deadline', 'Grant Application deadline'],
  ])('masks unlabelled names: %j', (subject, masked) => {
    expect(engine.redact(subject)).toBe(masked);
  });
});

describe('masking and fingerprints', () => {
  it.each([
    ['536-90-4399', '•••-••-4399'],
    ['536904399', '•••••4399'],
    ['3K97-W25-HN61', '••••-•••-HN61'],
    ['ab', '•b'],
    ['77321', '•••21'],
    ['A512843', '••••843'],
    ['', ''],
    ['-', '-'],
    ['1', '•'],
    ['ab-', '•b-'],
    ['(536) 90-4399.', '(•••) ••-4399.'],
    // Letters and digits beyond ASCII count as letters and digits (the Unicode path).
    ['Жанна-12', '••••а-12'],
    ['№ 12 34', '№ •• 34'],
    ['１２３４５６', '•••４５６'],
  ])('%s → %s', (value, masked) => expect(maskKeepLast(value)).toBe(masked));

  it('fingerprints are keyed, stable and 16 hex digits', () => {
    const a = fingerprint(key, 'ssn', '536904399');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(key, 'ssn', '536904399')).toBe(a);
    expect(fingerprint(Buffer.from('another key of enough length'), 'ssn', '536904399')).not.toBe(a);
    expect(fingerprint(key, 'ssn', '489368350')).not.toBe(a);
  });
});

describe('fingerprint key', () => {
  it('is generated once into the state folder with mode 0600 and reused', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'phi-state-')), 'nested');
    const first = await resolveKey(dir, {});
    const mode = statSync(path.join(dir, KEY_FILE)).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(first.length).toBe(32);
    expect((await resolveKey(dir, {})).equals(first)).toBe(true);
  });
  it('comes from PHI_SCAN_KEY when set, and refuses a short one', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phi-state-'));
    expect((await resolveKey(dir, { PHI_SCAN_KEY: 'a'.repeat(32) })).toString()).toBe('a'.repeat(32));
    await expect(resolveKey(dir, { PHI_SCAN_KEY: 'short' })).rejects.toThrow(/at least 16/);
  });
  it('defaults under XDG_STATE_HOME', () => {
    expect(resolveStateDir(undefined, { XDG_STATE_HOME: '/x/state' })).toBe('/x/state/phi-scan');
    expect(resolveStateDir(undefined, { PHI_SCAN_STATE: '/y/phi.db' })).toBe('/y');
    expect(resolveStateDir('/z', { PHI_SCAN_STATE: '/y' })).toBe('/z');
  });
});

describe('backtracking check', () => {
  it.each(['(a+)+$', '(\\d+-?)*x', '(?:jan|feb|mar)(?:[a-z]+ )+x'])('refuses %s', (source) => {
    expect(backtrackingRisk(new RegExp(source, 'g'))).toBeDefined();
  });
});

describe('bundled patterns', () => {
  it.each(rules.flatMap((r) => r.patterns.map((p) => [`${r.id}/${p.name}`, p.regex] as const)))('%s cannot backtrack catastrophically', (_name, regex) => {
    expect(backtrackingRisk(regex)).toBeUndefined();
  });
});

describe('context details', () => {
  it('finds keywords written glued together', () => {
    expect(scanText('SocialSecurity 536904399').map((f) => f.why.label)).toEqual(['social security']);
  });
  it('a label names the first value after it, not the next number on the line', () => {
    const found = scanText('MRN 00123456, phone 5125550100').filter((f) => f.rule === 'mrn');
    expect(found.map((f) => f.masked)).toEqual(['••••3456']);
  });
  it('corroboration never rescues a value with a negative label', () => {
    const found = scanText('Part No. 5KW7-RT4-GH21 ships Monday.\nHospital beds and oxygen concentrators ship next week.');
    expect(found.filter((f) => f.rule === 'mbi')).toEqual([]);
  });
  it('redact masks identifiers, not dates and IDs without their label', () => {
    expect(engine.redact('Re: invoice 2024-05-01 for order 88123')).toBe('Re: invoice 2024-05-01 for order 88123');
    expect(engine.redact('Re: DOB 03/14/1952, SSN 536-90-4399')).toBe('Re: DOB ••/••/1952, SSN •••-••-4399');
  });
  it('redact masks a person named by a label or title, whole (Detection 2: names in subjects)', () => {
    expect(engine.redact('Re: Thistlewood, Rosalind')).toBe('Re: •••••••••••, ••••••••');
    expect(engine.redact('Oxygen order for Mrs. Thistlewood')).toBe('Oxygen order for Mrs. •••••••••••');
    expect(engine.redact('Patient: Rosalind Thistlewood (new referral)')).toBe('Patient: •••••••• ••••••••••• (new referral)');
    expect(engine.redact('Re: Budget Review')).toBe('Re: Budget Review');
  });
  it('a keyword that labels a placeholder is no nearby keyword for a number on the next line', () => {
    const found = scanText('TEST PATIENT, DO NOT SHIP. SSN: 999-99-9999\nInterchange control # 889345567');
    expect(found.filter((f) => f.rule === 'ssn')).toEqual([]);
  });
  it('a name ties a condition to a person only nearby (PERSON_REACH)', () => {
    expect(scanText('Patient: Rosalind Thistlewood\nHer Inogen One G5 keeps alarming.').some((f) => f.category === 'health-condition')).toBe(true);
    const far = `Patient: Rosalind Thistlewood\n${'Unrelated text about the weather and the office party. '.repeat(10)}\nInogen units ship Friday.`;
    expect(scanText(far).some((f) => f.category === 'health-condition')).toBe(false);
  });
  it('a Title Case term inside an organization name is not a condition', () => {
    expect(scanText('MBI 3K97W25HN61\nNorthwind Home Oxygen & Mobility').some((f) => f.category === 'health-condition')).toBe(false);
    expect(scanText('MBI 3K97W25HN61, on home oxygen 2 L/min').some((f) => f.category === 'health-condition')).toBe(true);
  });
});

describe('linear time on adversarial input', () => {
  // The fastest of several runs, in CPU time (ms) of this process: a GC pause, or another test file
  // taking the other core (the suite runs two at once), must not look like a quadratic blow-up.
  const time = (text: string): number => {
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const t = process.cpuUsage();
      engine.scan({ location: 'body', item: 'body', format: 'text', text });
      const used = process.cpuUsage(t);
      best = Math.min(best, (used.user + used.system) / 1e3);
    }
    return best;
  };
  it.each([
    ['keywords without values', (n: number) => 'Medicare coverage note. '.repeat(n)],
    ['a roster of labelled SSNs', (n: number) => 'SSN: 536-90-4399\n'.repeat(n)],
    // (4 and 16 MB: at 1 MB the engine takes ~3 ms, too near the clock's and the other test file's noise)
    ['digits', (n: number) => '7'.repeat(n * 800)],
  ])('%s: 4x the input costs well under 16x the time', (_name, make) => {
    time(make(500)); // warm up
    const small = Math.max(time(make(5_000)), 1);
    const large = time(make(20_000));
    expect(large / small).toBeLessThan(12);
  });
});

describe('read: one reading of a segment for several questions (people: findings, then names)', () => {
  const texts = [
    'Patient Name,DOB,SSN,MBI,Member ID\n"Roe, Jane",03/14/1952,536-90-4399,1EG4TE5MK73,H123456789\n"Doe, John",11/02/1948,212-34-5678,2FH5UF6NL84,H987654321\n',
    'Eligibility check for Maria Lopez, DOB 04/02/1961, Medicare ID 1EG4-TE5-MK73. Dx: type 2 diabetes.\nCall Dr. Alan Smith at 555-201-3344.',
    'Thanks Maria Lopez for the update on the Q3 forecast; invoice 536-90-4399 is attached.',
    'Lunch on Friday? Jane Roe and John Doe are coming.',
  ];
  const isName = (rule: string): boolean => rule.startsWith('person-');
  it.each(texts.map((t, i) => [i, t]))('text %i: hits(min) is scan(min); hits(low, names) is scanAll(low) of the names wherever scan found something', (_i, text) => {
    const segment = { location: 'body', item: 'body', format: 'text' as const, text };
    const reading = engine.read(segment);
    for (const min of ['low', 'medium', 'high'] as const) expect(reading.hits(min)).toEqual(engine.scan(segment, min));
    const names = engine.scanAll(segment, 'low').filter((h) => isName(h.finding.rule));
    expect(reading.hits('low', isName)).toEqual(engine.scan(segment, 'low').length > 0 ? names : []);
    // spans: the same hits, where and of which rule only (people records read names so).
    const spanOf = (h: EngineHit): HitSpan => ({ rule: h.finding.rule, category: h.finding.category, start: h.start, end: h.end });
    for (const min of ['low', 'medium'] as const) {
      expect(reading.spans(min, isName)).toEqual(reading.hits(min, isName).map(spanOf));
      expect(reading.spans(min, () => true)).toEqual(reading.hits(min, () => true).map(spanOf));
    }
  });
  it('finds names in the roster and the eligibility block (the table above is not vacuous)', () => {
    for (const text of texts.slice(0, 2)) expect(engine.read({ location: 'body', item: 'body', format: 'text', text }).hits('low', isName).length).toBeGreaterThan(0);
  });
});

describe('a value two patterns of one rule match (the second is skipped only when it cannot do better)', () => {
  /** A rule whose two patterns match the same SSN-shaped values, with the given scores and requirements. */
  const twoPatterns = (first: [number, boolean], second: [number, boolean]) => {
    const pattern = ([score, needsContext]: [number, boolean], name: string): string[] => [
      `  - name: ${name}`,
      "    regex: '\\d{3}-\\d{2}-\\d{4}'",
      `    score: ${score}`,
      ...(needsContext ? ['    requireContext: true'] : []),
    ];
    const yaml = [
      'id: two-patterns',
      'category: ssn',
      'detector: ssn',
      'description: two patterns, one value',
      'patterns:',
      ...pattern(first, 'first'),
      ...pattern(second, 'second'),
      'context:',
      '  words: [social security]',
      '  weakWords: [ref]',
      '  weakConfirmedBy: [health]',
      '  labelWindow: 20',
      '  labelBoost: 0.3',
      '  window: 300',
      '  nearBoost: 0.2',
      'examples:',
      "  match: ['social security 536-90-4399']",
      "  noMatch: ['536-90-43991']",
    ];
    const { rule, errors } = parseRuleFile('two-patterns.yaml', yaml.join('\n'));
    expect(errors).toEqual([]);
    const compiled = compileRules([{ file: 'two-patterns.yaml', rule: rule as NonNullable<typeof rule> }], { checkRedos: false }).rules;
    const e = createEngine(compiled, key);
    return (text: string) => e.scan({ location: 'body', item: 'body', format: 'text', text }).map((h) => [h.finding.why.pattern, h.finding.score]);
  };

  it.each([
    // [first, second, text, reported]: the pattern that scores best, the first on a tie.
    ['a weaker second pattern', [0.5, false], [0.3, false], 'value 536-90-4399', [['first', 0.5]]],
    ['a stronger second pattern', [0.3, false], [0.5, false], 'value 536-90-4399', [['second', 0.5]]],
    ['an equal second pattern', [0.4, false], [0.4, false], 'value 536-90-4399', [['first', 0.4]]],
    // The first needs context: a weak label the item does not confirm drops it; the second needs none.
    ['a second pattern without the first one\'s requirement', [0.5, true], [0.3, false], 'ref 536-90-4399', [['second', 0.3]]],
    ['both needing context, a nearby keyword', [0.5, true], [0.3, true], 'social security is on file with the clinic office; 536-90-4399', [['first', 0.7]]],
  ] as const)('%s', (_name, first, second, text, reported) => {
    expect(twoPatterns([...first], [...second])(text)).toEqual(reported);
  });
});
