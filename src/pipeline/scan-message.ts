/**
 * One message, start to end: parse → segments → engine → findings merged per location.
 * Self-contained (bytes in, plain data out) so it can later run in a worker thread or a queue job.
 */
import type { Confidence, Finding } from '../model/finding.js';
import type { RawMessage } from '../model/message.js';
import type { MessageOutcome } from '../model/records.js';
import type { Engine } from '../engine/engine.js';
import type { ExtractLimits } from '../extract/context.js';
import type { ParsedMessage } from '../parse/mime.js';
import { headerFields, isoDate, syntheticMessageId } from '../parse/header-values.js';
import { maskLocation, maskPath } from '../findings/names.js';
import { messagePeople, type PeopleOptions } from '../people/message.js';

export type { MessageOutcome } from '../model/records.js';

export interface MessageScanOptions {
  readonly minConfidence: Confidence;
  readonly maxNestingDepth: number;
  readonly limits?: Partial<ExtractLimits>;
  /** Records of people (breach sizing in people) and the roster match; needs the fingerprint key. */
  readonly people?: PeopleOptions;
}

/** What scanning needs of a RawMessage: all a worker thread receives. */
export type MessageInput = Pick<RawMessage, 'bytes' | 'size' | 'oversize' | 'unreadable'>;

export async function scanMessage(raw: MessageInput, engine: Engine, options: MessageScanOptions): Promise<MessageOutcome> {
  if (raw.unreadable) {
    const fields = headerFields(raw.bytes);
    return { messageId: fields.messageId ?? syntheticMessageId(raw.bytes), date: isoDate(fields.date), maskedSubject: null, findings: [], problems: [raw.unreadable] };
  }
  if (raw.oversize) {
    const fields = headerFields(raw.bytes);
    return {
      messageId: fields.messageId ?? syntheticMessageId(raw.oversize.sha256),
      date: isoDate(fields.date),
      maskedSubject: null,
      findings: [],
      problems: [
        {
          code: 'oversize',
          message: `message is ${raw.size} bytes, over the ${raw.oversize.limit}-byte limit (--max-message-size); not scanned`,
        },
      ],
    };
  }
  const { parseMessage } = await mime();
  return scanParsed(await parseMessage(raw.bytes, options), engine, options);
}

let loading: Promise<typeof import('../parse/mime.js')> | undefined;
/**
 * mailparser and the attachment readers, loaded with the first message parsed on this thread
 * (~0.3 s): the main thread of the 2-core default, whose thread parses, never loads them, and
 * starts that thread sooner.
 */
const mime = (): Promise<typeof import('../parse/mime.js')> => (loading ??= import('../parse/mime.js'));

/** Ends what parsing started on this thread (the OCR engine a picture needed): nothing when nothing was parsed here. */
export async function closeParsing(): Promise<void> {
  if (loading) await (await import('../extract/ocr.js')).closeOcr();
}

/**
 * The rules over a parsed message: findings merged per location, names and problems masked.
 * `parsed` may come from another thread (pool.ts `parse`): plain data, raw text inside the process.
 */
export function scanParsed(parsed: ParsedMessage, engine: Engine, options: MessageScanOptions): MessageOutcome {
  const merged = new Map<string, Finding>();
  // Attachment names come from senders and may hold identifiers ("J Roe DOB 03-14-1952.csv"):
  // locations are written out only with every candidate masked.
  // Every segment of a path through containers (`export.zip/Roe SSN …/notes.txt`) on its own.
  const safeLocations = new Map<string, string>();
  const maskedLocation = maskLocation(engine.redact);
  const safeName = maskPath(engine.redact);
  const safeLocation = (location: string): string => {
    let safe = safeLocations.get(location);
    if (safe === undefined) {
      safe = maskedLocation(location);
      safeLocations.set(location, safe);
    }
    return safe;
  };
  const people = options.people ? messagePeople(options.people) : undefined;
  for (const segment of parsed.segments) {
    // a part names a sheet or a page; sheet names come from senders, like file names
    const safe = { ...segment, location: safeLocation(segment.location), ...(segment.part !== undefined ? { part: safeName(segment.part) } : {}) };
    const hits = people ? people.segment(safe, engine.read(safe), options.minConfidence) : engine.scan(safe, options.minConfidence);
    for (const { finding } of hits) {
      // One finding per distinct identifier per location: the text and HTML bodies of one
      // message, or a subject repeated in a body, are the same location or value.
      const key = `${finding.location}\0${finding.rule}\0${finding.fingerprint}`;
      const previous = merged.get(key);
      if (!previous || previous.score < finding.score) merged.set(key, finding);
    }
  }
  return {
    messageId: parsed.messageId,
    date: parsed.date,
    maskedSubject: parsed.subject === undefined ? null : engine.redact(parsed.subject),
    findings: [...merged.values()],
    // Problem text is built from fixed words and declared names (a Content-Type, a member name):
    // masked like a name before it leaves, whatever the reader that wrote it.
    problems: parsed.problems.map((p) => ({ ...p, message: safeName(p.message), ...(p.location !== undefined ? { location: safeLocation(p.location) } : {}) })),
    ...(people ? { people: people.finish() } : {}),
  };
}
