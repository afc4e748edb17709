/** Settings of the `imap://` / `imaps://` source that are not in the SOURCE string (flags and environment). */
import { z } from 'zod';
import type { SourceOptions } from '../types.js';

/** What travels in ScanSettings, --config and queue jobs: plain data, checked with zod. */
export const ImapSettingsSchema = z.strictObject({
  /** `--accounts FILE`: CSV or YAML, one mailbox a row, with a credential reference. */
  accountsFile: z.string().min(1).optional(),
  /** `--folders GLOB`: only folders matching one of these (comma-separated or repeated). */
  folders: z.array(z.string()).optional(),
  /** `--exclude-folders GLOB`. */
  excludeFolders: z.array(z.string()).optional(),
  /** `--imap-connections N`: connections open at once to one server (default 4). */
  connectionsPerHost: z.number().int().positive().optional(),
  /** `--imap-timeout`: ms to wait for a connection, the greeting, or a reply (default 60 s). */
  timeoutMs: z.number().int().positive().optional(),
});
export type ImapSettings = z.infer<typeof ImapSettingsSchema>;

/** What the IMAP source takes (see src/sources/imap.ts): its settings and the process's hooks. */
export interface ImapSourceOptions {
  readonly accountsFile?: string;
  readonly folders?: readonly string[];
  readonly excludeFolders?: readonly string[];
  readonly connectionsPerHost?: number;
  readonly timeoutMs?: number;
  /** PHI_SCAN_IMAP_* come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** UIDs per FETCH batch (default 500). */
  readonly batchSize?: number;
  /** Reconnect attempts after a dropped connection before a folder is given up (default 5). */
  readonly retries?: number;
  /** First reconnect delay in ms, doubled each attempt (default 250). */
  readonly backoffMs?: number;
  /** Run the IMAP client in a worker thread (the CLI does): protocol parsing then overlaps scanning. */
  readonly thread?: boolean;
  /** Receives every command line sent (tests prove read-only-ness with it). Never set in production. */
  readonly wireLog?: (line: string) => void;
}

/** The IMAP source's options as it is created: the shared ones and its own. */
export type ImapCreateOptions = SourceOptions & { readonly imap?: ImapSourceOptions };
