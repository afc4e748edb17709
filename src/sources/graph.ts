/**
 * `graph://TENANT[/USER-or-*]` — Microsoft 365 mailboxes through Microsoft Graph, app-only.
 * Facts and their sources: docs/GRAPH.md (sections cited as §n).
 *
 * Units are mail folders of a user (id `graph://TENANT/USER-ID/FOLDER-ID`). Listing uses JSON
 * $batch: one round for the users' top folders (plus the Archive well-known folder), then one
 * round per tree level for childFolders. Messages come from a per-folder delta round (§5):
 * each new message's MIME is read with `/messages/{id}/$value` (§4) and goes through the same
 * parser as every other source. The deltaLink at the end of a round is the unit's cursor, so
 * `--since-last` asks only for what was created since; an expired one (410) rescans the folder.
 *
 * Two delta rounds per folder, each with its own sync state (message-delta `changeType`): the
 * `deleted` round first, whose `@removed` entries (deleted, or moved out of the folder) the state
 * store marks gone, then the `created` round that reads new messages (a message moved in is new
 * there, with a new id). An unfiltered round would also return every message whose flags or
 * categories changed (read, tagged), and each would be downloaded and scanned again.
 */
import type { Checkpoint, SourceUnit, UnitItem } from '../model/message.js';
import { ScanError } from '../common/errors.js';
import { z } from 'zod';
import { createTokenProvider, credentialFromEnv, DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_ENDPOINT, GraphAuthError, httpsOrigin } from './graph/auth.js';
import { createGraphHttp, GraphHttpError, newGraphStats, type BatchStep, type GraphHttp } from './graph/http.js';
import type { GraphCreateOptions, GraphSourceOptions } from './graph/options.js';
import type { Source, UnitProblem } from './types.js';

/** Exchange Online runs at most 4 requests per mailbox at once (§7). */
export const MAILBOX_CONCURRENCY = 4;
/** Delta page size asked for with `Prefer: odata.maxpagesize` (§5); fewer pages, fewer requests. */
const DELTA_PAGE_SIZE = 500;
/** Users listed per page: `$top` may go up to 999 (§2). */
const USERS_PAGE = 999;
/** Folders per page (default 10, §3). */
const FOLDERS_PAGE = 100;
const FOLDER_SELECT = 'id,displayName,parentFolderId,childFolderCount,isHidden';

/** Delta error codes that mean "start a new round" (§5). */
const RESYNC_CODES = new Set(['SyncStateNotFound', 'syncStateNotFound', 'resyncRequired', 'SyncStateInvalid']);
/** Mail endpoint codes that mean "this user has no mailbox we may read" (§2, §7). */
const UNAVAILABLE_CODES = new Set(['MailboxNotEnabledForRESTAPI', 'ErrorInvalidUser', 'ErrorAccessDenied', 'Request_ResourceNotFound', 'ResourceNotFound', 'ErrorMailboxNotEnabledForRESTAPI']);

export interface GraphSpec {
  readonly tenant: string;
  /** A UPN or object id, or undefined for every user (`*` or nothing). */
  readonly user?: string;
}

export function parseGraphSpec(spec: string): GraphSpec {
  const m = /^graph:\/\/([^/]+)(?:\/([^/]*))?\/?$/.exec(spec);
  const tenant = m?.[1];
  if (!m || !tenant) throw new ScanError('usage', `${spec}: a Graph source is graph://TENANT[/USER-or-*], e.g. graph://contoso.onmicrosoft.com/*`);
  if (!/^[A-Za-z0-9.-]+$/.test(tenant)) throw new ScanError('usage', `${spec}: the tenant is a domain name or a tenant id (GUID)`);
  const user = m[2] ? decodeURIComponent(m[2]) : undefined;
  return user === undefined || user === '*' ? { tenant } : { tenant, user };
}

const UserSchema = z.object({ id: z.string().min(1), userPrincipalName: z.string().nullish() });
const UserPage = z.object({ value: z.array(UserSchema), '@odata.nextLink': z.string().optional() });
const FolderSchema = z.object({
  '@odata.type': z.string().optional(),
  id: z.string().min(1),
  displayName: z.string().nullish(),
  childFolderCount: z.number().nullish(),
  isHidden: z.boolean().nullish(),
});
type Folder = z.infer<typeof FolderSchema>;
const FolderPage = z.object({ value: z.array(FolderSchema), '@odata.nextLink': z.string().optional() });
const DeltaPage = z.object({
  value: z.array(
    z.object({
      id: z.string().min(1),
      internetMessageId: z.string().nullish(),
      '@removed': z.unknown().optional(),
    }),
  ),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
});

/**
 * Where a unit stopped: the created round's finished deltaLink, or a page link and how many items
 * of it were done; v2 adds the deleted round's deltaLink (`removed`), alone before the created
 * round's first cursor. A v1 cursor (no `removed`) starts the deleted round afresh.
 */
const CursorSchema = z.union([
  z.strictObject({ v: z.literal(1), delta: z.string().min(1) }),
  z.strictObject({ v: z.literal(1), page: z.string().min(1), done: z.number().int().nonnegative() }),
  z.strictObject({ v: z.literal(2), removed: z.string().min(1) }),
  z.strictObject({ v: z.literal(2), removed: z.string().min(1), delta: z.string().min(1) }),
  z.strictObject({ v: z.literal(2), removed: z.string().min(1), page: z.string().min(1), done: z.number().int().nonnegative() }),
]);
type Cursor = z.infer<typeof CursorSchema>;
type Position = { delta: string } | { page: string; done: number };

function parseCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = CursorSchema.safeParse(JSON.parse(cursor));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // a cursor from another version: start the folder over
  }
}

const UnitRef = z.strictObject({ user: z.string(), folder: z.string() });

interface GraphUser {
  readonly id: string;
  readonly upn: string;
}

const enc = encodeURIComponent;

/** Names shown in progress lines: long digit runs masked, in case a UPN holds an identifier. */
function safeName(name: string): string {
  return name.replace(/\d{4,}/g, (d) => '•'.repeat(d.length));
}

export function graphSource(spec: string, options: GraphCreateOptions): Source {
  const parsed = parseGraphSpec(spec);
  const g: GraphSourceOptions = options.graph ?? {};
  if (parsed.user !== undefined && (g.users?.length || g.group)) {
    throw new ScanError('usage', `${spec}: names a user; --users and --group apply to graph://TENANT or graph://TENANT/*`);
  }
  if (g.users?.length && g.group) throw new ScanError('usage', '--users and --group: give one or the other');
  const env = g.env ?? process.env;
  const stats = g.stats ?? newGraphStats();
  let http: GraphHttp | undefined;
  /** Folders not yet finished per mailbox, for the per-mailbox progress line. */
  const remaining = new Map<string, { upn: string; folders: number; total: number; messages: number }>();

  const listAll = async (first: string): Promise<GraphUser[]> => {
    const users: GraphUser[] = [];
    for (let link: string | undefined = first; link; ) {
      const page = UserPage.parse(await (http as GraphHttp).getJson(link));
      for (const u of page.value) users.push({ id: u.id, upn: u.userPrincipalName ?? u.id });
      link = page['@odata.nextLink'];
    }
    return users;
  };

  /** Named users: resolved in batches to their object ids (stable unit ids across UPN renames). */
  const resolveNamed = async (names: readonly string[], report: (p: UnitProblem) => void): Promise<GraphUser[]> => {
    const steps: BatchStep[] = names.map((n, i) => ({ id: String(i), url: `/users/${enc(n)}?$select=id,userPrincipalName` }));
    const results = await (http as GraphHttp).batch(steps);
    const users: GraphUser[] = [];
    names.forEach((name, i) => {
      const r = results.get(String(i));
      const user = r && !r.error ? UserSchema.safeParse(r.body) : undefined;
      if (user?.success) {
        users.push({ id: user.data.id, upn: user.data.userPrincipalName ?? name });
      } else if (r?.error?.status === 403) {
        // No directory permission (User.Read.All): Mail.Read alone still reads the mailbox by UPN.
        users.push({ id: name, upn: name });
      } else {
        const why = r?.error ? r.error.message : 'GET user: no answer';
        report({ mailbox: name, problem: { code: 'mailbox-unavailable', message: `${why}: no such user` } });
      }
    });
    return users;
  };

  /** Every mail folder of every user, breadth first, with JSON $batch (§3, §6). */
  const listFolders = async (users: readonly GraphUser[], report: (p: UnitProblem) => void): Promise<SourceUnit[]> => {
    const hidden = g.includeHiddenFolders ? '&includeHiddenFolders=true' : '';
    type Node = { user: GraphUser; folder: Folder; path: string; children: Node[] };
    const roots = new Map<string, Node[]>();
    const seen = new Set<string>();
    const failed = new Set<string>();
    let steps: { step: BatchStep; user: GraphUser; parent?: Node; archive?: boolean }[] = [];
    for (const user of users) {
      roots.set(user.id, []);
      const base = `/users/${enc(user.id)}/mailFolders`;
      steps.push({ step: { id: '', url: `${base}?$top=${FOLDERS_PAGE}&$select=${FOLDER_SELECT}${hidden}` }, user });
      // The one-click Archive folder, by its well-known name (§3): included even when hidden.
      steps.push({ step: { id: '', url: `${base}/archive?$select=${FOLDER_SELECT}` }, user, archive: true });
    }
    const archives: { user: GraphUser; folder: Folder }[] = [];
    while (steps.length > 0) {
      const numbered = steps.map((s, i) => ({ ...s, step: { ...s.step, id: String(i) } }));
      const results = await (http as GraphHttp).batch(numbered.map((s) => s.step));
      const next: typeof steps = [];
      for (const s of numbered) {
        if (failed.has(s.user.id)) continue;
        const r = results.get(s.step.id);
        if (!r || r.error) {
          const e = r?.error;
          if (s.archive && (e?.status === 404 || e?.status === 400)) continue; // no Archive folder
          failed.add(s.user.id);
          const code = e && (e.status === 401 || e.code === 'authFailed') ? 'auth-failed' : 'mailbox-unavailable';
          report({ mailbox: s.user.upn, problem: { code, message: e ? e.message : 'no answer' } });
          continue;
        }
        if (s.archive) {
          const f = FolderSchema.safeParse(r.body);
          if (f.success) archives.push({ user: s.user, folder: f.data });
          continue;
        }
        const page = FolderPage.safeParse(r.body);
        if (!page.success) {
          failed.add(s.user.id);
          report({ mailbox: s.user.upn, problem: { code: 'mailbox-unavailable', message: 'GET mailFolders: unexpected response shape' } });
          continue;
        }
        const siblings = s.parent ? s.parent.children : (roots.get(s.user.id) as Node[]);
        for (const folder of page.data.value) {
          // Search folders show messages that live elsewhere: scanning them would scan twice (§3).
          if (folder['@odata.type'] === '#microsoft.graph.mailSearchFolder') continue;
          if (folder.isHidden && !g.includeHiddenFolders) continue;
          const key = `${s.user.id}\0${folder.id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const name = folder.displayName ?? folder.id;
          const node: Node = { user: s.user, folder, path: s.parent ? `${s.parent.path}/${name}` : name, children: [] };
          siblings.push(node);
          if ((folder.childFolderCount ?? 0) > 0) {
            next.push({ step: { id: '', url: `/users/${enc(s.user.id)}/mailFolders/${enc(folder.id)}/childFolders?$top=${FOLDERS_PAGE}&$select=${FOLDER_SELECT}${hidden}` }, user: s.user, parent: node });
          }
        }
        const more = page.data['@odata.nextLink'];
        if (more) next.push({ step: { id: '', url: relativeLink(more) }, user: s.user, ...(s.parent ? { parent: s.parent } : {}) });
      }
      steps = next;
    }
    // An Archive folder that the listing did not show (hidden, or not under the root).
    for (const { user, folder } of archives) {
      if (failed.has(user.id) || seen.has(`${user.id}\0${folder.id}`)) continue;
      seen.add(`${user.id}\0${folder.id}`);
      (roots.get(user.id) as Node[]).push({ user, folder, path: folder.displayName ?? 'Archive', children: [] });
    }
    const units: SourceUnit[] = [];
    const walk = (nodes: Node[]): void => {
      for (const n of [...nodes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
        units.push({
          id: `graph://${parsed.tenant.toLowerCase()}/${n.user.id}/${n.folder.id}`,
          source: spec,
          mailbox: n.user.upn,
          folder: n.path,
          ref: JSON.stringify({ user: n.user.id, folder: n.folder.id }),
        });
        walk(n.children);
      }
    };
    for (const user of users) {
      if (failed.has(user.id)) continue;
      const before = units.length;
      walk(roots.get(user.id) as Node[]);
      remaining.set(user.id, { upn: user.upn, folders: units.length - before, total: units.length - before, messages: 0 });
    }
    return units;
  };

  return {
    kind: 'graph',
    spec,
    async units(report) {
      const credential = credentialFromEnv(env, spec);
      const authority = httpsOrigin(env.PHI_SCAN_GRAPH_AUTHORITY_HOST || DEFAULT_AUTHORITY_HOST, 'PHI_SCAN_GRAPH_AUTHORITY_HOST');
      const endpoint = httpsOrigin(env.PHI_SCAN_GRAPH_ENDPOINT || DEFAULT_GRAPH_ENDPOINT, 'PHI_SCAN_GRAPH_ENDPOINT');
      const getToken = createTokenProvider(parsed.tenant, credential, authority, endpoint);
      const tenantWide = parsed.user ?? parsed.tenant;
      try {
        await getToken();
      } catch (err) {
        if (!(err instanceof GraphAuthError)) throw err;
        // Bad credentials stop this source, not the run: an error record, exit 3 (CONTRACT.md).
        report({ mailbox: tenantWide, problem: { code: 'auth-failed', message: err.message } });
        return [];
      }
      http = createGraphHttp({
        endpoint: endpoint.origin,
        getToken,
        perMailbox: Math.min(MAILBOX_CONCURRENCY, g.perMailboxConcurrency ?? MAILBOX_CONCURRENCY),
        global: g.globalConcurrency ?? 32,
        maxRetries: g.maxRetries ?? 8,
        retryBaseMs: g.retryBaseMs ?? 500,
        stats,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(g.beforeRequest ? { beforeRequest: g.beforeRequest } : {}),
      });
      let users: GraphUser[];
      try {
        if (parsed.user !== undefined) users = await resolveNamed([parsed.user], report);
        else if (g.users?.length) users = await resolveNamed(g.users, report);
        else if (g.group) users = await listAll(`/groups/${enc(g.group)}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName&$top=${USERS_PAGE}`);
        else users = await listAll(`/users?$select=id,userPrincipalName&$top=${USERS_PAGE}`);
      } catch (err) {
        if (!(err instanceof GraphHttpError)) throw err;
        const hint =
          err.status === 403
            ? g.group
              ? ' (listing group members needs GroupMember.Read.All; or name the users with --users)'
              : ' (listing users needs User.Read.All; or name the users with --users)'
            : err.status === 404 && g.group
              ? ' (no such group)'
              : '';
        report({ mailbox: tenantWide, problem: { code: err.status === 401 ? 'auth-failed' : 'source-failed', message: `${err.message}${hint}` } });
        return [];
      }
      return listFolders(users, report);
    },

    async *messages(unit: SourceUnit, after?: Checkpoint): AsyncIterable<UnitItem> {
      if (!http) throw new Error('graph: messages() before units()');
      const client = http;
      const ref = UnitRef.parse(JSON.parse(unit.ref));
      const delta = `/users/${enc(ref.user)}/mailFolders/${enc(ref.folder)}/messages/delta`;
      const first = `${delta}?changeType=created&$select=id,internetMessageId`;
      const resume = parseCursor(after?.cursor);
      const locatorOf = (id: string): string => `graph:${ref.user}/${id}`;
      const prefer = { Prefer: `odata.maxpagesize=${DELTA_PAGE_SIZE}` };

      let count = 0;
      const live = new Set<Promise<unknown>>();
      try {
        // 1. The deleted round: what left the folder since its token (§5 `@removed`, reason
        // `deleted` or `changed`). Each page's removals go to the state store with no cursor move;
        // the round's new deltaLink goes into the cursor after them, so a run killed before that
        // cursor is committed gets the same removals again.
        const firstRemoved = `${delta}?changeType=deleted&$select=id`;
        let removedLink = resume && 'removed' in resume ? resume.removed : firstRemoved;
        let removedRestarted = false;
        let removed: string;
        for (;;) {
          let page: z.infer<typeof DeltaPage>;
          try {
            page = DeltaPage.parse(await client.getJson(removedLink, ref.user, prefer));
          } catch (err) {
            // An expired sync state: a new round (it reports nothing gone; a full scan decides).
            if (err instanceof GraphHttpError && (err.status === 410 || RESYNC_CODES.has(err.code)) && !removedRestarted && removedLink !== firstRemoved) {
              removedRestarted = true;
              removedLink = firstRemoved;
              continue;
            }
            throw err;
          }
          const gone = page.value.filter((i) => i['@removed'] !== undefined).map((i) => locatorOf(i.id));
          if (gone.length > 0) yield { kind: 'cursor', cursor: '', present: { removed: gone } };
          const nextLink = page['@odata.nextLink'];
          const deltaLink = page['@odata.deltaLink'];
          if (nextLink) removedLink = nextLink;
          else if (deltaLink) {
            removed = deltaLink;
            break;
          } else throw new GraphHttpError('GET messages/delta: a page with neither nextLink nor deltaLink', 200, 'badDeltaPage');
        }
        const position: Position | undefined = resume ? ('delta' in resume ? { delta: resume.delta } : 'page' in resume ? { page: resume.page, done: resume.done } : undefined) : undefined;
        yield { kind: 'cursor', cursor: JSON.stringify({ v: 2, removed, ...position } satisfies Cursor) };

        // 2. The created round: new messages (and any @removed it reports, as above).
        let link = position ? ('delta' in position ? position.delta : position.page) : first;
        let skip = position && 'done' in position ? position.done : 0;
        let restarted = false;
        // The same item can come back more than once in a round (§5): each is read once.
        let seen = new Set<string>();
        for (;;) {
          let page: z.infer<typeof DeltaPage>;
          try {
            // Query options go on the first request only; later links carry them (§5).
            page = DeltaPage.parse(await client.getJson(link, ref.user, prefer));
          } catch (err) {
            // An expired or unknown sync state (410 SyncStateNotFound, §5): a new full round.
            if (err instanceof GraphHttpError && (err.status === 410 || RESYNC_CODES.has(err.code)) && !restarted && link !== first) {
              restarted = true;
              link = first;
              skip = 0;
              seen = new Set();
              continue;
            }
            throw err;
          }
          const items = page.value;
          const pageLink = link;
          const gone = items.filter((i) => i['@removed'] !== undefined).map((i) => locatorOf(i.id));
          if (gone.length > 0) yield { kind: 'cursor', cursor: '', present: { removed: gone } };
          // Up to MAILBOX_CONCURRENCY downloads ahead, yielded in order (the mailbox limiter holds the line).
          const jobs: { index: number; id: string; internetMessageId: string | null | undefined; job: Promise<Awaited<ReturnType<GraphHttp['getBytes']>> | GraphHttpError | null> }[] = [];
          const start = (index: number): void => {
            const item = items[index];
            if (!item) return;
            if (index < skip || item['@removed'] !== undefined || seen.has(item.id)) return;
            seen.add(item.id);
            const job = client
              .getBytes(`/users/${enc(ref.user)}/messages/${enc(item.id)}/$value`, ref.user, options.maxMessageBytes)
              .catch((err: unknown) => {
                if (err instanceof GraphHttpError) {
                  // Deleted or moved since it was listed: nothing left to scan (§7 ErrorItemNotFound).
                  return err.status === 404 ? null : err;
                }
                throw err;
              });
            live.add(job);
            jobs.push({ index, id: item.id, internetMessageId: item.internetMessageId, job });
          };
          let nextIndex = 0;
          const fill = (): void => {
            while (jobs.length < MAILBOX_CONCURRENCY && nextIndex < items.length) start(nextIndex++);
          };
          fill();
          let lastDone = skip;
          while (jobs.length > 0) {
            const head = jobs.shift() as (typeof jobs)[number];
            fill();
            const got = await head.job;
            live.delete(head.job);
            lastDone = head.index + 1;
            const cursor = JSON.stringify({ v: 2, removed, page: pageLink, done: lastDone } satisfies Cursor);
            const locator = locatorOf(head.id);
            if (got === null) {
              yield { kind: 'cursor', cursor };
              continue;
            }
            if (got instanceof GraphHttpError) {
              const header = head.internetMessageId ? `Message-ID: ${head.internetMessageId}\r\n\r\n` : '';
              yield {
                unit,
                locator,
                size: 0,
                bytes: Buffer.from(header),
                unreadable: { code: 'read-failed', message: `message could not be read: ${got.message}` },
                cursor,
              };
              continue;
            }
            count++;
            yield { unit, locator, size: got.size, bytes: got.bytes, ...(got.oversize ? { oversize: got.oversize } : {}), cursor };
          }
          skip = 0;
          const nextLink = page['@odata.nextLink'];
          const deltaLink = page['@odata.deltaLink'];
          if (nextLink) {
            link = nextLink;
            continue;
          }
          if (deltaLink) {
            yield { kind: 'cursor', cursor: JSON.stringify({ v: 2, removed, delta: deltaLink } satisfies Cursor) };
            return;
          }
          throw new GraphHttpError('GET messages/delta: a page with neither nextLink nor deltaLink', 200, 'badDeltaPage');
        }
      } finally {
        // Downloads still running when the consumer stopped (abort, error) must not reject unheard.
        for (const job of live) job.catch(() => {});
        const r = remaining.get(ref.user);
        if (r) {
          r.messages += count;
          if (--r.folders === 0) g.log?.(`graph: ${safeName(r.upn)}: ${r.total} folders, ${r.messages} messages read`);
        }
      }
    },
  };
}

/** `https://graph.microsoft.com/v1.0/users/...` → `/users/...` for a $batch step (§6: no version in step URLs). */
function relativeLink(link: string): string {
  return link.replace(/^https:\/\/[^/]+\/(?:v1\.0|beta)/, '');
}
