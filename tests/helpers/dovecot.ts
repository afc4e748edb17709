/**
 * A real Dovecot (Debian's dovecot-imapd) on loopback for the IMAP tests and benchmark, started
 * per test file with its own ports and temp folder, stopped after. See tests/imap/dovecot.sh.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { ROOT } from './cli.js';
import { freePort } from './net.js';
import { registerServer } from './processes.js';

const run = promisify(execFile);
export const DOVECOT_BIN = process.env.DOVECOT_BIN ?? '/usr/sbin/dovecot';
const SCRIPT = path.join(ROOT, 'tests', 'imap', 'dovecot.sh');

export function dovecotInstalled(): boolean {
  return existsSync(DOVECOT_BIN);
}

export interface Dovecot {
  readonly host: '127.0.0.1';
  /** Plain port: STARTTLS (imap://). */
  readonly port: number;
  /** Implicit TLS port (imaps://). */
  readonly tlsPort: number;
  readonly base: string;
  /** The PEM file of the CA that signed the server certificate (PHI_SCAN_IMAP_CA). */
  readonly caFile: string;
  readonly ca: Buffer;
  stop(): Promise<void>;
}

/**
 * users: name → password; masters: master login → password (Dovecot `user*master`, SASL authzid).
 * `prepare(base)` runs before the server starts; the benchmark writes Maildirs under
 * `base/mail/USER/Maildir` with it (much faster than APPENDing 100,000 messages).
 */
export async function startDovecot(
  users: Record<string, string>,
  masters: Record<string, string> = { scanner: 'masterpw' },
  prepare?: (base: string) => void | Promise<void>,
): Promise<Dovecot> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'phi-dovecot-'));
  await prepare?.(base);
  writeFileSync(path.join(base, 'users'), Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''));
  writeFileSync(path.join(base, 'master-users'), Object.entries(masters).map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''));
  const port = await freePort();
  const tlsPort = await freePort();
  const env = { ...process.env, IMAP_TEST_PORT: String(port), IMAP_TEST_TLS_PORT: String(tlsPort), DOVECOT_BIN };
  // Dovecot runs as a daemon, no child of the test: the run's teardown checks it is gone (helpers/processes.ts).
  registerServer({ kind: 'dovecot', pidFile: path.join(base, 'run', 'master.pid') });
  await run('bash', [SCRIPT, 'start', base], { env });
  const caFile = path.join(base, 'tls', 'ca.pem');
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    base,
    caFile,
    ca: readFileSync(caFile),
    stop: async () => {
      await run('bash', [SCRIPT, 'stop', base], { env });
    },
  };
}

/** A test-side client (not the scanner): sets up fixtures with CREATE and APPEND. */
export async function adminClient(server: Dovecot, user: string, pass: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: server.host,
    port: server.tlsPort,
    secure: true,
    tls: { ca: server.ca },
    auth: { user, pass },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export async function appendAll(
  server: Dovecot,
  user: string,
  pass: string,
  folders: Record<string, readonly (Buffer | { raw: Buffer; flags?: string[] })[]>,
): Promise<void> {
  const client = await adminClient(server, user, pass);
  try {
    for (const [folder, messages] of Object.entries(folders)) {
      if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
      for (const m of messages) {
        const { raw, flags } = Buffer.isBuffer(m) ? { raw: m, flags: undefined } : m;
        await client.append(folder, raw, flags ?? []);
      }
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}
