/** The IMAP source as the registry (../registry.ts) knows it. */
import { imapSource } from '../imap.js';
import type { SourceDefinition } from '../types.js';
import { ImapSettingsSchema, type ImapSettings } from './options.js';
import { parseImapUri } from './uri.js';

/** Connections open at once to one server, shared by every queue worker (as --imap-connections). */
const DEFAULT_CONNECTIONS_PER_HOST = 4;

export const imapDefinition: SourceDefinition<ImapSettings> = {
  name: 'imap',
  schemes: ['imap', 'imaps'],
  needsPath: false,
  settings: ImapSettingsSchema,
  // The client runs in a worker thread (when compiled): protocol parsing overlaps scanning.
  create: (spec, settings, options, runtime) => imapSource(spec, { ...options, imap: { ...settings, env: runtime.env, thread: true } }),
  jobs: 'unit',
  listsUnitsOnWorker: true,
  // FOLDER:UIDVALIDITY:UID (imap.ts): the two numbers are the server's, not names.
  locatorNumbers: /:\d+:\d+$/,
  limit(spec, settings) {
    const t = parseImapUri(spec);
    return { key: `imap:${t.host.toLowerCase()}:${t.port}`, slots: settings.connectionsPerHost ?? DEFAULT_CONNECTIONS_PER_HOST };
  },
};
