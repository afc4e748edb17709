/**
 * The write side of Microsoft Graph, used only by `remediate --apply`: move a message to a mail
 * folder (created if missing), set a category, or delete it (Exchange moves it to Deleted
 * Items). It signs in as a **separate app registration** holding `Mail.ReadWrite`
 * (PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID and its secret or certificate), so the scanning app keeps
 * `Mail.Read` only and its read-only guard (http.ts) stays in force for every scan.
 *
 * Reads (re-verification: the message's properties and MIME) go through the scanner's read-only
 * client; writes through `write()` below, with the same throttling rules: 429/503/504 are retried
 * after Retry-After (or a backoff), one request at a time per mailbox. A move whose connection
 * drops may have happened: the destination is searched for the message before trying again.
 *
 * Endpoints (learn.microsoft.com/graph/api): message-move (POST …/messages/{id}/move, 201 with the
 * message, which has a new id), message-update (PATCH …/messages/{id} categories), user-post-
 * mailfolders / mailfolder-post-childfolders (POST, 201; 409 ErrorFolderExists when taken),
 * message-delete (DELETE, 204).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ScanError } from '../../common/errors.js';
import type { Place } from '../../remediate/audit.js';
import type { PlanItem } from '../../remediate/plan.js';
import { stillHolds, type ActResult, type RemediationTarget, type RescanContext, type UndoTarget, type Verdict } from '../../remediate/target.js';
import { createTokenProvider, credentialFromEnv, DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_ENDPOINT, httpsOrigin } from './auth.js';
import { backoffMs, createGraphHttp, GraphHttpError, newGraphStats, parseRetryAfter, type GraphHttp, type GraphStats } from './http.js';

export const REMEDIATE_ENV = {
  clientId: 'PHI_SCAN_GRAPH_REMEDIATE_CLIENT_ID',
  secret: 'PHI_SCAN_GRAPH_REMEDIATE_CLIENT_SECRET',
  cert: 'PHI_SCAN_GRAPH_REMEDIATE_CERT',
} as const;

export interface GraphWriteOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly maxRetries?: number;
  readonly retryBaseMs?: number;
  readonly stats?: GraphStats;
}

const MessageProps = z.object({ id: z.string(), internetMessageId: z.string().nullish(), parentFolderId: z.string().nullish(), categories: z.array(z.string()).nullish() });
const FolderList = z.object({ value: z.array(z.object({ id: z.string(), displayName: z.string().nullish() })), '@odata.nextLink': z.string().optional() });
const Created = z.object({ id: z.string() });

const enc = encodeURIComponent;

/** `graph:USER/MESSAGE-ID` (the Graph source's locator). */
export function parseGraphLocator(locator: string): { user: string; id: string } | undefined {
  const m = /^graph:([^/]+)\/(.+)$/s.exec(locator);
  return m ? { user: m[1] as string, id: m[2] as string } : undefined;
}

interface Client {
  readonly read: GraphHttp;
  write(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
}

function connect(spec: string, options: GraphWriteOptions): Client {
  const env = options.env;
  const tenant = /^graph:\/\/([^/]+)/.exec(spec)?.[1];
  if (!tenant) throw new ScanError('usage', `${spec}: not a Graph source`);
  if (!env[REMEDIATE_ENV.clientId]) {
    throw new ScanError('config', `${spec}: remediation signs in as its own app registration with Mail.ReadWrite: set ${REMEDIATE_ENV.clientId} and ${REMEDIATE_ENV.secret} (or ${REMEDIATE_ENV.cert})`);
  }
  // The scanner's credential reader, pointed at the remediation app's variables.
  const credential = credentialFromEnv(
    {
      PHI_SCAN_GRAPH_CLIENT_ID: env[REMEDIATE_ENV.clientId],
      ...(env[REMEDIATE_ENV.secret] !== undefined ? { PHI_SCAN_GRAPH_CLIENT_SECRET: env[REMEDIATE_ENV.secret] } : {}),
      ...(env[REMEDIATE_ENV.cert] !== undefined ? { PHI_SCAN_GRAPH_CERT: env[REMEDIATE_ENV.cert] } : {}),
    },
    spec,
  );
  const authority = httpsOrigin(env.PHI_SCAN_GRAPH_AUTHORITY_HOST || DEFAULT_AUTHORITY_HOST, 'PHI_SCAN_GRAPH_AUTHORITY_HOST');
  const endpoint = httpsOrigin(env.PHI_SCAN_GRAPH_ENDPOINT || DEFAULT_GRAPH_ENDPOINT, 'PHI_SCAN_GRAPH_ENDPOINT');
  const getToken = createTokenProvider(tenant, credential, authority, endpoint);
  const stats = options.stats ?? newGraphStats();
  const maxRetries = options.maxRetries ?? 8;
  const retryBaseMs = options.retryBaseMs ?? 500;
  const read = createGraphHttp({ endpoint: endpoint.origin, getToken, perMailbox: 1, global: 4, maxRetries, retryBaseMs, stats });
  return {
    read,
    async write(method, path, body) {
      for (let attempt = 0; ; attempt++) {
        stats.requests++;
        const res = await fetch(`${endpoint.origin}/v1.0${path}`, {
          method,
          headers: { Authorization: `Bearer ${await getToken()}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        if (res.ok) return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
        let code = '';
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
        } catch {
          // not Graph's error body
        }
        const retriable = res.status === 429 || res.status === 503 || res.status === 504;
        if (!retriable || attempt >= maxRetries) throw new GraphHttpError(`${method} ${describeWrite(path)}: HTTP ${res.status}${code ? ` ${code}` : ''}`, res.status, code);
        const wait = parseRetryAfter(res.headers.get('retry-after')) ?? backoffMs(attempt, retryBaseMs);
        stats.throttled++;
        stats.retries++;
        stats.waitedMs += wait;
        await sleep(wait);
      }
    },
  };
}

/** The kind of write, without ids. */
function describeWrite(path: string): string {
  if (/\/move$/.test(path)) return 'message move';
  if (/\/mailFolders/.test(path)) return 'mail folder';
  return 'message';
}

const notFound = (err: unknown): boolean => err instanceof GraphHttpError && err.status === 404;

/** The id of the mail folder at a display-name path (`PHI-Quarantine`, `Quarantine/PHI`), created when `create`. */
async function folderId(c: Client, user: string, displayPath: string, create: boolean): Promise<string | undefined> {
  let parent: string | undefined;
  for (const name of displayPath.split('/')) {
    const base = parent === undefined ? `/users/${enc(user)}/mailFolders` : `/users/${enc(user)}/mailFolders/${enc(parent)}/childFolders`;
    let found: string | undefined;
    for (let link: string | undefined = `${base}?$top=100&$select=id,displayName&includeHiddenFolders=true`; link && !found; ) {
      const page = FolderList.parse(await c.read.getJson(link, user));
      found = page.value.find((f) => f.displayName === name)?.id;
      link = page['@odata.nextLink'];
    }
    if (!found) {
      if (!create) return undefined;
      try {
        found = Created.parse((await c.write('POST', base, { displayName: name, isHidden: false })).json).id;
      } catch (err) {
        // Created meanwhile by another run: look again.
        if (!(err instanceof GraphHttpError && err.status === 409)) throw err;
        return folderId(c, user, displayPath, false);
      }
    }
    parent = found;
  }
  return parent;
}

/** The message with this Internet Message-ID in a folder, if any. */
async function findIn(c: Client, user: string, folder: string, messageId: string): Promise<string | undefined> {
  const filter = `internetMessageId eq '${messageId.replace(/'/g, "''")}'`;
  const page = z
    .object({ value: z.array(z.object({ id: z.string() })) })
    .parse(await c.read.getJson(`/users/${enc(user)}/mailFolders/${enc(folder)}/messages?$filter=${enc(filter)}&$select=id`, user));
  return page.value[0]?.id;
}

export function graphRemediation(spec: string, ctx: RescanContext, options: GraphWriteOptions): RemediationTarget {
  const c = connect(spec, options);
  const plan = ctx.plan.header;
  const dest = plan.to ?? 'PHI-Quarantine';
  /** Per message: its folder id and categories as verified (undo and tag need them). */
  const seen = new Map<string, { folderId: string | undefined; categories: string[] }>();

  async function verify(item: PlanItem): Promise<Verdict> {
    const loc = parseGraphLocator(item.locator);
    if (!loc) return { status: 'skip', reason: 'not a Graph locator' };
    let props;
    try {
      props = MessageProps.parse(await c.read.getJson(`/users/${enc(loc.user)}/messages/${enc(loc.id)}?$select=id,internetMessageId,parentFolderId,categories`, loc.user));
    } catch (err) {
      if (!notFound(err)) throw err;
      if (plan.action === 'move') {
        const destId = await folderId(c, loc.user, dest, false);
        const there = destId ? await findIn(c, loc.user, destId, item.messageId) : undefined;
        if (there) return { status: 'already-done', to: { folder: dest, id: there, ...(destId ? { folderId: destId } : {}) } };
      }
      return { status: 'skip', reason: 'gone: no such message in the mailbox' };
    }
    seen.set(item.locator, { folderId: props.parentFolderId ?? undefined, categories: props.categories ?? [] });
    if (plan.action === 'tag' && (props.categories ?? []).includes(plan.keyword as string)) return { status: 'already-done' };
    const got = await c.read.getBytes(`/users/${enc(loc.user)}/messages/${enc(loc.id)}/$value`, loc.user, 512 * 1024 * 1024);
    return stillHolds(ctx, item, got.bytes);
  }

  async function act(item: PlanItem): Promise<ActResult> {
    const loc = parseGraphLocator(item.locator);
    if (!loc) throw new Error('not a Graph locator');
    const before = seen.get(item.locator);
    const from: Place = { folder: item.folder, locator: item.locator, id: loc.id, ...(before?.folderId ? { folderId: before.folderId } : {}) };
    const path = `/users/${enc(loc.user)}/messages/${enc(loc.id)}`;
    if (plan.action === 'tag') {
      await c.write('PATCH', path, { categories: [...(before?.categories ?? []), plan.keyword as string] });
      return { from, to: { folder: item.folder, id: loc.id } };
    }
    if (plan.action === 'delete') {
      await c.write('DELETE', path);
      return { from };
    }
    const destId = (await folderId(c, loc.user, dest, true)) as string;
    let moved: string;
    try {
      moved = Created.parse((await c.write('POST', `${path}/move`, { destinationId: destId })).json).id;
    } catch (err) {
      // A dropped connection may have moved it: look before trying again.
      if (err instanceof GraphHttpError) throw err;
      const there = await findIn(c, loc.user, destId, item.messageId);
      moved = there ?? Created.parse((await c.write('POST', `${path}/move`, { destinationId: destId })).json).id;
    }
    return { from, to: { folder: dest, id: moved, folderId: destId } };
  }

  return { verify, act, close: async () => undefined };
}

/** Undo of Graph moves (back to the folder it came from, by id) and categories (removed). */
export function graphUndo(spec: string, options: GraphWriteOptions): UndoTarget {
  const c = connect(spec, options);
  return {
    async undo(entry) {
      const loc = parseGraphLocator(entry.from.locator ?? '');
      const at = entry.to;
      if (!loc || !at?.id) throw new Error('the log does not say where the message went: undo it by hand');
      const path = `/users/${enc(loc.user)}/messages/${enc(at.id)}`;
      if (entry.action === 'tag') {
        const props = MessageProps.parse(await c.read.getJson(`${path}?$select=id,categories`, loc.user));
        await c.write('PATCH', path, { categories: (props.categories ?? []).filter((k) => k !== entry.keyword) });
        return { to: at };
      }
      if (!entry.from.folderId) throw new Error('the log does not name the folder it came from: undo it by hand');
      const back = Created.parse((await c.write('POST', `${path}/move`, { destinationId: entry.from.folderId })).json).id;
      return { to: { folder: entry.from.folder, id: back, folderId: entry.from.folderId } };
    },
    close: async () => undefined,
  };
}
