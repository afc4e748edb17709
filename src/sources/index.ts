/** The source registry: a SOURCE argument (`scheme:path`) to a Source. Explicit, no discovery. */
import { ScanError } from '../shared/errors.js';
import { emlSource } from './eml.js';
import { graphSource } from './graph.js';
import { imapSource } from './imap.js';
import { maildirSource } from './maildir.js';
import { mboxSource } from './mbox.js';
import { pstSource } from './pst.js';
import type { Source, SourceOptions } from './types.js';

const ARCHIVE_SCHEMES = {
  mbox: mboxSource,
  maildir: maildirSource,
  eml: emlSource,
  pst: pstSource,
} as const;

export function createSource(spec: string, options: SourceOptions): Source {
  const m = /^([a-z]+):(.*)$/s.exec(spec);
  if (!m || !m[1]) {
    throw new ScanError('usage', `${spec}: a SOURCE is scheme:path, e.g. mbox:archive.mbox, maildir:~/Maildir, eml:exports/`);
  }
  const scheme = m[1];
  const rest = m[2] ?? '';
  if (scheme in ARCHIVE_SCHEMES) {
    if (rest === '') throw new ScanError('usage', `${spec}: missing path after '${scheme}:'`);
    return ARCHIVE_SCHEMES[scheme as keyof typeof ARCHIVE_SCHEMES](spec, rest, options);
  }
  if (scheme === 'graph') return graphSource(spec, options);
  if (scheme === 'imap' || scheme === 'imaps') return imapSource(spec, options);
  throw new ScanError('usage', `${spec}: unknown source scheme '${scheme}' (mbox, maildir, eml, pst, imap, imaps, graph)`);
}

export type { Source, SourceOptions } from './types.js';
