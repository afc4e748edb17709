/** The detector registry: explicit, one file per identifier type. */
import { dateDetector } from './date.js';
import { deaDetector } from './dea.js';
import { hicnDetector } from './hicn.js';
import { groupNumberDetector } from './group-number.js';
import { hcpcsDetector } from './hcpcs.js';
import { icd10Detector } from './icd10.js';
import { memberIdDetector } from './member-id.js';
import { mrnDetector } from './mrn.js';
import { personNameDetector } from './person-name.js';
import { personListedDetector } from './person-listed.js';
import { rxBinDetector, rxPcnDetector } from './rx-card.js';
import { termDetector } from './term.js';
import { mbiDetector } from './mbi.js';
import { npiDetector } from './npi.js';
import { rrbDetector } from './rrb.js';
import { ssnDetector } from './ssn.js';
import type { Detector } from './types.js';

const DETECTORS: readonly Detector[] = [
  ssnDetector,
  mbiDetector,
  hicnDetector,
  rrbDetector,
  dateDetector,
  memberIdDetector,
  groupNumberDetector,
  mrnDetector,
  rxBinDetector,
  rxPcnDetector,
  icd10Detector,
  hcpcsDetector,
  termDetector,
  npiDetector,
  deaDetector,
  personNameDetector,
  personListedDetector,
];

export const detectorsById: ReadonlyMap<string, Detector> = new Map(DETECTORS.map((d) => [d.id, d]));

export type { Detector, DetectorEnv } from './types.js';
