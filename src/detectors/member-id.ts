/** Insurance member / subscriber ID: no national format; BCBS BlueCard uses a 3-character prefix and up to 17 positions. Found only next to its label. */
import { labelledIdDetector } from './validators.js';

export const memberIdDetector = labelledIdDetector('member-id', { minLength: 6, maxLength: 20, minDigits: 3 }, 'member ID');
