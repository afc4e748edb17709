/**
 * Names that come from the outside — file, folder, mailbox and archive member names, attachment
 * names, source paths — as they may be written out: every candidate identifier masked in every
 * path segment, and no terminal control characters.
 */
import { maskKeepLast } from './mask.js';

/**
 * C0 and C1 controls, DEL, and the bidirectional overrides and isolates: in a name they can
 * retitle or clear a terminal (`ESC ]0;…`, `ESC [2J`) or make a name read backwards.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * An SSN's shape where no digit is glued on: 3-2-4 with one separator used twice, or 9 digits;
 * not a size in bytes (`message is 157286400 bytes`, our own problem text).
 */
export const SSN_SHAPE = /(?<!\d)\d{3}([-./ ]?)\d{2}\1\d{4}(?!\d|-byte| bytes)/g;

/**
 * Every SSN shape masked, without rules: for text written where no engine is at hand (a usage
 * error naming a path the user gave) and, in the engine, for names and subjects whatever the
 * rules decide.
 */
export function maskSsnShapes(text: string): string {
  return text.replace(SSN_SHAPE, (m) => maskKeepLast(m));
}

/** Every control character becomes U+FFFD, so a name stays one line and says something was there. */
export function stripControls(text: string): string {
  return text.replace(CONTROLS, '\ufffd');
}

/**
 * `redact` applied to each segment of a path on its own (`/` and `\`), after control characters
 * are replaced: the rules do not take a value glued to a separator for an identifier, so
 * `export.zip/Roe SSN 512-84-3921/notes.txt` is masked only segment by segment.
 */
export function maskPath(redact: (text: string) => string): (text: string) => string {
  return (text) =>
    stripControls(text)
      .split(/([/\\])/)
      .map((part) => (part === '/' || part === '\\' ? part : redact(part)))
      .join('');
}

/**
 * A finding or error location: `subject`, `body`, or `attachment:NAME` where NAME is a path
 * through containers (`outer.zip/inner/x.pdf`); every segment of NAME is masked.
 */
export function maskLocation(redact: (text: string) => string): (location: string) => string {
  const safe = maskPath(redact);
  return (location) => (location.startsWith('attachment:') ? `attachment:${safe(location.slice('attachment:'.length))}` : stripControls(location));
}

/**
 * A source as given (`mbox:/exports/Roe SSN 512-84-3921.mbox`, `imap://user@host/Folder`): the
 * scheme stays, the rest is masked segment by segment, so its identifier-free parts still say
 * which archive it was.
 */
export function maskSource(redact: (text: string) => string): (spec: string) => string {
  const safe = maskPath(redact);
  return (spec) => {
    const m = /^([a-z][a-z0-9+.-]*:(?:\/\/)?)(.*)$/is.exec(spec);
    return m ? `${m[1] as string}${safe(m[2] as string)}` : safe(spec);
  };
}
