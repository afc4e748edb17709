/** The detector registry: explicit, one file per identifier type. */
import { ssnDetector } from './ssn.js';
import type { Detector } from './types.js';

const DETECTORS: readonly Detector[] = [ssnDetector];

export const detectorsById: ReadonlyMap<string, Detector> = new Map(DETECTORS.map((d) => [d.id, d]));

export type { Detector } from './types.js';
