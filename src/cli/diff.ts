/**
 * `phi-scan diff RUN_A RUN_B`: per mailbox, the messages holding PHI as of B but not as of A
 * (new) and the other way round (resolved), each with its masked subject and where in the
 * message the PHI is. Exit 1 when B has new PHI, so the command can gate a pipeline.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { resolveStateDir } from '../findings/key.js';
import { DEFAULT_IGNORE_FILE, loadSuppressions } from '../findings/suppress.js';
import { ScanError } from '../common/errors.js';
import { textOutput } from '../sinks/output.js';
import { diffRuns, latestRunId, suppressedInScope } from '../report/picture.js';
import { applySuppressions } from '../state/suppress.js';
import { openStateDb, stateDbPath, type StateDb } from '../state/store.js';
import { EXIT, positiveInt, quietOnClosedStdout } from './common.js';

interface Detail {
  /** The subject with every identifier candidate masked; null when the message has none. */
  readonly maskedSubject: string | null;
  /** Where in the message the PHI was (`body`, `subject`, `attachment:scan.pdf`), as of the run. */
  readonly locations: string[];
}

const MessageRow = z.object({ id: z.number().int(), masked_subject: z.string().nullable() });
const LocationRow = z.object({ location: z.string() });

/** The masked subject and the finding locations of a message, as of its latest scan up to `run`. */
function detailLookup(db: StateDb): (source: string, mailbox: string, folder: string, messageId: string, run: number) => Detail {
  const message = db.prepare(
    `SELECT m.id, m.masked_subject FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN sources s ON s.id = mb.source_id
     WHERE s.spec = ? AND mb.name = ? AND m.folder = ? AND m.message_id = ?`,
  );
  const locations = db.prepare(
    `SELECT DISTINCT location FROM findings WHERE message = ?
     AND run_id = (SELECT max(run_id) FROM scans WHERE message = ? AND run_id <= ? AND findings > 0) ORDER BY location`,
  );
  return (source, mailbox, folder, messageId, run) => {
    const row = MessageRow.parse(message.get(source, mailbox, folder, messageId));
    return {
      maskedSubject: row.masked_subject,
      locations: locations.all(row.id, row.id, run).map((r) => LocationRow.parse(r).location),
    };
  };
}

export async function runDiff(a: number, b: number, flags: { state?: string; format: 'jsonl' | 'table'; ignoreFile?: string }): Promise<number> {
  const stateDir = resolveStateDir(flags.state, process.env);
  const file = stateDbPath(flags.state, process.env, stateDir);
  const db = openStateDb(file, { create: false });
  try {
    for (const run of [a, b]) {
      if (!db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run)) throw new ScanError('usage', `run ${run}: no such run in ${file} (latest: ${latestRunId(db) ?? 'none'}; phi-scan runs lists them)`);
    }
    if (a > b) {
      process.stderr.write(`phi-scan: warning: run ${a} is later than run ${b}: "new" is what run ${b} had and run ${a} no longer has (did you mean diff ${b} ${a}?)\n`);
    }
    // As scan and report: findings an ignore file lists are left out of both pictures (state/suppress.ts).
    const suppress = await loadSuppressions(flags.ignoreFile);
    if (suppress) applySuppressions(db, suppress);
    const rows = diffRuns(db, a, b);
    const detail = detailLookup(db);
    quietOnClosedStdout();
    const out = textOutput(process.stdout, false);
    let added = 0;
    for (const row of rows) {
      added += row.added.length;
      const entries = [
        ...row.added.map((m) => ({ kind: 'added' as const, m, d: detail(row.source, row.mailbox, m.folder, m.messageId, b) })),
        ...row.resolved.map((m) => ({ kind: 'resolved' as const, m, d: detail(row.source, row.mailbox, m.folder, m.messageId, a) })),
      ];
      if (flags.format === 'jsonl') {
        await out.write(`${JSON.stringify({ type: 'diff', source: row.source, mailbox: row.mailbox, added: row.added.length, resolved: row.resolved.length })}\n`);
        for (const { kind, m, d } of entries) {
          await out.write(`${JSON.stringify({ type: kind, source: row.source, mailbox: row.mailbox, ...m, maskedSubject: d.maskedSubject, locations: d.locations })}\n`);
        }
      } else {
        await out.write(`${row.mailbox} (${row.source}): ${row.added.length} new, ${row.resolved.length} resolved\n`);
        for (const { kind, m, d } of entries) {
          const subject = d.maskedSubject === null ? '(no subject)' : JSON.stringify(d.maskedSubject);
          const gone = 'gone' in m && m.gone ? '  (gone from the folder)' : '';
          await out.write(`  ${kind === 'added' ? '+' : '-'} ${m.folder}  ${m.messageId}  ${subject}  ${m.categories.join(',')}  in ${d.locations.join(', ') || '?'}${gone}\n`);
        }
      }
    }
    if (flags.format === 'table' && rows.length === 0) await out.write(`no change in messages holding PHI between run ${a} and run ${b}\n`);
    const dropped = suppress ? suppressedInScope(db, b) : undefined;
    if (dropped && dropped.findings > 0) process.stderr.write(`phi-scan: ${dropped.findings} findings of the picture as of run ${b} suppressed by ${dropped.file}\n`);
    return added > 0 ? EXIT.phiFound : EXIT.clean;
  } finally {
    db.close();
  }
}

export function registerDiff(program: Command, setExit: (code: number) => void): void {
  program
    .command('diff')
    .description('messages holding PHI that are new in run B, and resolved since run A, per mailbox (exit 1 when B has new PHI)')
    .argument('<runA>', 'the earlier run id (phi-scan runs lists them)', positiveInt)
    .argument('<runB>', 'the later run id', positiveInt)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .option('--state <path>', 'state folder or .db file; default $PHI_SCAN_STATE or ~/.local/state/phi-scan')
    .option('--ignore-file <file>', `reviewed findings to leave out, as scan does (default: ./${DEFAULT_IGNORE_FILE} when present)`)
    .action(async (a: number, b: number, flags: { state?: string; format: 'jsonl' | 'table'; ignoreFile?: string }) => setExit(await runDiff(a, b, flags)));
}
