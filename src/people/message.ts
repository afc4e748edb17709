/**
 * People in one message, while it is scanned (pipeline/scan-message.ts): the engine's hits of
 * each segment become records (records.ts); with a roster (edm/), findings that match it are
 * high confidence and name its line, bare nine-digit numbers that are a roster SSN are found,
 * and records that match a roster row carry the row.
 */
import type { Confidence, Finding } from '../model/finding.js';
import { confidenceRank } from '../model/finding.js';
import type { Segment } from '../model/segment.js';
import type { EngineHit, Reading } from '../engine/engine.js';
import { normalizeText } from '../engine/normalize.js';
import { checkSsn } from '../detectors/ssn.js';
import { maskKeepLast } from '../findings/mask.js';
import { edmFor, type Edm, type EdmKind } from '../edm/edm.js';
import { identityOf } from './facts.js';
import { messageRecords, segmentRecords, ssnKey, type PersonRecord, type SegmentItems } from './records.js';

export interface PeopleOptions {
  /** The fingerprint key (record keys are keyed fingerprints). */
  readonly key: Uint8Array;
  /** An EDM file (`scan --edm`), built with the same key. */
  readonly edm?: string;
  /** A roster loaded already (a queue worker's, checked against the coordinator's digest); wins over `edm`. */
  readonly roster?: Edm;
  /** "Now" for birth dates written with two-digit years (the engine's). */
  readonly today?: Date;
}

/** The rule of an unlabelled SSN-shaped number found because it is a roster SSN: only a roster finds it. */
export const ROSTER_SSN_RULE = 'edm-ssn';

/** An SSN-shaped number anywhere (3-2-4 with one separator kind, or nine digits). */
const BARE_SSN = /(?<![\w.\-/])\d{3}([- ]?)\d{2}\1\d{4}(?![\w\-/]|\.\d)/g;

/** The rules that find names of persons (context only: they never report on their own). */
const isNameRule = (ruleId: string): boolean => ruleId.startsWith('person-');

/** The roster kind a finding's fingerprint is looked up in, if any. */
function kindOf(f: Finding): EdmKind | undefined {
  if (identityOf(f.rule, f.category) !== 'direct') return undefined;
  if (f.category === 'ssn') return 's';
  if (f.category === 'medicare-id') return f.rule === 'mbi' ? 'm' : undefined;
  return 'i';
}

export interface MessagePeople {
  /**
   * The segment's reported hits at `min`, after the roster (raised, added, or dropped below
   * `min`), from the engine's reading of it (`engine.read(segment)`, read once for the findings
   * and the names).
   */
  segment(segment: Segment, reading: Reading, min: Confidence): EngineHit[];
  /** The message's records (keys only). */
  finish(): PersonRecord[];
}

export function messagePeople(options: PeopleOptions): MessagePeople {
  const key = Buffer.from(options.key);
  const today = options.today ?? new Date();
  const edm: Edm | undefined = options.roster ?? (options.edm !== undefined ? edmFor(options.edm, key) : undefined);
  const segments: SegmentItems[] = [];
  return {
    segment(segment, reading, min) {
      // With a roster, everything down to `low`: a roster match can raise a finding.
      const hits = reading.hits(edm ? 'low' : min);
      const text = normalizeText(segment.text);
      let out: EngineHit[] = [...hits];
      if (edm) {
        out = out.flatMap((h) => {
          const kind = kindOf(h.finding);
          // A HICN or RRB number matches by the SSN inside it.
          const digits = h.finding.category === 'medicare-id' && h.finding.rule !== 'mbi' ? text.slice(h.start, h.end).replace(/\D/g, '') : '';
          const row = kind ? edm.lookup(kind, h.finding.fingerprint) : digits.length === 9 ? edm.lookup('s', ssnKey(key, digits)) : undefined;
          if (row !== undefined) return [{ ...h, finding: { ...h.finding, confidence: 'high', rosterRow: row } }];
          return confidenceRank(h.finding.confidence) >= confidenceRank(min) ? [h] : [];
        });
        out.push(...bareRosterSsns(text, hits, segment, edm, key));
        out.sort((a, b) => a.start - b.start);
      }
      const identifying = out.filter((h) => identityOf(h.finding.rule, h.finding.category) !== 'context');
      if (identifying.length > 0) {
        // Names (from the same reading) only where they can change the records: with a birth date
        // (the name + DOB key) or with two identifiers or more (a name starts another person's record).
        const needNames = identifying.length > 1 || identifying.some((h) => h.finding.category === 'date-of-birth');
        const names = needNames ? reading.spans('low', isNameRule) : [];
        const found = out.map((h) => ({ rule: h.finding.rule, category: h.finding.category, fingerprint: h.finding.fingerprint, start: h.start, end: h.end }));
        segments.push(segmentRecords(text, found, names, key, today));
      }
      return out;
    },
    finish() {
      const records = messageRecords(segments, key);
      if (!edm) return records;
      return records.map((r) => {
        const rows = new Set<number>();
        for (const k of r.keys) {
          const kind = k[0] as EdmKind;
          if (kind === 's' || kind === 'm' || kind === 'i' || kind === 'n') {
            const row = edm.lookup(kind, k.slice(2));
            if (row !== undefined) rows.add(row);
          }
        }
        return rows.size === 0 ? r : { keys: [...r.keys, ...[...rows].map((row) => `e:${row}`)].sort() };
      });
    },
  };
}

/** Unlabelled SSN-shaped numbers that are a roster SSN: a finding at high confidence naming the row. */
function bareRosterSsns(text: string, hits: readonly EngineHit[], segment: Segment, edm: Edm, key: Buffer): EngineHit[] {
  if (edm.header.counts.s === 0) return [];
  const out: EngineHit[] = [];
  for (const m of text.matchAll(BARE_SSN)) {
    const start = m.index;
    const end = start + m[0].length;
    if (hits.some((h) => h.start < end && start < h.end)) continue; // a finding already
    const digits = m[0].replace(/\D/g, '');
    if (checkSsn(digits).kind === 'invalid') continue;
    const fp = ssnKey(key, digits);
    const row = edm.lookup('s', fp);
    if (row === undefined) continue;
    const finding: Finding = {
      rule: ROSTER_SSN_RULE,
      category: 'ssn',
      confidence: 'high',
      score: 1,
      location: segment.location,
      ...(segment.part !== undefined ? { part: segment.part } : {}),
      masked: maskKeepLast(m[0]),
      fingerprint: fp,
      why: { pattern: 'roster', verdict: 'valid', baseScore: 1, score: 1, label: 'roster' },
      rosterRow: row,
    };
    out.push({ finding, start, end, role: 'identifier' });
  }
  return out;
}
