/** The archive sources (`scheme:PATH`) as the registry (registry.ts) knows them: no settings of their own. */
import { z } from 'zod';
import { emlSource } from './eml.js';
import { maildirSource } from './maildir.js';
import { mboxSource } from './mbox.js';
import { pstSource } from './pst.js';
import type { Source, SourceDefinition, SourceOptions } from './types.js';

const NoSettings = z.strictObject({});
type NoSettings = z.infer<typeof NoSettings>;

/** `scheme:PATH`: read from the path alone, one job per unit on a queue, no shared limits. */
function archive(name: string, open: (spec: string, target: string, options: SourceOptions) => Source, locatorNumbers?: RegExp): SourceDefinition<NoSettings> {
  return {
    ...(locatorNumbers ? { locatorNumbers } : {}),
    name,
    schemes: [name],
    needsPath: true,
    settings: NoSettings,
    create: (spec, _settings, options) => open(spec, spec.slice(name.length + 1), options),
    jobs: 'unit',
    listsUnitsOnWorker: false,
  };
}

// mbox locators are FILE@OFFSET (mbox.ts): the byte offset is ours.
export const mboxDefinition = archive('mbox', mboxSource, /@\d+$/);
export const maildirDefinition = archive('maildir', maildirSource);
export const emlDefinition = archive('eml', emlSource);
export const pstDefinition = archive('pst', pstSource);
