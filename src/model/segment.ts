/** A piece of human-visible text from a message, with where it came from. */
export interface Segment {
  /** `subject`, `body`, or `attachment:NAME` (nested: `attachment:outer.eml/inner.txt`). */
  readonly location: string;
  /** Separate items never corroborate each other (Purview treats body and each attachment apart). */
  readonly item: string;
  readonly format: 'subject' | 'text' | 'html' | 'csv' | 'tsv' | 'json' | 'xml' | 'calendar' | 'vcard';
  readonly text: string;
  /** Where inside the attachment, for the json detail: `page 3`, `sheet Patients`, `slide 2`. */
  readonly part?: string;
}
