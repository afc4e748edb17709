/** Insurance member / subscriber ID: no national format; BCBS BlueCard uses a 3-character prefix and up to 17 positions. Found only next to its label. */
import type { Detector } from './types.js';
import { labelledIdDetector } from './validators.js';

const base = labelledIdDetector('member-id', { minLength: 6, maxLength: 20, minDigits: 3 }, 'member ID');

/** Test and sample IDs of clearinghouse test claims and training decks: `TEST000000`, `SAMPLE123456`, `ABC000000000`. */
const PLACEHOLDER = /^(?:TEST|SAMPLE|DEMO|DUMMY|FAKE|XXX)|^[A-Z]*0+$/;

export const memberIdDetector: Detector = {
  ...base,
  check(v, env) {
    if (PLACEHOLDER.test(v)) return { kind: 'invalid', reason: 'member ID: a test or placeholder value' };
    return base.check(v, env);
  },
};
