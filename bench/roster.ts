/**
 * The rule engine on candidate-dense text (rosters: every row a name, a date of birth, an SSN,
 * an MBI and a member ID, bench/roster-text.ts) and, in the same process, on the text of the
 * Enron sample (business mail), so the two figures come from one run.
 *
 *   npx tsx bench/roster.ts [ENRON_MBOX]        prints the figures (JSON) in this process
 *   rosterRows(log)                             bench/run.ts: the same in a measured child, as table rows
 *
 * Each input: one untimed pass, then timed passes (up to 5, or 8 s) and the median, in CPU time
 * of the process (the same as wall time on a quiet machine; on a shared one, the engine's own).
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../src/engine/engine.js';
import type { Segment } from '../src/model/segment.js';
import { parseMessage } from '../src/parse/mime.js';
import { BUNDLED_RULES_DIR, loadRules } from '../src/rules/load.js';
import { splitMbox } from '../src/sources/mbox-split.js';
import { cpuSeconds, num, row, type Row } from './report.js';
import { ROSTER_LAYOUTS, RosterGenerator } from './roster-text.js';

export const ROSTER_TARGET_MBPS = 20;
export const BUSINESS_TARGET_MBPS = 150;
/** One roster attachment: about 5,000 rows. */
const ROSTER_SEGMENT_CHARS = 500_000;
const ROSTER_SEGMENTS_PER_LAYOUT = 3;
const MB = 1e6;

export interface RosterFigures {
  readonly kind: 'roster';
  /** MB/s per layout, and over all of them. */
  readonly layouts: Record<string, number>;
  readonly roster: number;
  readonly rosterBytes: number;
  readonly rosterHits: number;
  readonly enron?: number;
  readonly enronBytes?: number;
}

function bytesOf(segments: readonly Segment[]): number {
  return segments.reduce((n, s) => n + Buffer.byteLength(s.text, 'utf8'), 0);
}

/** Median CPU seconds of one pass of `e.scan` over `segments`, and the hits of a pass. */
function timePasses(e: Engine, segments: readonly Segment[]): { seconds: number; hits: number } {
  const pass = (): number => segments.reduce((n, s) => n + e.scan(s).length, 0);
  const hits = pass(); // warm-up
  const times: number[] = [];
  while (times.length < 5 && (times.length === 0 || times.reduce((a, b) => a + b, 0) < 8)) {
    const t0 = cpuSeconds();
    pass();
    times.push(cpuSeconds() - t0);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)] as number, hits };
}

export function rosterSegments(seed = 17): Map<string, Segment[]> {
  const gen = new RosterGenerator(seed);
  const out = new Map<string, Segment[]>();
  for (const layout of ROSTER_LAYOUTS) {
    const format = layout === 'csv' ? 'csv' : layout === 'tsv' ? 'tsv' : 'text';
    out.set(
      layout,
      Array.from({ length: ROSTER_SEGMENTS_PER_LAYOUT }, (_, i) => ({
        location: `attachment:roster-${i}.${layout === 'labelled' ? 'txt' : layout}`,
        item: `attachment:roster-${i}`,
        format,
        text: gen.text(ROSTER_SEGMENT_CHARS, layout),
      })),
    );
  }
  return out;
}

async function mboxSegments(file: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  for await (const m of splitMbox(createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, { maxMessageBytes: 50 * 1024 * 1024 })) {
    segments.push(...(await parseMessage(m.bytes, { maxNestingDepth: 5 })).segments);
  }
  return segments;
}

export async function measureRoster(enronFile: string | undefined): Promise<RosterFigures> {
  const { rules } = await loadRules([BUNDLED_RULES_DIR]);
  const e = createEngine(rules, Buffer.from('phi-scan bench key, not a secret'));
  const layouts: Record<string, number> = {};
  const all: Segment[] = [];
  for (const [layout, segments] of rosterSegments()) {
    all.push(...segments);
    layouts[layout] = bytesOf(segments) / MB / timePasses(e, segments).seconds;
  }
  const total = timePasses(e, all);
  const rosterBytes = bytesOf(all);
  const figures: RosterFigures = { kind: 'roster', layouts, roster: rosterBytes / MB / total.seconds, rosterBytes, rosterHits: total.hits };
  if (!enronFile || !existsSync(enronFile)) return figures;
  const enron = await mboxSegments(enronFile);
  const enronBytes = bytesOf(enron);
  return { ...figures, enron: enronBytes / MB / timePasses(e, enron).seconds, enronBytes };
}

/** bench/run.ts: the figures from a measured child process, as rows of the table. */
export async function rosterRows(enronFile: string, log: (line: string) => void): Promise<Row[]> {
  const { built, runMeasured } = await import('./runtime.js');
  log('rule engine: candidate-dense rosters and Enron text, same process');
  const run = await runMeasured(built('bench/roster.ts'), [enronFile]);
  const line = run.stdout.trim().split('\n').pop();
  if (run.exitCode !== 0 || !line) throw new Error(`roster bench: exit ${String(run.exitCode)}\n${run.stderr.trim().split('\n').slice(-10).join('\n')}`);
  const f = JSON.parse(line) as RosterFigures;
  log(`rule engine on rosters: ${num(f.roster, 1)} MB/s; on Enron text in the same run: ${num(f.enron, 1)} MB/s`);
  const rows = [
    row(
      'rule engine: rosters (candidate-dense)',
      `${num(f.roster, 1)} MB/s over ${num(f.rosterBytes / MB, 1)} MB (${Object.entries(f.layouts).map(([k, v]) => `${k} ${num(v, 1)}`).join(', ')}), ${f.rosterHits} findings`,
      `≥ ${ROSTER_TARGET_MBPS} MB/s`,
      f.roster >= ROSTER_TARGET_MBPS,
    ),
  ];
  if (f.enron !== undefined) rows.push(row('rule engine: Enron text, same run as the rosters', `${num(f.enron, 1)} MB/s`, `≥ ${BUSINESS_TARGET_MBPS} MB/s`, f.enron >= BUSINESS_TARGET_MBPS));
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await measureRoster(process.argv[2]))}\n`);
}
