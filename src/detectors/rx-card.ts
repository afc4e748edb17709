/** Pharmacy card routing: RxBIN is the NCPDP processor ID (six digits; ANSI IINs are 8 since 2017); RxPCN is processor-defined. They identify a plan, not a person: insurance context. */
import { labelledIdDetector } from './validators.js';

export const rxBinDetector = labelledIdDetector('rx-bin', { minLength: 6, maxLength: 8, minDigits: 6, digitsOnly: true }, 'RxBIN');
export const rxPcnDetector = labelledIdDetector('rx-pcn', { minLength: 2, maxLength: 10, minDigits: 0 }, 'RxPCN');
