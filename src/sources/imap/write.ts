/**
 * The write side of IMAP, used only by `remediate --apply` (scanning never loads it): moves a
 * message to a quarantine folder, sets a keyword on it, or deletes it, each time after finding it
 * again by UIDVALIDITY + UID and re-scanning it. A dry run goes through the same steps read-only
 * (EXAMINE, BODY.PEEK) and changes nothing.
 *
 * - move: `UID MOVE` (RFC 6851) when the server offers MOVE; otherwise `UID COPY`, `UID STORE
 *   +FLAGS (\Deleted)` and `UID EXPUNGE` of that UID only (RFC 4315 UIDPLUS). A plain EXPUNGE,
 *   which would remove every \Deleted message of the folder, is never sent: without UIDPLUS the
 *   message is skipped. Before a COPY the destination is searched for the Message-ID, so a run
 *   killed between COPY and EXPUNGE does not copy twice when resumed.
 * - tag: `UID STORE +FLAGS (KEYWORD)`.
 * - delete: `UID STORE +FLAGS (\Deleted)` + `UID EXPUNGE` (UIDPLUS required). Cannot be undone.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { ImapFlow, ImapFlowOptions, Logger } from 'imapflow';
import { ScanError } from '../../common/errors.js';
import type { Place } from '../../remediate/audit.js';
import { parseImapLocator, type PlanItem } from '../../remediate/plan.js';
import { stillHolds, type ActResult, type RemediationTarget, type RescanContext, type UndoTarget, type Verdict } from '../../remediate/target.js';
import { ENV, loadAccountsFile, singleAccount, type Account } from './accounts.js';
import { displayName } from './folders.js';
import { parseImapUri, redactSpec, type ImapTarget } from './uri.js';

export interface ImapWriteOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly accountsFile?: string;
  readonly timeoutMs?: number;
  /** Tests: every command line the client sends. */
  readonly wireLog?: (line: string) => void;
  /** Tests: behave as a server without these capabilities (e.g. MOVE). */
  readonly withoutCapabilities?: readonly string[];
}

function readCa(env: NodeJS.ProcessEnv): string | undefined {
  const file = env[ENV.ca];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScanError('config', `${ENV.ca}=${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}

/** One line from an IMAP error: its code and the server's text, never a command. */
function why(err: unknown): string {
  const e = err as { code?: string; responseText?: string; message?: string };
  return (e?.responseText ?? e?.message ?? String(err)).split('\n')[0]?.slice(0, 160) ?? 'error';
}

interface Session {
  readonly client: ImapFlow;
  /** Display name (`Archive/2019`) → server path; the hierarchy delimiter. */
  readonly folders: Map<string, string>;
  readonly delimiter: string;
}

/** Connections per mailbox of one IMAP source spec, opened as needed. */
class ImapSide {
  private readonly target: ImapTarget;
  private readonly safeSpec: string;
  private readonly accounts: Account[] | undefined;
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly secureContext;

  constructor(spec: string, private readonly options: ImapWriteOptions) {
    this.target = parseImapUri(spec);
    this.safeSpec = redactSpec(spec);
    this.accounts = this.target.user === undefined ? (options.accountsFile ? loadAccountsFile(options.accountsFile, options.env) : undefined) : undefined;
    const ca = readCa(options.env);
    this.secureContext = ca ? createSecureContext({ ca: [...rootCertificates, ca], minVersion: 'TLSv1.2' }) : undefined;
  }

  private account(mailbox: string): Account {
    if (this.target.user !== undefined) {
      const a = singleAccount(this.target.user, this.safeSpec, this.options.env);
      if (a.user !== mailbox) throw new ScanError('usage', `${this.safeSpec}: plan mailbox ${mailbox} is not this source's`);
      return a;
    }
    const a = this.accounts?.find((x) => x.user === mailbox);
    if (!a) throw new ScanError('usage', `${this.safeSpec}: mailbox ${mailbox}: give --accounts FILE listing it`);
    return a;
  }

  session(mailbox: string): Promise<Session> {
    let s = this.sessions.get(mailbox);
    if (!s) {
      s = this.connect(this.account(mailbox));
      this.sessions.set(mailbox, s);
      s.catch(() => this.sessions.delete(mailbox));
    }
    return s;
  }

  /** After a dropped connection: the next call reconnects. */
  drop(mailbox: string): void {
    const s = this.sessions.get(mailbox);
    this.sessions.delete(mailbox);
    void s?.then((x) => x.client.close()).catch(() => undefined);
  }

  private async connect(account: Account): Promise<Session> {
    const t = this.target;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const logger: Logger | false = this.options.wireLog
      ? {
          debug: (o: { src?: string; msg?: string }) => {
            if (o?.src === 'c' && typeof o.msg === 'string') this.options.wireLog?.(o.msg);
          },
          info: () => {},
          warn: () => {},
          error: () => {},
        }
      : false;
    const auth: ImapFlowOptions['auth'] =
      account.secret.kind === 'token'
        ? { user: account.login, accessToken: account.secret.value }
        : { user: account.login, pass: account.secret.value, ...(account.authzid !== undefined ? { authzid: account.authzid, loginMethod: 'AUTH=PLAIN' } : {}) };
    const { ImapFlow } = await import('imapflow'); // not at start-up: most commands write to no IMAP
    const client = new ImapFlow({
      host: t.host,
      port: t.port,
      secure: t.scheme === 'imaps',
      ...(t.scheme === 'imap' ? { doSTARTTLS: true } : {}),
      ...(net.isIP(t.host) === 0 ? { servername: t.host } : {}),
      tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(this.secureContext ? { secureContext: this.secureContext } : {}) },
      auth,
      logger,
      disableAutoIdle: true,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: Math.max(timeoutMs, 1000),
      clientInfo: { name: 'phi-scan' },
    });
    client.on('error', () => {});
    await client.connect();
    for (const c of this.options.withoutCapabilities ?? []) client.capabilities.delete(c);
    const listed = await client.list();
    const folders = new Map<string, string>();
    let delimiter = '/';
    for (const f of listed) {
      folders.set(displayName({ path: f.path, delimiter: f.delimiter }), f.path);
      if (f.path.toUpperCase() === 'INBOX' && f.delimiter) delimiter = f.delimiter;
    }
    return { client, folders, delimiter };
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await s.then((x) => x.client.logout()).catch(() => undefined);
    this.sessions.clear();
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return /NoConnection|EConnectionClosed|ECONNRESET|EPIPE|ETIMEDOUT|ETIMEOUT|closed|socket|timeout/i.test(code);
}

/** `Quarantine/PHI` in the server's hierarchy. */
function serverPath(s: Session, display: string): string {
  return s.folders.get(display) ?? display.split('/').join(s.delimiter);
}

export function imapRemediation(spec: string, ctx: RescanContext, options: ImapWriteOptions): RemediationTarget {
  const side = new ImapSide(spec, options);
  const plan = ctx.plan.header;
  const dest = plan.to ?? 'PHI-Quarantine';

  /** The UID of the message with this Message-ID in a folder (EXAMINE, SEARCH), or undefined. */
  async function findById(s: Session, folderPath: string, messageId: string): Promise<{ uid: number; uidValidity: string } | undefined> {
    if (![...s.folders.values()].includes(folderPath)) return undefined;
    const mb = await s.client.mailboxOpen(folderPath, { readOnly: true });
    const uids = await s.client.search({ header: { 'message-id': messageId } }, { uid: true });
    const uid = Array.isArray(uids) ? uids[0] : undefined;
    return uid === undefined ? undefined : { uid, uidValidity: String(mb.uidValidity) };
  }

  async function withRetry<T>(mailbox: string, f: (s: Session) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await f(await side.session(mailbox));
      } catch (err) {
        if (attempt >= 3 || !isConnectionError(err)) throw err;
        side.drop(mailbox);
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  }

  async function verify(item: PlanItem): Promise<Verdict> {
    const loc = parseImapLocator(item.locator);
    if (!loc) return { status: 'skip', reason: 'not an IMAP locator' };
    return withRetry(item.mailbox, async (s) => {
      const path = s.folders.get(loc.folder);
      if (path === undefined) return { status: 'skip', reason: 'gone: the folder no longer exists' };
      const mb = await s.client.mailboxOpen(path, { readOnly: true });
      if (String(mb.uidValidity) !== loc.uidValidity) return { status: 'skip', reason: 'changed: the folder was recreated (UIDVALIDITY differs)' };
      const msg = await s.client.fetchOne(String(loc.uid), { uid: true, flags: true, source: true }, { uid: true });
      if (!msg || !msg.source) {
        if (plan.action === 'move') {
          const there = await findById(s, serverPath(s, dest), item.messageId);
          if (there) return { status: 'already-done', to: { folder: dest, uidValidity: there.uidValidity, uid: there.uid } };
        }
        return { status: 'skip', reason: 'gone: no message with this UID in the folder' };
      }
      if (plan.action === 'tag' && msg.flags?.has(plan.keyword as string)) return { status: 'already-done' };
      return stillHolds(ctx, item, msg.source);
    });
  }

  async function act(item: PlanItem): Promise<ActResult> {
    const loc = parseImapLocator(item.locator);
    if (!loc) throw new Error('not an IMAP locator');
    const from: Place = { folder: loc.folder, locator: item.locator, uidValidity: loc.uidValidity, uid: loc.uid };
    const s = await side.session(item.mailbox);
    const c = s.client;
    const uid = String(loc.uid);
    const source = s.folders.get(loc.folder) as string;
    if (plan.action === 'tag') {
      await c.mailboxOpen(source);
      if (!(await c.messageFlagsAdd(uid, [plan.keyword as string], { uid: true }))) throw new Error('the server refused to set the keyword');
      return { from, to: { folder: loc.folder, uidValidity: loc.uidValidity, uid: loc.uid } };
    }
    if (!c.capabilities.has('UIDPLUS') && !(plan.action === 'move' && c.capabilities.has('MOVE'))) {
      // A plain EXPUNGE would remove every \Deleted message of the folder, not only this one.
      throw new Error('the server offers neither MOVE nor UIDPLUS (UID EXPUNGE): not done, to avoid a plain EXPUNGE');
    }
    if (plan.action === 'delete') {
      await c.mailboxOpen(source);
      if (!(await c.messageDelete(uid, { uid: true }))) throw new Error('the server refused to delete the message');
      return { from };
    }
    const destPath = serverPath(s, dest);
    if (![...s.folders.values()].includes(destPath)) {
      await c.mailboxCreate(destPath).catch((err: unknown) => {
        // Created meanwhile (another run) is fine.
        if (!/ALREADYEXISTS|exists/i.test(why(err) + String((err as { serverResponseCode?: string }).serverResponseCode ?? ''))) throw err;
      });
      s.folders.set(dest, destPath);
    }
    if (c.capabilities.has('MOVE')) {
      await c.mailboxOpen(source);
      const r = await c.messageMove(uid, destPath, { uid: true });
      if (!r) throw new Error('the server refused the MOVE');
      const newUid = r.uidMap?.get(loc.uid);
      return { from, to: { folder: dest, ...(r.uidValidity !== undefined ? { uidValidity: String(r.uidValidity) } : {}), ...(newUid !== undefined ? { uid: newUid } : {}) } };
    }
    // COPY + \Deleted + UID EXPUNGE; a copy left by a killed run is used, not made again.
    const copied = await findById(s, destPath, item.messageId);
    await c.mailboxOpen(source);
    let to: Place = { folder: dest, ...(copied ? { uidValidity: copied.uidValidity, uid: copied.uid } : {}) };
    if (!copied) {
      const r = await c.messageCopy(uid, destPath, { uid: true });
      if (!r) throw new Error('the server refused the COPY');
      const newUid = r.uidMap?.get(loc.uid);
      to = { folder: dest, ...(r.uidValidity !== undefined ? { uidValidity: String(r.uidValidity) } : {}), ...(newUid !== undefined ? { uid: newUid } : {}) };
    }
    if (!(await c.messageDelete(uid, { uid: true }))) throw new Error('copied, but the server refused to remove the original');
    return { from, to };
  }

  return { verify, act: (item) => act(item).catch((err: unknown) => {
    side.drop(item.mailbox);
    throw err instanceof Error && !(err as { responseText?: string }).responseText ? err : new Error(why(err));
  }), close: () => side.close() };
}

/** Undo of IMAP moves (back to the folder it came from) and tags (keyword removed). */
export function imapUndo(spec: string, options: ImapWriteOptions): UndoTarget {
  const side = new ImapSide(spec, options);
  return {
    async undo(entry) {
      const s = await side.session(entry.mailbox);
      const c = s.client;
      const at = entry.to;
      if (!at || at.uid === undefined || at.uidValidity === undefined) throw new Error('the log does not say where the message went (no UID): undo it by hand');
      const path = s.folders.get(at.folder);
      if (path === undefined) throw new Error('gone: the folder it was moved to no longer exists');
      const mb = await c.mailboxOpen(path);
      if (String(mb.uidValidity) !== at.uidValidity) throw new Error('changed: the folder was recreated (UIDVALIDITY differs)');
      const there = await c.fetchOne(String(at.uid), { uid: true, flags: true }, { uid: true });
      if (!there) throw new Error('gone: no message with this UID where it was moved');
      if (entry.action === 'tag') {
        if (!(await c.messageFlagsRemove(String(at.uid), [entry.keyword as string], { uid: true }))) throw new Error('the server refused to remove the keyword');
        return { to: at };
      }
      const back = serverPath(s, entry.from.folder);
      if (!c.capabilities.has('MOVE') && !c.capabilities.has('UIDPLUS')) throw new Error('the server offers neither MOVE nor UIDPLUS');
      let r;
      if (c.capabilities.has('MOVE')) r = await c.messageMove(String(at.uid), back, { uid: true });
      else {
        r = await c.messageCopy(String(at.uid), back, { uid: true });
        if (r && !(await c.messageDelete(String(at.uid), { uid: true }))) throw new Error('copied back, but the server refused to remove the quarantined copy');
      }
      if (!r) throw new Error('the server refused to move the message back');
      const newUid = r.uidMap?.get(at.uid);
      return { to: { folder: entry.from.folder, ...(r.uidValidity !== undefined ? { uidValidity: String(r.uidValidity) } : {}), ...(newUid !== undefined ? { uid: newUid } : {}) } };
    },
    close: () => side.close(),
  };
}
