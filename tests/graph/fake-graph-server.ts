/**
 * A local HTTPS server that behaves as Microsoft Entra ID (client-credentials token endpoint)
 * and Microsoft Graph mail are documented to behave (docs/GRAPH.md, sections cited as §n),
 * with fault injection. The scanner reaches it only through PHI_SCAN_GRAPH_AUTHORITY_HOST and
 * PHI_SCAN_GRAPH_ENDPOINT, trusting its self-signed certificate via NODE_EXTRA_CA_CERTS —
 * exactly what a user of a national cloud or a proxy would set. Nothing inside the client is replaced.
 *
 * Every request is recorded (method, path, status, whether it carried our token, $batch steps),
 * so tests can prove what was and was not sent.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, constants, createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FakeMessage {
  readonly id: string;
  readonly mime: Buffer;
  readonly internetMessageId: string | null;
  /** Creation order across the tenant: a delta round returns what was created after its token. */
  readonly seq: number;
  /** When it was deleted or moved out of its folder (permanently gone, or a new item elsewhere). */
  deletedSeq?: number;
  /** When a property last changed (message-update PATCH): an unfiltered or `updated` delta round returns it again. */
  updatedSeq?: number;
  /** Outlook categories (message-update PATCH sets them). */
  categories?: string[];
}
export interface FakeFolder {
  readonly id: string;
  displayName: string;
  isHidden: boolean;
  readonly searchFolder: boolean;
  readonly wellKnown?: string;
  readonly parentId: string;
  readonly children: FakeFolder[];
  readonly messages: FakeMessage[];
  /** Bumped to expire every sync state (delta token) of the folder. */
  generation: number;
}
export interface FakeUser {
  readonly id: string;
  readonly upn: string;
  /** `not-enabled`: no Exchange Online mailbox (§2); `denied`: an application access policy excludes it (§7). */
  mailbox: 'ok' | 'not-enabled' | 'denied';
  readonly root: FakeFolder;
}
export interface Faults {
  /** Share of Graph requests (and batch steps) answered 429 with Retry-After. */
  rate429: number;
  /** Share answered 503 without Retry-After (client must back off on its own). */
  rate503: number;
  /** Share whose connection is dropped (before the headers, or in the middle of a $value body). */
  dropRate: number;
  retryAfterSeconds: number;
  /** Share of delta pages that repeat an item of the previous page (§5: items may repeat). */
  duplicateRate: number;
}
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as received. */
  readonly url: string;
  readonly at: number;
  status: number;
  /** Whether the request carried a token this server issued. */
  readonly authorized: boolean;
  readonly retryAttempt: boolean;
  batchSteps?: { method: string; url: string }[];
  fault?: '429' | '503' | '500' | 'drop' | 'drop-mid-body' | 'drop-after' | 'mailbox-concurrency';
}

export interface FakeGraphOptions {
  readonly tenant?: string;
  readonly clientId?: string;
  readonly secret?: string;
  /** PEM certificate the app may authenticate with instead of the secret. */
  readonly appCertPem?: string;
  /** Latency added to every Graph response, so concurrency shows. */
  readonly latencyMs?: number;
  /** Requests in flight per mailbox before 429 ApplicationThrottled (Exchange Online: 4). */
  readonly mailboxConcurrency?: number;
  readonly seed?: number;
}

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const unb64url = (s: string): string => Buffer.from(s, 'base64url').toString('utf8');

/** Exchange-like ids: base64 with `=`, `+` and `/`, so clients must encode them. */
export function exchangeId(kind: string, n: string): string {
  return `AAMk${Buffer.from(`${kind}:${n}:${createHash('sha1').update(`${kind}${n}`).digest('hex').slice(0, 6)}`).toString('base64')}`;
}

/** A self-signed TLS certificate for 127.0.0.1 (openssl, as in CI). */
export function makeCertificate(dir: string, name = 'server', cn = '127.0.0.1'): { cert: string; key: string; pem: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=IP:${cn}`], { stdio: 'ignore' });
  const pem = path.join(dir, `${name}.pem`);
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
  return { cert, key, pem };
}

/** mulberry32: deterministic faults for a given seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  bytes?: Buffer;
  /** Drop the connection halfway through the body. */
  dropMidBody?: boolean;
}

function graphError(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return {
    status,
    ...(headers ? { headers } : {}),
    json: { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': randomBytes(16).toString('hex'), 'client-request-id': randomBytes(16).toString('hex') } } },
  };
}

interface DeltaState {
  u: string;
  f: string;
  gen: number;
  /** Items created after this seq are new. */
  since: number;
  /** End of the round: items created up to here (state taken at the round's first request). */
  until: number;
  pos: number;
  size: number;
  /** The message-delta `changeType` filter of the first request, carried in the tokens; null: every change. */
  changeType: 'created' | 'updated' | 'deleted' | null;
  select: string | null;
}

export class FakeGraph {
  readonly tenant: string;
  readonly clientId: string;
  readonly secret: string;
  readonly users: FakeUser[] = [];
  readonly groups = new Map<string, string[]>();
  readonly requests: RecordedRequest[] = [];
  faults: Faults = { rate429: 0, rate503: 0, dropRate: 0, retryAfterSeconds: 1, duplicateRate: 0 };
  /** How many requests the mailbox concurrency limit turned away. */
  concurrencyRejections = 0;
  maxInFlightPerMailbox = 0;
  private server: Server | undefined;
  private origin = '';
  private readonly tokens = new Set<string>();
  /** Tokens of apps granted Mail.ReadWrite: the only ones a write is accepted from (403 otherwise). */
  private readonly writeTokens = new Set<string>();
  /** Other app registrations of the tenant holding Mail.ReadWrite: client id → secret. */
  private readonly writeApps = new Map<string, string>();
  private readonly inFlight = new Map<string, number>();
  private seq = 0;
  private ids = 0;
  private readonly random: () => number;
  private readonly appCert: X509Certificate | undefined;

  constructor(
    private readonly tls: { cert: string; key: string },
    private readonly options: FakeGraphOptions = {},
  ) {
    this.tenant = options.tenant ?? 'contoso.onmicrosoft.com';
    this.clientId = options.clientId ?? '11111111-2222-3333-4444-555555555555';
    this.secret = options.secret ?? `fake-secret-${randomBytes(8).toString('hex')}`;
    this.random = prng(options.seed ?? 42);
    this.appCert = options.appCertPem ? new X509Certificate(options.appCertPem) : undefined;
  }

  get url(): string {
    return this.origin;
  }

  async start(): Promise<this> {
    this.server = createServer({ cert: readFileSync(this.tls.cert), key: readFileSync(this.tls.key) }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => (this.server as Server).listen(0, '127.0.0.1', resolve));
    this.origin = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The environment a user would set to point phi-scan at this tenant. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PHI_SCAN_GRAPH_CLIENT_ID: this.clientId,
      PHI_SCAN_GRAPH_CLIENT_SECRET: this.secret,
      PHI_SCAN_GRAPH_AUTHORITY_HOST: this.origin,
      PHI_SCAN_GRAPH_ENDPOINT: this.origin,
      ...extra,
    };
  }

  /** A second app registration with the Mail.ReadWrite application permission (remediation). */
  addWriteApp(): { clientId: string; secret: string } {
    const clientId = `99999999-8888-7777-6666-${randomBytes(6).toString('hex')}`;
    const secret = `fake-write-secret-${randomBytes(8).toString('hex')}`;
    this.writeApps.set(clientId, secret);
    return { clientId, secret };
  }

  // ---------------------------------------------------------------- tenant data

  addUser(upn: string, mailbox: FakeUser['mailbox'] = 'ok'): FakeUser {
    const id = `${(++this.ids).toString(16).padStart(8, '0')}-aaaa-bbbb-cccc-${createHash('sha1').update(upn).digest('hex').slice(0, 12)}`;
    const root = this.newFolder('Top of Information Store', id, '', { wellKnown: 'msgfolderroot' });
    const user: FakeUser = { id, upn, mailbox, root };
    for (const [name, wk] of [['Inbox', 'inbox'], ['Sent Items', 'sentitems'], ['Deleted Items', 'deleteditems'], ['Drafts', 'drafts'], ['Archive', 'archive']] as const) {
      root.children.push(this.newFolder(name, id, root.id, { wellKnown: wk }));
    }
    this.users.push(user);
    return user;
  }

  private newFolder(displayName: string, userId: string, parentId: string, extra: { wellKnown?: string; hidden?: boolean; search?: boolean } = {}): FakeFolder {
    return {
      id: exchangeId(`folder/${userId}`, String(++this.ids)),
      displayName,
      isHidden: extra.hidden ?? false,
      searchFolder: extra.search ?? false,
      ...(extra.wellKnown ? { wellKnown: extra.wellKnown } : {}),
      parentId,
      children: [],
      messages: [],
      generation: 1,
    };
  }

  /** The folder at a display-name path (`Inbox/Patients`), created as needed. */
  folder(user: FakeUser, folderPath: string, extra: { hidden?: boolean; search?: boolean } = {}): FakeFolder {
    let f = user.root;
    for (const name of folderPath.split('/')) {
      let child = f.children.find((c) => c.displayName === name);
      if (!child) {
        child = this.newFolder(name, user.id, f.id, extra);
        f.children.push(child);
      }
      f = child;
    }
    return f;
  }

  addMessage(folder: FakeFolder, mime: Buffer): FakeMessage {
    const header = /^message-id:[ \t]*(<[^>\r\n]+>)/im.exec(mime.subarray(0, 8192).toString('latin1'));
    const m: FakeMessage = { id: exchangeId('msg', String(++this.ids)), mime, internetMessageId: header?.[1] ?? null, seq: ++this.seq };
    folder.messages.push(m);
    return m;
  }

  /** A permanent delete (a purge, or a user's Shift+Delete): the folder's delta reports it `@removed`. */
  deleteMessage(folder: FakeFolder, id: string): void {
    const m = folder.messages.find((x) => x.id === id);
    if (m) m.deletedSeq = ++this.seq;
  }

  /** A property change (Outlook categories), as message-update does it: the message is `updated` in delta. */
  setCategories(msg: FakeMessage, categories: readonly string[]): void {
    msg.categories = [...categories];
    msg.updatedSeq = ++this.seq;
  }

  /** A user's move (drag and drop): as Exchange does it, see moveMessage below. Returns the new item. */
  userMove(folder: FakeFolder, id: string, to: FakeFolder): FakeMessage {
    const m = folder.messages.find((x) => x.id === id && x.deletedSeq === undefined);
    if (!m) throw new Error(`no message ${id} in ${folder.displayName}`);
    return this.moveMessage(m, to);
  }

  /** Every delta token of every folder becomes unknown (410 SyncStateNotFound). */
  expireDeltaTokens(): void {
    for (const u of this.users) for (const f of allFolders(u.root)) f.generation++;
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.origin);
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      at: Date.now(),
      status: 0,
      authorized: this.tokens.has(token),
      retryAttempt: req.headers['retry-attempt'] !== undefined,
    };
    this.requests.push(record);

    // Entra ID: not throttled, not faulted (MSAL's own retries are not what is under test).
    if (!url.pathname.startsWith('/v1.0/')) {
      const reply = this.identity(req.method ?? '', url, body);
      return this.send(res, record, reply);
    }
    const fault = this.pickFault(url.pathname);
    if (fault === 'drop') {
      record.fault = 'drop';
      record.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault && fault !== 'drop-after') return this.send(res, record, this.faultReply(record, fault));
    if (!record.authorized) {
      return this.send(res, record, graphError(401, 'InvalidAuthenticationToken', token ? 'CompactToken parsing failed with error code: 80049217' : 'Access token is empty.'));
    }
    const graphPath = url.pathname.slice('/v1.0'.length);
    if (req.method === 'POST' && graphPath === '/$batch') return this.send(res, record, this.batch(record, body));
    const method = req.method ?? 'GET';
    if (!['GET', 'POST', 'PATCH', 'DELETE'].includes(method)) return this.send(res, record, graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'));
    // An app with Mail.Read only: every write is refused, as Exchange does.
    if (method !== 'GET' && !this.writeTokens.has(token)) return this.send(res, record, graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'));

    const mailbox = this.mailboxOf(graphPath);
    const limit = this.options.mailboxConcurrency ?? 4;
    if (mailbox) {
      const n = (this.inFlight.get(mailbox) ?? 0) + 1;
      if (n > limit) {
        this.concurrencyRejections++;
        record.fault = 'mailbox-concurrency';
        return this.send(res, record, graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': '1' }));
      }
      this.inFlight.set(mailbox, n);
      this.maxInFlightPerMailbox = Math.max(this.maxInFlightPerMailbox, n);
    }
    try {
      const reply = method === 'GET' ? this.route(graphPath, url.searchParams, req.headers) : this.writeRoute(method, graphPath, body);
      if (fault === 'drop-after') {
        // The request was carried out, and its answer is lost with the connection.
        record.fault = 'drop-after';
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (reply.bytes && fault === undefined && this.random() < this.faults.dropRate / 2) reply.dropMidBody = true;
      // Hold the mailbox slot while the response is being written (latency included).
      if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
      await this.send(res, record, reply);
    } finally {
      if (mailbox) this.inFlight.set(mailbox, (this.inFlight.get(mailbox) ?? 1) - 1);
    }
  }

  /** The next `count` requests whose path matches get this fault, whatever the rates say. */
  forceFault(kind: '429' | '503' | '500' | 'drop' | 'drop-after', match: RegExp, count = 1): void {
    this.forced.push({ kind, match, left: count });
  }
  private readonly forced: { kind: '429' | '503' | '500' | 'drop' | 'drop-after'; match: RegExp; left: number }[] = [];

  private pickFault(pathname: string): '429' | '503' | '500' | 'drop' | 'drop-after' | undefined {
    const forced = this.forced.find((f) => f.left > 0 && f.match.test(pathname));
    if (forced) {
      forced.left--;
      return forced.kind;
    }
    const r = this.random();
    const f = this.faults;
    if (r < f.rate429) return '429';
    if (r < f.rate429 + f.rate503) return '503';
    if (r < f.rate429 + f.rate503 + f.dropRate / 2) return 'drop';
    return undefined;
  }

  private faultReply(record: RecordedRequest, fault: '429' | '503' | '500'): Reply {
    record.fault = fault;
    if (fault === '500') return graphError(500, 'generalException', 'An unexpected error occurred.');
    // §7: 429 carries Retry-After (seconds); 503 here does not, so the client must back off itself.
    return fault === '429'
      ? graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': String(this.faults.retryAfterSeconds) })
      : graphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable.');
  }

  private async send(res: ServerResponse, record: RecordedRequest, reply: Reply): Promise<void> {
    record.status = reply.status;
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    let payload: Buffer;
    if (reply.status === 204) {
      payload = Buffer.alloc(0);
    } else if (reply.bytes) {
      payload = reply.bytes;
      headers['Content-Type'] ??= 'text/plain';
    } else {
      payload = Buffer.from(JSON.stringify(reply.json ?? {}));
      headers['Content-Type'] ??= 'application/json';
    }
    if (reply.status !== 204) headers['Content-Length'] = String(payload.length);
    res.writeHead(reply.status, headers);
    if (reply.dropMidBody && payload.length > 1) {
      record.fault = 'drop-mid-body';
      await new Promise<void>((resolve) => res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => resolve()));
      res.socket?.destroy();
      return;
    }
    res.end(payload);
  }

  // ---------------------------------------------------------------- Entra ID (§1)

  private identity(method: string, url: URL, body: string): Reply {
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
    const tenantErr = (): Reply => ({ status: 400, json: { error: 'invalid_request', error_description: 'AADSTS90002: Tenant not found.', error_codes: [90002] } });
    if (!m) return { status: 404, json: { error: 'not_found' } };
    const tenant = decodeURIComponent(m[1] ?? '');
    if (tenant !== this.tenant) return tenantErr();
    const base = `${this.origin}/${tenant}`;
    if (m[2]?.startsWith('v2.0') && method === 'GET') {
      return {
        status: 200,
        json: {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          issuer: `${base}/v2.0`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          response_types_supported: ['code', 'id_token', 'token'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        },
      };
    }
    if (method !== 'POST') return { status: 405, json: { error: 'invalid_request' } };
    const form = new URLSearchParams(body);
    const fail = (status: number, error: string, code: number, text: string): Reply => ({
      status,
      json: { error, error_description: `AADSTS${code}: ${text}\r\nTrace ID: x\r\nCorrelation ID: y\r\nTimestamp: ${new Date().toISOString()}`, error_codes: [code] },
    });
    if (form.get('grant_type') !== 'client_credentials') return fail(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    const writeSecret = this.writeApps.get(clientId);
    if (clientId !== this.clientId && writeSecret === undefined) return fail(400, 'unauthorized_client', 700016, 'Application was not found in the directory.');
    if (!(form.get('scope') ?? '').split(' ').every((s) => s.endsWith('/.default'))) {
      return fail(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.');
    }
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (!this.verifyAssertion(assertion, `${base}/oauth2/v2.0/token`)) return fail(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    } else if (form.get('client_secret') === null) {
      return fail(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    } else if (form.get('client_secret') !== (writeSecret ?? this.secret)) {
      return fail(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    const token = `fake-at-${randomBytes(24).toString('base64url')}`;
    this.tokens.add(token);
    if (writeSecret !== undefined) this.writeTokens.add(token);
    return { status: 200, json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
  }

  /** RFC 7523 client assertion, signed with the registered certificate's key (PS256 or RS256). */
  private verifyAssertion(jwt: string, audience: string): boolean {
    if (!this.appCert) return false;
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) return false;
    const header = JSON.parse(unb64url(h)) as { alg?: string; 'x5t#S256'?: string; x5t?: string };
    const payload = JSON.parse(unb64url(p)) as { aud?: string; iss?: string; sub?: string; exp?: number };
    const der = this.appCert.raw;
    const t256 = createHash('sha256').update(der).digest('base64url');
    const t1 = createHash('sha1').update(der).digest('base64url');
    if (header['x5t#S256'] !== t256 && header.x5t !== t1) return false;
    if (payload.aud !== audience || payload.iss !== this.clientId || payload.sub !== this.clientId) return false;
    if (!payload.exp || payload.exp * 1000 < Date.now()) return false;
    const key = createPublicKey(this.appCert.publicKey.export({ format: 'pem', type: 'spki' }));
    const data = Buffer.from(`${h}.${p}`);
    const sig = Buffer.from(s, 'base64url');
    if (header.alg === 'PS256') return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    if (header.alg === 'RS256') return verify('sha256', data, key, sig);
    return false;
  }

  // ---------------------------------------------------------------- Graph routes

  private mailboxOf(graphPath: string): string | undefined {
    const m = /^\/users\/([^/]+)\/(mailFolders|messages)/.exec(graphPath);
    return m ? this.findUser(decodeURIComponent(m[1] ?? ''))?.id : undefined;
  }

  private findUser(key: string): FakeUser | undefined {
    const k = key.toLowerCase();
    return this.users.find((u) => u.id === key || u.upn.toLowerCase() === k);
  }

  private batch(record: RecordedRequest, body: string): Reply {
    let parsed: { requests?: { id?: unknown; method?: unknown; url?: unknown }[] };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return graphError(400, 'BadRequest', 'Invalid batch payload format.');
    }
    const steps = parsed.requests ?? [];
    record.batchSteps = steps.map((s) => ({ method: String(s.method), url: String(s.url) }));
    // json-batching.md: at most 20 requests, ids unique, else the whole batch is 400.
    if (steps.length > 20) return graphError(400, 'BadRequest', 'Number of requests exceeds the maximum of 20.');
    if (new Set(steps.map((s) => String(s.id))).size !== steps.length) return graphError(400, 'BadRequest', 'Batch request contains duplicate ids.');
    const responses = steps.map((s) => {
      const id = String(s.id);
      const stepUrl = String(s.url);
      if (String(s.method).toUpperCase() !== 'GET') return { id, status: 405, body: graphError(405, 'Request_BadRequest', 'Method not allowed.').json };
      // §6: step URLs are relative and carry no version.
      if (/^\/?(v1\.0|beta)\//.test(stepUrl)) return { id, status: 400, body: graphError(400, 'BadRequest', "Resource not found for the segment 'v1.0'.").json };
      const r = this.random();
      if (r < this.faults.rate429) {
        const reply = this.faultReply({} as RecordedRequest, '429');
        return { id, status: 429, headers: reply.headers, body: reply.json };
      }
      const u = new URL(stepUrl.startsWith('/') ? stepUrl : `/${stepUrl}`, this.origin);
      const reply = this.route(u.pathname, u.searchParams, {});
      const headers = { 'Content-Type': reply.bytes ? 'text/plain' : 'application/json', ...(reply.headers ?? {}) };
      // Bodies that are not JSON come back base64-encoded (§6).
      return { id, status: reply.status, headers, body: reply.bytes ? reply.bytes.toString('base64') : reply.json };
    });
    // Responses may come back in any order (§6).
    responses.reverse();
    return { status: 200, json: { responses } };
  }

  private route(p: string, q: URLSearchParams, headers: IncomingMessage['headers']): Reply {
    let m: RegExpExecArray | null;
    if (p === '/users') return this.listUsers(this.users, q, '/users');
    if ((m = /^\/groups\/([^/]+)\/transitiveMembers\/microsoft\.graph\.user$/.exec(p))) {
      const members = this.groups.get(decodeURIComponent(m[1] ?? ''));
      if (!members) return graphError(404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`);
      return this.listUsers(this.users.filter((u) => members.includes(u.id)), q, p);
    }
    if ((m = /^\/users\/([^/]+)$/.exec(p))) {
      const user = this.findUser(decodeURIComponent(m[1] ?? ''));
      if (!user) return graphError(404, 'Request_ResourceNotFound', `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`);
      return { status: 200, json: select({ id: user.id, userPrincipalName: user.upn, displayName: user.upn.split('@')[0], mail: user.mailbox === 'ok' ? user.upn : null }, q.get('$select')) };
    }
    if ((m = /^\/users\/([^/]+)\/(.*)$/.exec(p))) {
      const key = decodeURIComponent(m[1] ?? '');
      const user = this.findUser(key);
      if (!user) return graphError(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`);
      if (user.mailbox === 'not-enabled') return graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      if (user.mailbox === 'denied') return graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      return this.mailRoute(user, m[2] ?? '', q, headers);
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${p.split('/')[1] ?? ''}'.`);
  }

  private listUsers(users: FakeUser[], q: URLSearchParams, base: string): Reply {
    const top = Number(q.get('$top') ?? 100);
    if (!Number.isInteger(top) || top < 1 || top > 999) return graphError(400, 'Request_UnsupportedQuery', `Invalid page size specified: '${q.get('$top')}'. Must be between 1 and 999 inclusive.`);
    const skip = q.has('$skiptoken') ? Number(unb64url(q.get('$skiptoken') ?? '')) : 0;
    const page = users.slice(skip, skip + top).map((u) => select({ id: u.id, userPrincipalName: u.upn, displayName: u.upn.split('@')[0], mail: u.mailbox === 'ok' ? u.upn : null }, q.get('$select')));
    const json: Record<string, unknown> = { '@odata.context': `${this.origin}/v1.0/$metadata#users`, value: page };
    if (skip + top < users.length) {
      const next = new URLSearchParams(q);
      next.set('$skiptoken', b64url(String(skip + top)));
      json['@odata.nextLink'] = `${this.origin}/v1.0${base}?${decodeURIComponent(next.toString())}`;
    }
    return { status: 200, json };
  }

  private findFolder(user: FakeUser, key: string): FakeFolder | undefined {
    return allFolders(user.root).find((f) => f.id === key || f.wellKnown === key.toLowerCase());
  }

  private folderJson(f: FakeFolder, q: URLSearchParams): Record<string, unknown> {
    const visible = f.children.filter((c) => !c.isHidden || q.get('includeHiddenFolders') === 'true');
    const full = {
      ...(f.searchFolder ? { '@odata.type': '#microsoft.graph.mailSearchFolder' } : {}),
      id: f.id,
      displayName: f.displayName,
      parentFolderId: f.parentId,
      childFolderCount: visible.length,
      unreadItemCount: 0,
      totalItemCount: f.messages.filter((x) => x.deletedSeq === undefined).length,
      isHidden: f.isHidden,
    };
    return select(full, q.get('$select'));
  }

  private mailRoute(user: FakeUser, rest: string, q: URLSearchParams, headers: IncomingMessage['headers']): Reply {
    let m: RegExpExecArray | null;
    // §3: /mailFolders lists the root's children; /childFolders a folder's; hidden only on request.
    if (rest === 'mailFolders' || (m = /^mailFolders\/([^/]+)\/childFolders$/.exec(rest))) {
      const parent = rest === 'mailFolders' ? user.root : this.findFolder(user, decodeURIComponent((/^mailFolders\/([^/]+)/.exec(rest) ?? [])[1] ?? ''));
      if (!parent) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const children = parent.children.filter((c) => !c.isHidden || q.get('includeHiddenFolders') === 'true');
      const top = Math.min(Number(q.get('$top') ?? 10), 1000);
      const skip = Number(q.get('$skip') ?? 0);
      const json: Record<string, unknown> = { value: children.slice(skip, skip + top).map((c) => this.folderJson(c, q)) };
      if (skip + top < children.length) {
        const next = new URLSearchParams(q);
        next.set('$skip', String(skip + top));
        json['@odata.nextLink'] = `${this.origin}/v1.0/users/${encodeURIComponent(user.id)}/${rest}?${decodeURIComponent(next.toString())}`;
      }
      return { status: 200, json };
    }
    if ((m = /^mailFolders\/([^/]+)$/.exec(rest))) {
      const f = this.findFolder(user, decodeURIComponent(m[1] ?? ''));
      return f ? { status: 200, json: this.folderJson(f, q) } : graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
    // §5: delta, first request by id, later by the links we hand out (OData key syntax).
    if ((m = /^mailFolders(?:\/([^/(]+)|\('([^']+)'\))\/messages\/delta$/.exec(rest))) {
      const f = this.findFolder(user, decodeURIComponent(m[1] ?? m[2] ?? ''));
      if (!f) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      return this.delta(user, f, q, headers);
    }
    // message-get: the properties asked for with $select.
    if ((m = /^messages\/([^/]+)$/.exec(rest))) {
      const found = this.findMessage(user, decodeURIComponent(m[1] ?? ''));
      return found ? { status: 200, json: select(messageJson(found.msg, found.folder), q.get('$select')) } : graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
    // message list of a folder, with the $filter on internetMessageId that remediation uses.
    if ((m = /^mailFolders\/([^/]+)\/messages$/.exec(rest))) {
      const f = this.findFolder(user, decodeURIComponent(m[1] ?? ''));
      if (!f) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const filter = q.get('$filter');
      let wanted: string | undefined;
      if (filter !== null) {
        const fm = /^internetMessageId eq '((?:[^']|'')*)'$/.exec(filter);
        if (!fm) return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
        wanted = (fm[1] ?? '').replace(/''/g, "'");
      }
      const live = f.messages.filter((x) => x.deletedSeq === undefined && (wanted === undefined || x.internetMessageId === wanted));
      return { status: 200, json: { value: live.map((x) => select(messageJson(x, f), q.get('$select'))) } };
    }
    if ((m = /^(?:mailFolders\/[^/]+\/)?messages\/([^/]+)\/\$value$/.exec(rest))) {
      const id = decodeURIComponent(m[1] ?? '');
      for (const f of allFolders(user.root)) {
        const msg = f.messages.find((x) => x.id === id && x.deletedSeq === undefined);
        if (msg) return { status: 200, bytes: msg.mime, headers: { 'Content-Type': 'text/plain' } };
      }
      return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${rest.split('/')[0] ?? ''}'.`);
  }

  private findMessage(user: FakeUser, id: string): { msg: FakeMessage; folder: FakeFolder } | undefined {
    for (const folder of allFolders(user.root)) {
      const msg = folder.messages.find((x) => x.id === id && x.deletedSeq === undefined);
      if (msg) return { msg, folder };
    }
    return undefined;
  }

  /** A move as Exchange does it: gone from the source folder (delta @removed), a new item with a new id in the destination. */
  private moveMessage(msg: FakeMessage, to: FakeFolder): FakeMessage {
    msg.deletedSeq = ++this.seq;
    const moved: FakeMessage = { id: exchangeId('msg', String(++this.ids)), mime: msg.mime, internetMessageId: msg.internetMessageId, seq: ++this.seq, ...(msg.categories ? { categories: [...msg.categories] } : {}) };
    to.messages.push(moved);
    return moved;
  }

  /**
   * The write endpoints remediation uses, as documented (learn.microsoft.com/graph/api):
   * message-move (POST …/messages/{id}/move {destinationId}: 201 and the moved message, with a
   * new id), message-update (PATCH …/messages/{id}: 200), message-delete (DELETE: 204; the item
   * goes to Deleted Items), user-post-mailfolders and mailfolder-post-childfolders (POST: 201;
   * 409 ErrorFolderExists for a name taken among the siblings).
   */
  private writeRoute(method: string, p: string, body: string): Reply {
    const m0 = /^\/users\/([^/]+)\/(.*)$/.exec(p);
    const user = m0 ? this.findUser(decodeURIComponent(m0[1] ?? '')) : undefined;
    if (!m0 || !user) return graphError(404, 'ErrorInvalidUser', 'The requested user is invalid.');
    if (user.mailbox !== 'ok') return graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    const rest = m0[2] ?? '';
    let json: Record<string, unknown> = {};
    try {
      json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      return graphError(400, 'RequestBodyRead', 'Invalid JSON in the request body.');
    }
    const notFound = graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    let m: RegExpExecArray | null;
    if (method === 'POST' && (rest === 'mailFolders' || (m = /^mailFolders\/([^/]+)\/childFolders$/.exec(rest)))) {
      const parent = rest === 'mailFolders' ? user.root : this.findFolder(user, decodeURIComponent((/^mailFolders\/([^/]+)/.exec(rest) ?? [])[1] ?? ''));
      if (!parent) return notFound;
      const name = json.displayName;
      if (typeof name !== 'string' || name === '') return graphError(400, 'ErrorInvalidRequest', 'displayName is required.');
      if (parent.children.some((c) => c.displayName.toLowerCase() === name.toLowerCase())) return graphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
      const f = this.newFolder(name, user.id, parent.id, { hidden: json.isHidden === true });
      parent.children.push(f);
      return { status: 201, json: this.folderJson(f, new URLSearchParams()) };
    }
    if ((m = /^messages\/([^/]+)\/move$/.exec(rest)) && method === 'POST') {
      const found = this.findMessage(user, decodeURIComponent(m[1] ?? ''));
      const to = typeof json.destinationId === 'string' ? this.findFolder(user, json.destinationId) : undefined;
      if (!found || !to) return notFound;
      const moved = this.moveMessage(found.msg, to);
      return { status: 201, json: messageJson(moved, to) };
    }
    if ((m = /^messages\/([^/]+)$/.exec(rest))) {
      const found = this.findMessage(user, decodeURIComponent(m[1] ?? ''));
      if (!found) return notFound;
      if (method === 'PATCH') {
        if (json.categories !== undefined) {
          if (!Array.isArray(json.categories) || !json.categories.every((c) => typeof c === 'string')) return graphError(400, 'ErrorInvalidRequest', 'categories is a collection of strings.');
          this.setCategories(found.msg, json.categories as string[]);
        }
        return { status: 200, json: messageJson(found.msg, found.folder) };
      }
      if (method === 'DELETE') {
        this.moveMessage(found.msg, this.findFolder(user, 'deleteditems') as FakeFolder);
        return { status: 204 };
      }
    }
    return graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
  }

  private delta(user: FakeUser, f: FakeFolder, q: URLSearchParams, headers: IncomingMessage['headers']): Reply {
    const tokenParam = q.get('$skiptoken') ?? q.get('$deltatoken');
    let state: DeltaState;
    const prefer = /odata\.maxpagesize=(\d+)/.exec(String(headers.prefer ?? ''));
    const size = Math.min(prefer ? Number(prefer[1]) : 10, 1000);
    if (tokenParam) {
      try {
        state = JSON.parse(unb64url(tokenParam)) as DeltaState;
      } catch {
        return graphError(400, 'BadRequest', 'The delta token is malformed.');
      }
      if (state.u !== user.id || state.f !== f.id) return graphError(400, 'BadRequest', 'The delta token does not match the resource.');
      if (state.gen !== f.generation) return graphError(410, 'SyncStateNotFound', `The sync state generation is not found; generation=${state.gen}.`);
      if (q.has('$deltatoken')) state = { ...state, until: this.seq, pos: 0 }; // a new round of changes since the token
    } else {
      const changeType = q.get('changeType');
      if (changeType !== null && changeType !== 'created' && changeType !== 'updated' && changeType !== 'deleted') {
        return graphError(400, 'ErrorInvalidUrlQuery', `The value '${changeType}' of the query parameter 'changeType' is not supported.`);
      }
      state = { u: user.id, f: f.id, gen: f.generation, since: 0, until: this.seq, pos: 0, size, changeType, select: q.get('$select') };
    }
    // §5 and message-delta: what happened in (since, until]. A message created in it and still
    // there is `created`; one there before and changed in it is `updated` (returned in full, like a
    // created one); one there before and deleted or moved out in it is `@removed` (reason deleted).
    // A round whose token has no `since` (the first) returns what is there, as created.
    type Item = Record<string, unknown>;
    const items: Item[] = [];
    const wants = (kind: 'created' | 'updated' | 'deleted'): boolean => state.changeType === null || state.changeType === kind;
    const within = (seq: number | undefined): boolean => seq !== undefined && seq > state.since && seq <= state.until;
    for (const msg of f.messages) {
      const there = msg.deletedSeq === undefined || msg.deletedSeq > state.until;
      const full = (): Item => select({ '@odata.type': '#microsoft.graph.message', id: msg.id, internetMessageId: msg.internetMessageId, subject: '(subject)' }, state.select, ['@odata.type']);
      if (within(msg.seq)) {
        if (there && wants('created')) items.push(full());
      } else if (msg.seq <= state.since) {
        if (within(msg.deletedSeq)) {
          if (wants('deleted')) items.push({ id: msg.id, '@removed': { reason: 'deleted' } });
        } else if (there && within(msg.updatedSeq) && wants('updated')) items.push(full());
      }
    }
    const page = items.slice(state.pos, state.pos + state.size);
    // §5: the same item may come back more than once in a round.
    if (state.pos > 0 && this.random() < this.faults.duplicateRate) {
      const again = items[state.pos - 1];
      if (again) page.unshift(again);
    }
    const link = `${this.origin}/v1.0/users/${encodeURIComponent(user.id)}/mailFolders('${encodeURIComponent(f.id)}')/messages/delta`;
    const json: Record<string, unknown> = { '@odata.context': `${this.origin}/v1.0/$metadata#Collection(message)`, value: page };
    if (state.pos + state.size < items.length) {
      json['@odata.nextLink'] = `${link}?$skiptoken=${b64url(JSON.stringify({ ...state, pos: state.pos + state.size }))}`;
    } else {
      json['@odata.deltaLink'] = `${link}?$deltatoken=${b64url(JSON.stringify({ ...state, since: state.until, pos: 0 }))}`;
    }
    return { status: 200, json, headers: prefer ? { 'Preference-Applied': `odata.maxpagesize=${state.size}` } : {} };
  }
}

function messageJson(m: FakeMessage, f: FakeFolder): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.message', id: m.id, internetMessageId: m.internetMessageId, parentFolderId: f.id, subject: '(subject)', categories: m.categories ?? [] };
}

export function allFolders(root: FakeFolder): FakeFolder[] {
  return [root, ...root.children.flatMap(allFolders)];
}

/** `$select`: only the named properties (id always comes back, as Graph does). */
function select(obj: Record<string, unknown>, list: string | null, keep: string[] = []): Record<string, unknown> {
  if (!list) return obj;
  const names = new Set([...list.split(','), 'id', ...keep, '@odata.type'].map((s) => s.trim()));
  return Object.fromEntries(Object.entries(obj).filter(([k]) => names.has(k)));
}
