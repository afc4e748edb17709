/**
 * Suppression, as gitleaks users know it (`.gitleaksignore`): an ignore file lists findings that
 * were reviewed and accepted, by keyed fingerprint and/or by message, each with the reason. The
 * file holds no PHI: fingerprints are keyed hashes, messages are named by Message-ID.
 *
 *     # FINGERPRINT        MESSAGE-ID                         REASON
 *     3f9a0c1b2d4e5f60     *                                  QA test patient in the training deck
 *     *                    <20261124.77@northwind-hme.example> handled in ticket INC-4711
 *     0a1b2c3d4e5f6071     <20261124.80@northwind-hme.example> the patient's own request, kept
 *
 * Columns are separated by spaces or tabs; the reason is the rest of the line and is required.
 * `*` matches any; an entry must name a fingerprint or a message (not both `*`).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Finding } from '../model/finding.js';
import { ScanError } from '../common/errors.js';

/** The ignore file read when no other is named, in the current folder (as .gitleaksignore). */
export const DEFAULT_IGNORE_FILE = '.phi-scanignore';

const Entry = z.object({
  fingerprint: z.union([z.literal('*'), z.string().regex(/^[0-9a-f]{16}$/, 'a fingerprint is 16 hex digits (the finding\'s "fingerprint" field), or *')]),
  message: z.string().regex(/^(?:\*|\S+)$/),
  reason: z.string().trim().min(1, 'a reason is required (the rest of the line)'),
}).refine((e) => e.fingerprint !== '*' || e.message !== '*', { message: 'an entry must name a fingerprint or a message: "* *" would hide everything' });

export type Suppression = z.infer<typeof Entry> & { readonly line: number };

export interface Suppressions {
  readonly file: string;
  readonly entries: readonly Suppression[];
  /** The findings of one message that no entry suppresses (a scan's, or rows of the state store). */
  keep<F extends Pick<Finding, 'fingerprint'>>(messageId: string, findings: readonly F[]): F[];
  /** Findings `keep` has dropped so far (for the one-line note after a scan). */
  suppressed(): number;
}

export function parseSuppressions(file: string, text: string): Suppressions {
  const entries: Suppression[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    const parsed = Entry.safeParse({ fingerprint: m?.[1] ?? line, message: m?.[2] ?? '', reason: m?.[3] ?? '' });
    if (!m || !parsed.success) {
      const why = parsed.success ? 'three columns: FINGERPRINT MESSAGE-ID REASON' : parsed.error.issues.map((x) => x.message).join('; ');
      errors.push(`${file}: line ${i + 1}: ${why}`);
      return;
    }
    entries.push({ ...parsed.data, line: i + 1 });
  });
  if (errors.length > 0) throw new ScanError('config', errors.join('\n'));
  const byFingerprint = new Set(entries.filter((e) => e.message === '*').map((e) => e.fingerprint));
  const byMessage = new Set(entries.filter((e) => e.fingerprint === '*').map((e) => e.message));
  const byBoth = new Set(entries.filter((e) => e.fingerprint !== '*' && e.message !== '*').map((e) => `${e.fingerprint} ${e.message}`));
  let dropped = 0;
  return {
    file,
    entries,
    keep(messageId, findings) {
      const kept = byMessage.has(messageId) ? [] : findings.filter((f) => !byFingerprint.has(f.fingerprint) && !byBoth.has(`${f.fingerprint} ${messageId}`));
      dropped += findings.length - kept.length;
      return kept;
    },
    suppressed: () => dropped,
  };
}

/**
 * `file` given: it must exist. Not given: DEFAULT_IGNORE_FILE when there is one, else none.
 */
export async function loadSuppressions(file: string | undefined): Promise<Suppressions | undefined> {
  const target = file ?? DEFAULT_IGNORE_FILE;
  let text: string;
  try {
    text = await readFile(target, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (file === undefined && code === 'ENOENT') return undefined;
    throw new ScanError('usage', `--ignore-file ${target}: cannot read (${code ?? 'I/O error'})`);
  }
  return parseSuppressions(target, text);
}
