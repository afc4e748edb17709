/**
 * Hardening "never leak", item 10 for IMAP: a folder named after a person (`Roe SSN 512-84-3921`)
 * on a real Dovecot. Its name is masked in every record and report, and the state database (with
 * its WAL and SHM) holds neither the name nor the unit id made of it: checkpoints are keyed digests.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, requireOrSkip, runCli, tempDir } from './helpers/cli.js';
import { appendAll, dovecotInstalled, startDovecot, type Dovecot } from './helpers/dovecot.js';

const HAVE_DOVECOT = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled());
const NEEDLES = ['512-84-3921', '512843921', '489-36-8350', '489368350'];
const FOLDER = 'Roe SSN 512-84-3921';

function message(id: string): Buffer {
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\nSSN: 489-36-8350\r\n`,
  );
}

describe.runIf(HAVE_DOVECOT)('an IMAP folder named after a person', () => {
  let server: Dovecot;
  beforeAll(async () => {
    server = await startDovecot({ roe: 'roe-pw' });
    await appendAll(server, 'roe', 'roe-pw', { INBOX: [message('roe-1')], [FOLDER]: [message('roe-2')] });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('is masked in records and reports; the state database holds neither it nor its unit id', { timeout: 300_000 }, async () => {
    const state = tempDir('phi-state-');
    const env = { PHI_SCAN_IMAP_CA: server.caFile, PHI_SCAN_IMAP_PASSWORD: 'roe-pw', PHI_SCAN_STATE: state };
    const source = `imaps://roe@127.0.0.1:${server.tlsPort}`;
    const scanned = await runCli(['scan', source, '--format', 'jsonl', '--since-last'], { env });
    expect(scanned.code).toBe(1);
    const folders = jsonLines(scanned.stdout)
      .filter((r) => r.type === 'message')
      .map((r) => r.folder);
    expect(folders.sort()).toEqual(['INBOX', 'Roe SSN •••-••-3921']);
    const reports = await Promise.all(['jsonl', 'json', 'csv', 'html'].map((f) => runCli(['report', '--format', f], { env })));
    for (const r of [scanned, ...reports]) expect(NEEDLES.filter((n) => (r.stdout + r.stderr).includes(n))).toEqual([]);
    const db = path.join(state, 'state.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) {
      if (existsSync(f)) expect(NEEDLES.filter((n) => readFileSync(f).includes(Buffer.from(n))), f).toEqual([]);
    }
    const conn = new Database(db, { readonly: true });
    try {
      const ids = (conn.prepare('SELECT unit_id FROM checkpoints').all() as { unit_id: string }[]).map((r) => r.unit_id);
      expect(ids.length).toBeGreaterThanOrEqual(2); // INBOX, the folder, and any the server made itself
      for (const id of ids) expect(id).toMatch(/^h:[0-9a-f]{32}$/);
    } finally {
      conn.close();
    }
    // and --since-last still finds its checkpoints: nothing new
    const again = await runCli(['scan', source, '--format', 'jsonl', '--since-last'], { env });
    expect(jsonLines(again.stdout).filter((r) => r.type === 'message')).toEqual([]);
  });
});
