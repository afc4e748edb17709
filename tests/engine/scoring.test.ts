/**
 * The engine's scoring as tables: pure functions of a candidate's context and what the other
 * rules of the same item found (src/engine/scoring.ts). No text, no rules files.
 */
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/rules/schema.js';
import { itemSignals, levelOf, minScoreOf, preScore, scoreInItem, type Scorable, type ScoringRule } from '../../src/engine/scoring.js';

const ssnLike: ScoringRule = {
  role: 'identifier',
  signals: new Set<Signal>(['identifier']),
  context: { labelBoost: 0.5, nearBoost: 0.45, weakConfirmedBy: ['identifier'] },
  negative: { penalty: 0.3 },
  corroboration: { identifier: 0.2, health: 0, insurance: 0, requires: [] },
};
const conditionLike: ScoringRule = {
  role: 'health',
  signals: new Set<Signal>(['health']),
  context: { labelBoost: 0.3, nearBoost: 0.2, weakConfirmedBy: ['identifier'] },
  corroboration: { identifier: 0.3, health: 0, insurance: 0, requires: ['person'] },
};
const nameLike: ScoringRule = { role: 'context', signals: new Set<Signal>(['person']) };
const dobLike: ScoringRule = { role: 'identifier', signals: new Set<Signal>(['identifier']), context: { labelBoost: 0.45, nearBoost: 0.2, weakConfirmedBy: ['identifier'] } };

function cand(rule: ScoringRule, ruleIndex: number, extra: Partial<Scorable> = {}): Scorable {
  return { rule, ruleIndex, baseScore: 0.4, start: 1000, requirement: 'none', ...extra };
}

describe('levelOf', () => {
  it.each([
    [1, 'high'],
    [0.85, 'high'],
    [0.4 + 0.45, 'high'], // floating point: 0.8500000000000001 or 0.8499999999999999 count alike
    [0.849, 'medium'],
    [0.6, 'medium'],
    [0.5999, 'low'],
    [0.3, 'low'],
    [0.2999, undefined],
    [0, undefined],
  ])('%f → %s', (score, level) => expect(levelOf(score)).toBe(level));

  it.each([
    ['high', 0.85],
    ['medium', 0.6],
    ['low', 0.3],
  ] as const)('minimum of %s is %f', (level, min) => expect(minScoreOf(level)).toBe(min));
});

describe('preScore: labels, nearby words, negative labels', () => {
  it.each([
    ['no context', {}, 0.4],
    ['strong label adds labelBoost', { label: { word: 'ssn', weak: false } }, 0.9],
    ['weak label does not count yet', { label: { word: 'born', weak: true } }, 0.4],
    ['nearby keyword adds nearBoost', { near: 'ssn' }, 0.85],
    ['negative label subtracts the penalty', { negative: 'invoice' }, 0.1],
    ['label and negative', { label: { word: 'ssn', weak: false }, negative: 'fax' }, 0.6],
  ] as const)('%s', (_why, extra, expected) => expect(preScore(cand(ssnLike, 0, extra))).toBeCloseTo(expected, 9));

  it('a rule without context words gets no boost from a label', () => {
    expect(preScore(cand(nameLike, 0, { label: { word: 'patient', weak: false } }))).toBe(0.4);
  });
});

describe('itemSignals: what corroborates', () => {
  it('an identifier signals only from medium up, context from low up', () => {
    const weakSsn = cand(ssnLike, 0); // 0.4 < medium: no identifier signal
    const name = cand(nameLike, 1, { start: 10 });
    const s = itemSignals([weakSsn, name]);
    expect([...s.othersOf(1)]).toEqual([]);
    expect([...s.othersOf(0)]).toEqual(['person']);
    expect(s.personAt).toEqual([10]);
  });

  it('a rule is never corroborated by itself', () => {
    const a = cand(ssnLike, 0, { label: { word: 'ssn', weak: false } });
    const b = cand(ssnLike, 0, { label: { word: 'ssn', weak: false }, start: 2000 });
    expect([...itemSignals([a, b]).othersOf(0)]).toEqual([]);
  });
});

describe('scoreInItem: corroboration and weak labels', () => {
  const labelledSsn = cand(ssnLike, 2, { label: { word: 'ssn', weak: false } });
  it.each([
    // [why, candidate, others in the item, score or undefined (dropped), label kept, corroborated by]
    ['identifier boost from another identifier', cand(ssnLike, 0), [cand(dobLike, 1, { label: { word: 'dob', weak: false } })], 0.6, undefined, ['identifier']],
    ['no boost without another identifier', cand(ssnLike, 0), [], 0.4, undefined, []],
    ['no boost from a negative-labelled value', cand(ssnLike, 0, { negative: 'order' }), [cand(dobLike, 1, { label: { word: 'dob', weak: false } })], 0.1, undefined, []],
    ['a score never exceeds 1', cand(ssnLike, 0, { label: { word: 'ssn', weak: false } }), [cand(dobLike, 1, { label: { word: 'dob', weak: false } })], 1, 'ssn', ['identifier']],
    ['weak label confirmed by another identifier', cand(dobLike, 0, { label: { word: 'born', weak: true } }), [labelledSsn], 0.85, 'born', []],
    ['weak label not confirmed: dropped when it was needed', cand(dobLike, 0, { label: { word: 'born', weak: true }, requirement: 'label' }), [], undefined, undefined, []],
    ['weak label not confirmed: a pattern that needs nothing stays', cand(dobLike, 0, { label: { word: 'born', weak: true } }), [], 0.4, undefined, []],
    ['required person within reach', cand(conditionLike, 0, { start: 1000 }), [cand(nameLike, 1, { start: 1250 })], 0.4, undefined, []],
    ['required person out of reach', cand(conditionLike, 0, { start: 1000 }), [cand(nameLike, 1, { start: 1251 })], undefined, undefined, []],
    ['required person missing', cand(conditionLike, 0), [labelledSsn], undefined, undefined, []],
  ] as const)('%s', (_why, c, others, score, label, corroboratedBy) => {
    const result = scoreInItem(c, itemSignals([c, ...others]));
    if (score === undefined) {
      expect(result).toBeUndefined();
      return;
    }
    expect(result?.score).toBeCloseTo(score, 9);
    expect(result?.label?.word).toBe(label);
    expect(result?.corroboratedBy).toEqual(corroboratedBy);
  });
});
