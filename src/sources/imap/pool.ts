/**
 * IMAP connections, reused per account and capped per host: servers limit concurrent
 * connections per user and per client IP (Dovecot mail_max_userip_connections defaults to 10,
 * Gmail allows 15 per account, Exchange Online 20 per mailbox), so the scanner never opens more
 * than `perHost` to one server at once, whatever the number of accounts and folders.
 *
 * An account's connection is kept after listing its folders and reused for its folders one
 * after another; when the cap is reached, an idle connection of another account is logged out
 * to make room.
 */
import type { ImapFlow } from 'imapflow';

interface Idle {
  readonly account: string;
  readonly client: ImapFlow;
}

interface Host {
  open: number;
  idle: Idle[];
  waiters: (() => void)[];
}

export class ConnectionPool {
  private readonly hosts = new Map<string, Host>();
  private closed = false;

  constructor(private readonly perHost: number) {}

  private host(key: string): Host {
    let h = this.hosts.get(key);
    if (!h) {
      h = { open: 0, idle: [], waiters: [] };
      this.hosts.set(key, h);
    }
    return h;
  }

  /** A logged-in connection for `account` on `hostKey`; waits while the host is at its cap. */
  async acquire(hostKey: string, account: string, connect: () => Promise<ImapFlow>): Promise<ImapFlow> {
    const h = this.host(hostKey);
    for (;;) {
      if (this.closed) throw new Error('connection pool closed');
      // Connections the server closed while idle (autologout, RFC 3501 §5.4) are dropped here.
      for (const dead of h.idle.filter((i) => !i.client.usable)) this.drop(h, dead);
      const mine = h.idle.findIndex((i) => i.account === account);
      if (mine >= 0) return (h.idle.splice(mine, 1)[0] as Idle).client;
      if (h.open < this.perHost) {
        h.open++;
        try {
          return await connect();
        } catch (err) {
          h.open--;
          this.wake(h);
          throw err;
        }
      }
      // At the cap: log out another account's idle connection; its slot frees once it is closed.
      const other = h.idle[0];
      if (other) this.drop(h, other);
      await new Promise<void>((resolve) => h.waiters.push(resolve));
    }
  }

  /** Gives a connection back; a broken one (or `reusable: false`) is closed. */
  release(hostKey: string, account: string, client: ImapFlow, reusable = true): void {
    const h = this.host(hostKey);
    if (reusable && client.usable && !this.closed) {
      h.idle.push({ account, client });
      this.wake(h);
    } else this.close(h, client);
  }

  /** The account has nothing left to scan: log its idle connections out. */
  closeAccount(hostKey: string, account: string): void {
    const h = this.host(hostKey);
    for (const i of h.idle.filter((x) => x.account === account)) this.drop(h, i);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const all: Promise<void>[] = [];
    for (const h of this.hosts.values()) {
      for (const i of h.idle.splice(0)) all.push(this.close(h, i.client));
      for (const w of h.waiters.splice(0)) w();
    }
    await Promise.all(all);
  }

  private drop(h: Host, idle: Idle): void {
    const at = h.idle.indexOf(idle);
    if (at >= 0) h.idle.splice(at, 1);
    void this.close(h, idle.client);
  }

  /** The slot is free only once the connection is closed, so the server never sees more than the cap. */
  private async close(h: Host, client: ImapFlow): Promise<void> {
    await quit(client);
    h.open--;
    this.wake(h);
  }

  /** Every waiter looks again; the first to run takes the free slot, the others wait on. */
  private wake(h: Host): void {
    for (const w of h.waiters.splice(0)) w();
  }
}

/** LOGOUT politely (RFC 3501 §6.1.3), but never wait more than a second for it. */
async function quit(client: ImapFlow): Promise<void> {
  if (!client.usable) {
    client.close();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.logout().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
    }),
  ]);
  clearTimeout(timer);
  client.close();
}
