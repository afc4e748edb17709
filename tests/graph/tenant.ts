/** Synthetic tenants for the fake Graph server: the demo archive's mailboxes, plus generated mail. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEMO } from '../helpers/demo.js';
import { tempDir } from '../helpers/cli.js';
import { FakeGraph, makeCertificate, type FakeFolder, type FakeGraphOptions, type FakeUser } from './fake-graph-server.js';

export interface StartedFake {
  fake: FakeGraph;
  /** The server's certificate: what NODE_EXTRA_CA_CERTS points at. */
  caFile: string;
  dir: string;
  /** Environment for runCli: the Graph settings a user would set, and trust in the local certificate. */
  env(extra?: Record<string, string>): Record<string, string>;
}

export async function startFake(options: FakeGraphOptions & { appCert?: boolean } = {}): Promise<StartedFake & { appPem?: string }> {
  const dir = tempDir('phi-graph-');
  const tls = makeCertificate(dir, 'server');
  const app = options.appCert ? makeCertificate(dir, 'app', '127.0.0.2') : undefined;
  const fake = await new FakeGraph(tls, { ...options, ...(app ? { appCertPem: readFileSync(app.cert, 'utf8') } : {}) }).start();
  return {
    fake,
    caFile: tls.cert,
    dir,
    ...(app ? { appPem: app.pem } : {}),
    env: (extra = {}) => ({ ...fake.env(), NODE_EXTRA_CA_CERTS: tls.cert, ...extra }),
  };
}

/** Demo mailbox folder names → Graph display names (Exchange's English defaults). */
function graphFolderPath(relative: string): string {
  if (relative === '') return 'Inbox';
  return relative.split(path.sep).map((p) => (p === 'Sent' ? 'Sent Items' : p)).join('/');
}

/** The demo archive's EML mailboxes (intake, billing, sales) as users of the tenant. */
export function addDemoUsers(fake: FakeGraph): Map<string, FakeUser> {
  const users = new Map<string, FakeUser>();
  const root = path.join(DEMO, 'eml');
  for (const name of readdirSync(root).sort()) {
    const user = fake.addUser(`${name}@${fake.tenant}`);
    users.set(name, user);
    const walk = (dir: string, rel: string): void => {
      for (const entry of readdirSync(dir).sort()) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full, rel ? path.join(rel, entry) : entry);
        else if (entry.endsWith('.eml')) fake.addMessage(fake.folder(user, graphFolderPath(rel)), readFileSync(full));
      }
    };
    walk(path.join(root, name), '');
  }
  return users;
}

/** Synthetic SSNs that pass the rules' checks (from rules/ssn.yaml examples). */
const SSNS = ['489-36-8350', '514-14-8905', '690-05-5315'];

/** A small synthetic message with one SSN, so every message yields a `message` record. */
export function generatedMessage(n: number, tag = 'gen'): Buffer {
  return Buffer.from(
    [
      `Message-ID: <${tag}-${n}@example.test>`,
      'From: Front Desk <desk@example.test>',
      'To: Billing <billing@example.test>',
      `Subject: Intake note ${n}`,
      'Date: Mon, 04 Mar 2024 09:15:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Patient intake ${n}. SSN: ${SSNS[n % SSNS.length]} per the form.`,
      '',
    ].join('\r\n'),
  );
}

export function addGenerated(fake: FakeGraph, folder: FakeFolder, count: number, tag = 'gen', from = 0): string[] {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    fake.addMessage(folder, generatedMessage(i, tag));
    ids.push(`<${tag}-${i}@example.test>`);
  }
  return ids;
}
