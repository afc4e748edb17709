/** Settings of the `graph://` source that are not in the SOURCE string (flags and environment). */
import { z } from 'zod';
import type { SourceOptions } from '../types.js';
import type { GraphStats } from './http.js';

/** What travels in ScanSettings, --config and queue jobs: plain data, checked with zod. */
export const GraphSettingsSchema = z.strictObject({
  /** `--users`: user principal names or object ids (a @FILE is read by the CLI). */
  users: z.array(z.string().min(1)).min(1).optional(),
  /** `--group`: the (transitive) user members of this group. */
  group: z.string().min(1).optional(),
  /** `--include-hidden-folders`. */
  includeHiddenFolders: z.boolean().optional(),
  /** `--graph-concurrency`: requests in flight across all mailboxes. */
  globalConcurrency: z.number().int().positive().optional(),
});
export type GraphSettings = z.infer<typeof GraphSettingsSchema>;

export interface GraphSourceOptions {
  /** `--users`: user principal names or object ids to scan (instead of every user). */
  readonly users?: readonly string[];
  /** `--group`: scan the (transitive) user members of this group. */
  readonly group?: string;
  /** `--include-hidden-folders`: also scan folders with isHidden (GRAPH.md §3). */
  readonly includeHiddenFolders?: boolean;
  /** Requests in flight across all mailboxes (default 32). */
  readonly globalConcurrency?: number;
  /** Requests in flight per mailbox (default and maximum 4: Exchange Online's MailboxConcurrency). */
  readonly perMailboxConcurrency?: number;
  /** Retries of one request on 429/503/504 and dropped connections (default 8). */
  readonly maxRetries?: number;
  /** First backoff step without Retry-After, in ms (default 500; doubles per attempt, full jitter). */
  readonly retryBaseMs?: number;
  /** Where PHI_SCAN_GRAPH_* are read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Filled while the scan runs: requests, retries, time waited. */
  readonly stats?: GraphStats;
  /** Awaited before every Graph request (queue workers: the tenant's request rate, in Redis). */
  readonly beforeRequest?: () => Promise<void>;
  /** One line per mailbox finished (progress); lines carry names and counts, never content. */
  readonly log?: (line: string) => void;
}

/** The Graph source's options as it is created: the shared ones and its own. */
export type GraphCreateOptions = SourceOptions & { readonly graph?: GraphSourceOptions };
