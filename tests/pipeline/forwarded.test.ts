/**
 * Forwarded messages (`message/rfc822` attachments): the rules hold inside them as in the message
 * itself — a condition tied to a person by name only, a DOB, an insurance ID — and a condition of
 * nobody stays unreported there too.
 */
import { describe, expect, it } from 'vitest';
import { FORWARDED_INNER, FORWARDED_NAME_ONLY, FORWARDED_NOBODY, forwardOf } from '../../fixtures/person-names.js';
import { createEngine } from '../../src/engine/engine.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';
import { scanMessage } from '../../src/pipeline/scan-message.js';

const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const engine = createEngine(rules, Buffer.from('a test key of enough length'));

async function findings(raw: string): Promise<{ location: string; rule: string; fingerprint: string }[]> {
  const bytes = Buffer.from(raw, 'utf8');
  const outcome = await scanMessage({ bytes, size: bytes.length }, engine, { minConfidence: 'medium', maxNestingDepth: 8 });
  return outcome.findings.map((f) => ({ location: f.location, rule: f.rule, fingerprint: f.fingerprint }));
}

describe('forwarded message/rfc822 attachments', () => {
  it.each([
    ['a name-only condition, a DOB and an insurance ID', FORWARDED_INNER, ['date-of-birth', 'health-term', 'member-id']],
    ['a condition tied to a person by name only', FORWARDED_NAME_ONLY, ['health-term']],
    ['a condition of nobody', FORWARDED_NOBODY, []],
  ])('%s: the same findings inside the forward as in the message itself', async (_what, inner, rulesFound) => {
    const alone = await findings(inner);
    const forwarded = await findings(forwardOf(inner, 9));
    expect(alone.map((f) => f.rule).sort()).toEqual(rulesFound);
    // same rules and values (keyed fingerprints), now located in the forwarded attachment
    expect(forwarded.map((f) => [f.rule, f.fingerprint]).sort()).toEqual(alone.map((f) => [f.rule, f.fingerprint]).sort());
    for (const f of forwarded) expect(f.location).toBe('attachment:forwarded.eml');
  });
});
