/** Medical record number: facility-specific, no standard format (HL7 PID-3); found only next to its label. */
import { labelledIdDetector } from './validators.js';

export const mrnDetector = labelledIdDetector('mrn', { minLength: 5, maxLength: 15, minDigits: 4 }, 'medical record number');
