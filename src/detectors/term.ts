/** A dictionary term (a condition, equipment, a medication, a payer): valid by being listed in a rule. */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';

export const termDetector: Detector = {
  id: 'term',
  normalize: (m) => m.toLowerCase().replace(/[\s_-]+/g, ' '),
  check: () => ({ kind: 'valid' }),
  mask: (m) => maskKeepLast(m),
};
