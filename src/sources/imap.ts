/**
 * `imap://USER@HOST[:PORT][/FOLDER]`, `imaps://...`: live mailboxes on any IMAP server, with
 * imapflow. One unit is one folder of one account.
 *
 * Strictly read-only: folders are opened with EXAMINE (RFC 3501 §6.3.2, the read-only SELECT)
 * and message bytes fetched with BODY.PEEK[] / BODY.PEEK[HEADER] (RFC 3501 §6.4.5: PEEK does not
 * set \Seen). No STORE, COPY, MOVE, EXPUNGE, APPEND, CREATE or SELECT is ever sent.
 *
 * Per folder: EXAMINE → UID SEARCH for the UIDs after the checkpoint (and, resuming under the same
 * UIDVALIDITY, UID SEARCH of the UIDs up to it: those missing were expunged, and the state store
 * marks them gone) → for each batch of UIDs,
 * FETCH (UID RFC822.SIZE) first, so the size cap is applied before any body is downloaded, then
 * FETCH (UID BODY.PEEK[]) of the messages under the cap, one message at a time, into a read-ahead
 * queue of at most READ_AHEAD_BYTES that the pipeline drains: the server keeps sending while the
 * parser works, and memory stays bounded whatever the folder size.
 *
 * Cursor: `UIDVALIDITY:UID[:HIGHESTMODSEQ]`. A message is identified forever by UIDVALIDITY and
 * UID (RFC 3501 §2.3.1.1): a cursor resumes after its UID while UIDVALIDITY is unchanged, and
 * a changed UIDVALIDITY rescans the folder. HIGHESTMODSEQ (RFC 7162 §3.1.1) only lets an
 * unchanged folder be skipped without a SEARCH. A dropped connection is reconnected with backoff
 * and the folder resumes with the UIDs not yet handed to the pipeline: none skipped, none twice.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { FetchMessageObject, ImapFlow, ImapFlowOptions, Logger } from 'imapflow';
import pLimit from 'p-limit';
import type { Checkpoint, CursorAdvance, RawMessage, SourceUnit, UnitItem } from '../model/message.js';
import type { Problem } from '../model/problem.js';
import { ScanError } from '../common/errors.js';
import { headerFields } from '../parse/header-values.js';
import { ENV, loadAccountsFile, singleAccount, type Account } from './imap/accounts.js';
import { displayName, selectFolders, type ListedFolder } from './imap/folders.js';
import { ConnectionPool } from './imap/pool.js';
import { ReadAhead } from './imap/read-ahead.js';
import { threadedImapSource, threadWorkerUrl } from './imap/thread.js';
import { parseImapUri, redactSpec, type ImapTarget } from './imap/uri.js';
import type { ImapCreateOptions } from './imap/options.js';
import { OVERSIZE_HEAD_BYTES, type Source, type UnitProblem } from './types.js';

const DEFAULT_CONNECTIONS_PER_HOST = 4;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_BATCH = 500;
/** Message bytes asked for in one FETCH: bounds what a batch can hold in memory. */
const BATCH_BYTES = 16 * 1024 * 1024;
/** Oversize messages without a Message-ID are hashed in chunks of this size (partial FETCH). */
const HASH_CHUNK = 4 * 1024 * 1024;
/** Fetched messages waiting for the scanner, per folder being read. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
const DEFAULT_RETRIES = 5;
const DEFAULT_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8000;

interface UnitInfo {
  readonly account: Account;
  /** The server's folder path (what EXAMINE gets). */
  readonly path: string;
}

/** What the FETCH reader hands the folder's generator. */
type Fetched =
  | { readonly kind: 'message'; readonly uid: number; readonly size: number; readonly bytes: Buffer; readonly oversize?: RawMessage['oversize'] }
  | { readonly kind: 'batch-end'; readonly uids: readonly number[] };

interface Cursor {
  readonly uidValidity: string;
  readonly uid: number;
  readonly modseq?: string;
}

export function parseCursor(cursor: string | undefined): Cursor | undefined {
  const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(cursor ?? '');
  if (!m) return undefined;
  return { uidValidity: m[1] as string, uid: Number(m[2]), ...(m[3] !== undefined ? { modseq: m[3] } : {}) };
}

export function formatCursor(c: Cursor): string {
  return `${c.uidValidity}:${c.uid}${c.modseq !== undefined ? `:${c.modseq}` : ''}`;
}

/** `1,2,3,5,7,8` → `1:3,5,7:8` (RFC 3501 §9 sequence-set). */
export function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < uids.length) {
    const first = uids[i] as number;
    let last = first;
    while (uids[i + 1] === last + 1) last = uids[++i] as number;
    parts.push(first === last ? String(first) : `${first}:${last}`);
    i++;
  }
  return parts.join(',');
}

/** Errors from a dead connection (worth a reconnect), as opposed to a server's NO/BAD. */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; authenticationFailed?: boolean };
  if (e?.authenticationFailed) return false;
  return [
    'NoConnection',
    'EConnectionClosed',
    'ETIMEOUT',
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'CONNECT_TIMEOUT',
    'GREETING_TIMEOUT',
    'ClosedAfterConnectTLS',
    'ClosedAfterConnectText',
    'ERR_STREAM_DESTROYED',
  ].includes(e?.code ?? '') || /closed|socket|timeout/i.test(e?.code ?? '');
}

/**
 * One line about what went wrong, from the error's code and the server's response text only:
 * never a command line (which could hold a credential) and never message content.
 */
export function describeImapError(err: unknown): string {
  const e = err as { code?: string; responseText?: string; serverResponseCode?: string; message?: string; authenticationFailed?: boolean };
  const parts: string[] = [];
  if (e?.authenticationFailed) parts.push('authentication failed');
  const text = (e?.responseText ?? e?.message ?? String(err)).split('\n')[0]?.replace(/[\r\t]/g, ' ').slice(0, 160) ?? '';
  if (text && !/^command failed$/i.test(text)) parts.push(text);
  if (e?.serverResponseCode) parts.push(`[${e.serverResponseCode}]`);
  else if (e?.code && !parts.some((p) => p.includes(e.code as string))) parts.push(`(${e.code})`);
  return parts.join(' ') || 'unknown error';
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function imapSource(spec: string, options: ImapCreateOptions): Source {
  const target: ImapTarget = parseImapUri(spec);
  const opts = options.imap ?? {};
  const env = opts.env ?? process.env;
  const safeSpec = redactSpec(spec);
  let accounts: Account[];
  if (target.user !== undefined) accounts = [singleAccount(target.user, safeSpec, env)];
  else if (opts.accountsFile !== undefined) accounts = loadAccountsFile(opts.accountsFile, env);
  else throw new ScanError('usage', `${safeSpec}: no user: write imap://USER@HOST, or list the mailboxes with --accounts FILE`, { source: safeSpec });

  const ca = readCa(env);
  // Everything above fails fast (exit 2) on this thread; the connections may live in a worker.
  const workerUrl = opts.thread && !opts.wireLog ? threadWorkerUrl() : undefined;
  if (workerUrl) return threadedImapSource(spec, options, workerUrl);
  // PHI_SCAN_IMAP_CA adds to the system's CAs. Built once: parsing ~150 root certificates for
  // every connection costs ~100 ms of CPU each time.
  const secureContext = ca ? createSecureContext({ ca: [...rootCertificates, ca], minVersion: 'TLSv1.2' }) : undefined;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const perHost = Math.max(1, opts.connectionsPerHost ?? DEFAULT_CONNECTIONS_PER_HOST);
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
  const hostKey = `${target.scheme}://${target.host}:${target.port}`;
  const pool = new ConnectionPool(perHost);
  const unitsById = new Map<string, UnitInfo>();
  const unitsLeft = new Map<string, number>();
  const where = (a: Account): string => `${target.scheme}://${a.user}@${target.host}:${target.port}`;

  const logger: Logger | false = opts.wireLog
    ? {
        debug: (o: { src?: string; msg?: string }) => {
          if (o?.src === 'c' && typeof o.msg === 'string') opts.wireLog?.(o.msg);
        },
        info: () => {},
        warn: () => {},
        error: () => {},
      }
    : false; // imapflow's default logger writes to stdout, where the report goes

  const connect = async (account: Account): Promise<ImapFlow> => {
    const auth: ImapFlowOptions['auth'] =
      account.secret.kind === 'token'
        ? { user: account.login, accessToken: account.secret.value }
        : {
            user: account.login,
            pass: account.secret.value,
            ...(account.authzid !== undefined ? { authzid: account.authzid, loginMethod: 'AUTH=PLAIN' } : {}),
          };
    const { ImapFlow } = await import('imapflow'); // not at start-up: most scans read no IMAP
    const client = new ImapFlow({
      host: target.host,
      port: target.port,
      secure: target.scheme === 'imaps',
      // imap:// must upgrade (RFC 8314 §3): never fall back to cleartext when STARTTLS is stripped.
      ...(target.scheme === 'imap' ? { doSTARTTLS: true } : {}),
      ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
      tls: {
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ...(secureContext ? { secureContext } : {}),
      },
      auth,
      logger,
      disableAutoIdle: true,
      disableBinary: true,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: Math.max(timeoutMs, 1000),
      clientInfo: { name: 'phi-scan' },
    });
    // Failures reach us through the pending command's rejection; without a listener an
    // 'error' event would crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  };

  const acquire = (account: Account): Promise<ImapFlow> => pool.acquire(hostKey, account.user, () => connect(account));

  const unitDone = (account: Account): void => {
    const left = (unitsLeft.get(account.user) ?? 1) - 1;
    unitsLeft.set(account.user, left);
    if (left <= 0) pool.closeAccount(hostKey, account.user);
  };

  const listAccount = async (account: Account, report: (p: UnitProblem) => void): Promise<SourceUnit[]> => {
    let client: ImapFlow;
    try {
      client = await acquire(account);
    } catch (err) {
      const failedAuth = (err as { authenticationFailed?: boolean }).authenticationFailed === true;
      const problem: Problem = failedAuth
        ? { code: 'auth-failed', message: `${where(account)}: login failed: ${describeImapError(err)}` }
        : { code: 'source-failed', message: `${where(account)}: cannot connect: ${describeImapError(err)}` };
      report({ mailbox: account.user, problem });
      return [];
    }
    let listed: ListedFolder[];
    try {
      listed = (await client.list()).map((f) => ({ path: f.path, delimiter: f.delimiter, flags: f.flags, specialUse: f.specialUse }));
    } catch (err) {
      pool.release(hostKey, account.user, client, false);
      report({ mailbox: account.user, problem: { code: 'source-failed', message: `${where(account)}: cannot list folders: ${describeImapError(err)}` } });
      return [];
    }
    pool.release(hostKey, account.user, client);
    let chosen: { folder: ListedFolder; name: string }[];
    if (target.folder !== undefined) {
      const wanted = displayName({ path: target.folder, delimiter: '/' });
      chosen = selectFolders(listed, { include: [] }).filter((f) => f.name === wanted);
      if (chosen.length === 0) {
        report({
          mailbox: account.user,
          folder: wanted,
          // The folder name stays out of the text (the pipeline masks the `folder` field).
          problem: { code: 'mailbox-unavailable', message: `${where(account)}: the folder named in the URI does not exist or cannot be opened` },
        });
      }
    } else {
      chosen = selectFolders(listed, { ...(opts.folders ? { include: opts.folders } : {}), ...(opts.excludeFolders ? { exclude: opts.excludeFolders } : {}) });
    }
    const units = chosen.map(({ folder, name }) => {
      const id = `${target.scheme}://${encodeURIComponent(account.user)}@${target.host}:${target.port}/${name}`;
      unitsById.set(id, { account, path: folder.path });
      return { id, source: spec, mailbox: account.user, folder: name, ref: folder.path };
    });
    unitsLeft.set(account.user, units.length);
    if (units.length === 0) pool.closeAccount(hostKey, account.user);
    return units;
  };

  async function* folderMessages(unit: SourceUnit, info: UnitInfo, after: Cursor | undefined): AsyncGenerator<UnitItem> {
    const { account } = info;
    let client: ImapFlow | undefined;
    /** Only a folder read to its end leaves its connection in a known state for reuse. */
    let completed = false;
    let uidValidity: string | undefined;
    let startCursor: Cursor | undefined;
    /** UIDs to do, ascending; the ones handed out leave from the front or sit in `done`. */
    let remaining: number[] | undefined;
    const done = new Set<number>();
    let watermark = 0;
    let lastCursor = '';
    let failures = 0;
    /** Resuming under the same UIDVALIDITY: which earlier UIDs (up to this one) are still there is still to be told. */
    let presenceUpTo: number | undefined;
    let stopReader: (() => void) | undefined;
    const advanceWatermark = (): void => {
      if (!remaining) return;
      let n = 0;
      while (n < remaining.length && done.has(remaining[n] as number)) {
        done.delete(remaining[n] as number);
        watermark = remaining[n] as number;
        n++;
      }
      if (n > 0) remaining.splice(0, n);
    };
    const cursorNow = (): string => formatCursor({ uidValidity: uidValidity as string, uid: watermark });
    try {
      for (;;) {
        try {
          client = await acquire(account);
          const mb = await client.mailboxOpen(info.path, { readOnly: true });
          const v = String(mb.uidValidity);
          if (uidValidity === undefined) {
            uidValidity = v;
            const modseq = mb.highestModseq !== undefined ? String(mb.highestModseq) : undefined;
            const resume = after && after.uidValidity === v ? after.uid : 0;
            watermark = resume;
            if (after && resume > 0) presenceUpTo = resume;
            // Nothing changed since the checkpoint (same UIDVALIDITY and HIGHESTMODSEQ): no SEARCH.
            if (after && resume > 0 && modseq !== undefined && after.modseq === modseq) {
              remaining = [];
            }
            startCursor = { uidValidity: v, uid: Math.max(resume, (mb.uidNext ?? 1) - 1), ...(modseq !== undefined ? { modseq } : {}) };
          } else if (v !== uidValidity) {
            // RFC 3501 §2.3.1.1: the UIDs we hold mean nothing now. The checkpoint stays where it
            // was, so the next run rescans the folder from the start.
            throw Object.assign(new Error(`${unit.folder}: UIDVALIDITY changed during the scan; the folder will be scanned again next time`), {
              code: 'UidValidityChanged',
            });
          }
          if (remaining === undefined) {
            // `N:*` always includes the highest UID, even below N (RFC 3501 §6.4.8): filter.
            const found = mb.exists === 0 ? [] : await client.search({ uid: `${watermark + 1}:*` }, { uid: true });
            remaining = (found || []).filter((u) => u > watermark).sort((a, b) => a - b);
          }
          if (presenceUpTo !== undefined) {
            // --since-last: the UIDs read before that are still here (a read-only UID SEARCH), so
            // the state store can mark the others gone. Also when HIGHESTMODSEQ is unchanged: a
            // server without QRESYNC need not raise it for an expunge (RFC 7162 §3.1.1 counts
            // metadata changes).
            const upTo = presenceUpTo;
            const still = mb.exists === 0 ? [] : await client.search({ uid: `1:${upTo}` }, { uid: true });
            const uids = uidSet((still || []).filter((u) => u <= upTo).sort((a, b) => a - b));
            presenceUpTo = undefined;
            yield { kind: 'cursor', cursor: '', present: { uidValidity: uidValidity as string, upTo, uids } } satisfies CursorAdvance;
          }
          // The reader runs ahead of the scanner (bounded by READ_AHEAD_BYTES); messages count
          // as done only when handed out, so a reconnect re-fetches exactly the rest.
          const todo = remaining.filter((u) => !done.has(u));
          const queue = new ReadAhead<Fetched>(READ_AHEAD_BYTES);
          stopReader = () => queue.close();
          void readFolder(client, todo, queue).then(
            () => queue.end(),
            (err: unknown) => queue.fail(err),
          );
          for (let item = await queue.pop(); item !== undefined; item = await queue.pop()) {
            if (item.kind === 'batch-end') {
              // What was asked for and did not come was expunged meanwhile: nothing to scan.
              for (const u of item.uids) done.add(u);
              advanceWatermark();
              if (cursorNow() !== lastCursor) {
                lastCursor = cursorNow();
                yield { kind: 'cursor', cursor: lastCursor } satisfies CursorAdvance;
              }
              continue;
            }
            if (done.has(item.uid)) continue;
            done.add(item.uid);
            failures = 0;
            advanceWatermark();
            lastCursor = cursorNow();
            yield {
              unit,
              locator: `${unit.folder}:${uidValidity}:${item.uid}`,
              size: item.size,
              bytes: item.bytes,
              ...(item.oversize ? { oversize: item.oversize } : {}),
              cursor: lastCursor,
            };
          }
          stopReader = undefined;
          const end = startCursor as Cursor;
          completed = true;
          yield { kind: 'cursor', cursor: formatCursor({ ...end, uid: Math.max(end.uid, watermark) }) } satisfies CursorAdvance;
          return;
        } catch (err) {
          stopReader?.();
          stopReader = undefined;
          if (client) pool.release(hostKey, account.user, client, false);
          client = undefined;
          if (!isConnectionError(err) || failures >= retries) {
            const why = (err as { code?: string }).code === 'UidValidityChanged' ? (err as Error).message : describeImapError(err);
            throw new Error(
              failures >= retries && isConnectionError(err)
                ? `${unit.folder}: connection lost ${failures + 1} times, giving up: ${why}`
                : `${unit.folder}: ${why}`,
            );
          }
          // RFC 3501 §2.3.1.1: after a reconnect the same UIDs name the same messages (checked:
          // UIDVALIDITY above), so the folder goes on with what was not handed out yet.
          const delay = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** failures);
          failures++;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    } finally {
      stopReader?.();
      if (client) pool.release(hostKey, account.user, client, completed);
      unitDone(account);
    }
  }

  /**
   * Fetches `uids` (ascending) in batches into the queue: per batch, `UID FETCH (UID RFC822.SIZE)`
   * first, so the size cap is applied before any body is downloaded, then `BODY.PEEK[]` of the
   * messages under the cap, in groups of at most BATCH_BYTES. imapflow hands over one FETCH row
   * at a time, and `queue.push` waits while the queue is full: the server is never read further
   * ahead than READ_AHEAD_BYTES.
   */
  async function readFolder(client: ImapFlow, uids: readonly number[], queue: ReadAhead<Fetched>): Promise<void> {
    for (let i = 0; i < uids.length; i += batchSize) {
      const batch = uids.slice(i, i + batchSize);
      const sizes = new Map<number, number>();
      for await (const m of client.fetch(uidSet(batch), { uid: true, size: true }, { uid: true })) {
        if (m.uid !== undefined && m.size !== undefined) sizes.set(m.uid, m.size);
      }
      for (const group of groupBySize(batch, sizes, options.maxMessageBytes)) {
        if (group.oversize !== undefined) {
          const raw = await fetchOversize(client, group.oversize, sizes.get(group.oversize) ?? 0);
          if (raw && !(await queue.push({ kind: 'message', uid: group.oversize, ...raw }, raw.bytes.length))) return;
          continue;
        }
        const asked = new Set(group.uids);
        for await (const m of client.fetch(uidSet(group.uids), { uid: true, source: true }, { uid: true })) {
          if (m.uid === undefined || !m.source || !asked.has(m.uid)) continue;
          if (!(await queue.push({ kind: 'message', uid: m.uid, size: m.source.length, bytes: m.source }, m.source.length))) return;
        }
      }
      if (!(await queue.push({ kind: 'batch-end', uids: batch }, 0))) return;
    }
  }

  /**
   * An oversize message: only its header is downloaded (BODY.PEEK[HEADER]). The sha256 names
   * a message without a Message-ID (`<sha256:…>`, as the archive sources do), so only then is
   * the whole message streamed through the hash, in partial FETCHes (RFC 3501 §6.4.5 <start.len>).
   */
  async function fetchOversize(client: ImapFlow, uid: number, size: number): Promise<Omit<RawMessage, 'unit' | 'locator' | 'cursor'> | undefined> {
    const head = await client.fetchOne(String(uid), { uid: true, headers: true }, { uid: true });
    if (!head || !head.headers) return undefined;
    const bytes = head.headers.subarray(0, OVERSIZE_HEAD_BYTES);
    let digest: string;
    if (headerFields(bytes).messageId !== undefined) digest = sha256(head.headers);
    else {
      const hash = createHash('sha256');
      for (let start = 0; ; start += HASH_CHUNK) {
        const part: FetchMessageObject | false = await client.fetchOne(String(uid), { uid: true, source: { start, maxLength: HASH_CHUNK } }, { uid: true });
        const chunk = part ? part.source : undefined;
        if (!chunk || chunk.length === 0) break;
        hash.update(chunk);
        if (chunk.length < HASH_CHUNK) break;
      }
      digest = hash.digest('hex');
    }
    return { size, bytes, oversize: { limit: options.maxMessageBytes, sha256: digest } };
  }

  return {
    kind: 'imap',
    spec,
    async units(report: (problem: UnitProblem) => void): Promise<SourceUnit[]> {
      const limit = pLimit(perHost);
      try {
        const lists = await Promise.all(accounts.map((a) => limit(() => listAccount(a, report))));
        return lists.flat();
      } catch (err) {
        await pool.closeAll();
        throw err;
      }
    },
    messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem> {
      const info = unitsById.get(unit.id);
      if (!info) throw new ScanError('usage', `${unit.id}: not a unit of ${safeSpec}`);
      return folderMessages(unit, info, parseCursor(after?.cursor));
    },
    close: () => pool.closeAll(),
  };
}

/** Consecutive UIDs under the cap, up to BATCH_BYTES a group; each oversize UID on its own. */
function groupBySize(uids: readonly number[], sizes: ReadonlyMap<number, number>, cap: number): { uids: number[]; oversize?: number }[] {
  const groups: { uids: number[]; oversize?: number }[] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const uid of uids) {
    const size = sizes.get(uid);
    if (size === undefined) continue; // expunged since the SEARCH
    if (size > cap) {
      if (current.length > 0) groups.push({ uids: current });
      current = [];
      bytes = 0;
      groups.push({ uids: [uid], oversize: uid });
      continue;
    }
    if (current.length > 0 && bytes + size > BATCH_BYTES) {
      groups.push({ uids: current });
      current = [];
      bytes = 0;
    }
    current.push(uid);
    bytes += size;
  }
  if (current.length > 0) groups.push({ uids: current });
  return groups;
}

function readCa(env: NodeJS.ProcessEnv): string | undefined {
  const file = env[ENV.ca];
  if (!file) return undefined;
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ScanError('config', `${ENV.ca}=${file}: not a PEM certificate file`);
    return pem;
  } catch (err) {
    if (err instanceof ScanError) throw err;
    throw new ScanError('config', `${ENV.ca}=${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}
