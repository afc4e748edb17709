/** Insurance group number: free-form, found only next to its label. */
import { labelledIdDetector } from './validators.js';

export const groupNumberDetector = labelledIdDetector('group-number', { minLength: 3, maxLength: 15, minDigits: 2 }, 'group number');
