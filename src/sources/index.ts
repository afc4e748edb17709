/** Sources for library users: a SOURCE argument (`scheme:path`) to a Source (see registry.ts). */
import type { GraphSourceOptions } from './graph/options.js';
import { graphSource } from './graph.js';
import type { ImapSourceOptions } from './imap/options.js';
import { imapSource } from './imap.js';
import { definitionOf } from './registry.js';
import type { Source, SourceOptions } from './types.js';

/**
 * A source with every option its kind takes, hooks included (`imap.wireLog`, `graph.stats`).
 * Scans go through registry.ts openSource with plain settings; this is the direct way in.
 */
export function createSource(spec: string, options: SourceOptions & { readonly imap?: ImapSourceOptions; readonly graph?: GraphSourceOptions }): Source {
  const d = definitionOf(spec);
  const { imap, graph, ...shared } = options;
  if (d.name === 'imap') return imapSource(spec, { ...shared, ...(imap ? { imap } : {}) });
  if (d.name === 'graph') return graphSource(spec, { ...shared, ...(graph ? { graph } : {}) });
  return d.create(spec, {}, shared, { env: process.env });
}

export { SOURCES, SourceSettingsSchema, definitionOf, openSource, type SourceSettings } from './registry.js';
export type { Source, SourceDefinition, SourceOptions, SourceRuntime } from './types.js';
export type { ImapSourceOptions } from './imap/options.js';
export type { GraphSourceOptions } from './graph/options.js';
