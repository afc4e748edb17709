/**
 * Every source phi-scan knows, in one list. A SOURCE argument (`scheme:path`, `imaps://…`) is
 * matched to its definition by scheme; each definition says how to create the source from its
 * own settings and what the queue needs to know (see types.ts SourceDefinition). Explicit, no
 * discovery: adding a source is its folder plus one line here (docs/architecture.md).
 */
import { z } from 'zod';
import { ScanError } from '../common/errors.js';
import { emlDefinition, maildirDefinition, mboxDefinition, pstDefinition } from './archives.js';
import { graphDefinition } from './graph/definition.js';
import { imapDefinition } from './imap/definition.js';
import type { Source, SourceDefinition, SourceOptions, SourceRuntime, SharedLimit } from './types.js';
import type { RemediationTarget, RescanContext, UndoTarget } from '../remediate/target.js';
import { graphRemediation, graphUndo } from './graph/write.js';
import { imapRemediation, imapUndo } from './imap/write.js';

/** A definition with its settings type hidden: the registry hands it settings it has checked. */
export interface RegisteredSource {
  readonly name: string;
  readonly schemes: readonly string[];
  readonly needsPath: boolean;
  readonly settings: z.ZodType;
  readonly jobs: 'unit' | 'mailbox';
  readonly listsUnitsOnWorker: boolean;
  create(spec: string, settings: unknown, options: SourceOptions, runtime: SourceRuntime): Source;
  limit(spec: string, settings: unknown): SharedLimit | undefined;
  rateKey(spec: string): string | undefined;
  readonly locatorNumbers?: RegExp;
}

function register<S>(d: SourceDefinition<S>): RegisteredSource {
  // Settings are parsed here, so a definition always gets its own settings' type.
  const own = (settings: unknown): S => d.settings.parse(settings ?? {});
  return {
    name: d.name,
    schemes: d.schemes,
    needsPath: d.needsPath,
    settings: d.settings,
    jobs: d.jobs,
    listsUnitsOnWorker: d.listsUnitsOnWorker,
    create: (spec, settings, options, runtime) => d.create(spec, own(settings), options, runtime),
    limit: (spec, settings) => d.limit?.(spec, own(settings)),
    rateKey: (spec) => d.rateKey?.(spec),
    ...(d.locatorNumbers ? { locatorNumbers: d.locatorNumbers } : {}),
  };
}

/** The sources, in the order `--help` and error messages name them. */
export const SOURCES: readonly RegisteredSource[] = [
  register(mboxDefinition),
  register(maildirDefinition),
  register(emlDefinition),
  register(pstDefinition),
  register(imapDefinition),
  register(graphDefinition),
];

/** Each source's settings under its name (`{ imap: {...}, graph: {...} }`): strict, all optional. */
export const SourceSettingsSchema = z.strictObject(Object.fromEntries(SOURCES.map((s) => [s.name, s.settings.optional()])));
export type SourceSettings = Readonly<Record<string, unknown>>;

/** The definition a SOURCE argument belongs to; a usage error (exit 2) when none does. */
export function definitionOf(spec: string): RegisteredSource {
  const m = /^([a-z]+):(.*)$/s.exec(spec);
  if (!m || !m[1]) {
    throw new ScanError('usage', `${spec}: a SOURCE is scheme:path, e.g. mbox:archive.mbox, maildir:~/Maildir, eml:exports/`);
  }
  const scheme = m[1];
  const found = SOURCES.find((s) => s.schemes.includes(scheme));
  if (!found) throw new ScanError('usage', `${spec}: unknown source scheme '${scheme}' (${SOURCES.flatMap((s) => s.schemes).join(', ')})`);
  if (found.needsPath && (m[2] ?? '') === '') throw new ScanError('usage', `${spec}: missing path after '${scheme}:'`);
  return found;
}

/** The own numbers that end a SOURCE's locators (SourceDefinition.locatorNumbers); none for an unknown scheme. */
export function locatorNumbersOf(spec: string): RegExp | undefined {
  const scheme = /^([a-z]+):/.exec(spec)?.[1];
  return SOURCES.find((s) => scheme !== undefined && s.schemes.includes(scheme))?.locatorNumbers;
}

/** Opens a SOURCE with its own settings (from `settings[definition.name]`). */
export function openSource(spec: string, settings: SourceSettings, options: SourceOptions, runtime: SourceRuntime): Source {
  const d = definitionOf(spec);
  return d.create(spec, settings[d.name], options, runtime);
}

/** What a source needs to act on a message where it lives (`remediate --apply`; scanning never gets here). */
export interface WriterOptions {
  readonly env: NodeJS.ProcessEnv;
  /** IMAP: `--accounts FILE` for an `imaps://HOST` source. */
  readonly accountsFile?: string;
}

/** The sources that can move, tag or delete a message where it lives (IMAP, Graph), by SOURCE. */
export function remediationOf(spec: string, options: WriterOptions): { target(ctx: RescanContext): RemediationTarget; undo(): UndoTarget } | undefined {
  const d = definitionOf(spec);
  const imap = { env: options.env, ...(options.accountsFile !== undefined ? { accountsFile: options.accountsFile } : {}) };
  if (d.name === imapDefinition.name) return { target: (ctx) => imapRemediation(spec, ctx, imap), undo: () => imapUndo(spec, imap) };
  if (d.name === graphDefinition.name) return { target: (ctx) => graphRemediation(spec, ctx, { env: options.env }), undo: () => graphUndo(spec, { env: options.env }) };
  return undefined;
}
