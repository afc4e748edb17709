/**
 * HCPCS Level II codes (CMS): one letter and four digits; A–V cover supplies, durable medical
 * equipment (E0100–E8002, K codes) and non-physician services.
 */
import { maskKeepLast } from '../findings/mask.js';
import type { Detector } from './types.js';

/** Letters HCPCS Level II uses (no D: dental is CDT; no I, N, O, W, X, Y, Z). */
const HCPCS = /^[ABCEGHJKLMPQRSTUV]\d{4}$/;

export const hcpcsDetector: Detector = {
  id: 'hcpcs',
  normalize: (m) => m.toUpperCase(),
  check: (v) => (HCPCS.test(v) ? { kind: 'valid' } : { kind: 'invalid', reason: 'not a HCPCS Level II code' }),
  mask: (m) => maskKeepLast(m.toUpperCase()),
};
