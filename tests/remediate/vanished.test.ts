/**
 * The picture follows the mailbox between full scans (real Dovecot): a `--since-last` scan of an
 * IMAP folder whose UIDVALIDITY is unchanged learns, with a read-only UID SEARCH, which UIDs it
 * read before are still there; a message expunged meanwhile is gone (report, diff). A folder whose
 * UIDVALIDITY changed marks nothing gone this way (its UIDs mean nothing now).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCursorAdvance, type CursorAdvance, type UnitItem } from '../../src/model/message.js';
import { uidSetMembers } from '../../src/remediate/vanished.js';
import { createSource } from '../../src/sources/index.js';
import { jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { adminClient, appendAll, dovecotInstalled, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { checkpointCursor } from '../helpers/state.js';

const HAVE_DOVECOT = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled());
const USERS = { owner: 'owner-pw' };
/** Structurally valid, made-up SSNs: planted, and searched for in every output. */
const SSNS = ['489-36-8350', '512-84-3921', '401-52-7713'];
/** What a scan may send (tests/sources/imap.test.ts, the read-only proof): no SELECT, STORE, COPY, MOVE, EXPUNGE. */
const READ_ONLY = new Set(['STARTTLS', 'CAPABILITY', 'ID', 'AUTHENTICATE', 'LOGIN', 'NAMESPACE', 'ENABLE', 'LIST', 'LSUB', 'EXAMINE', 'SEARCH', 'FETCH', 'LOGOUT', 'NOOP', 'COMPRESS']);

function message(id: string, body: string): Buffer {
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\n${body}\r\n`,
  );
}

describe('uidSetMembers (an RFC 3501 sequence-set of UIDs)', () => {
  it.each([
    ['1:3,5,7:8', [1, 2, 3, 5, 7, 8], [0, 4, 6, 9, 100]],
    ['', [], [1, 2]],
    ['42', [42], [41, 43]],
    ['9:7,1', [1, 7, 8, 9], [2, 6, 10]],
  ])('%s', (set, members, others) => {
    const has = uidSetMembers(set);
    for (const u of members) expect(has(u), String(u)).toBe(true);
    for (const u of others) expect(has(u), String(u)).toBe(false);
  });
});

describe.runIf(HAVE_DOVECOT)('--since-last follows expunges over IMAP (real Dovecot)', () => {
  let server: Dovecot;
  beforeAll(async () => {
    server = await startDovecot(USERS);
  });
  afterAll(async () => {
    await server?.stop().catch(async () => {
      await new Promise((r) => setTimeout(r, 2000));
      await server.stop();
    });
  });

  it('a message expunged from a folder with the same UIDVALIDITY is gone after a --since-last scan; a folder with a new UIDVALIDITY marks nothing gone; the scan stays read-only', { timeout: 300_000 }, async () => {
    await appendAll(server, 'owner', USERS.owner, {
      INBOX: [message('p1', `Patient SSN: ${SSNS[0]} for the claim.`), message('p2', `Member SSN ${SSNS[1]} on file.`), message('c1', 'Lunch on Friday?')],
      Work: [message('w1', `Patient SSN: ${SSNS[2]} for the referral.`)],
    });
    const env = { PHI_SCAN_IMAP_CA: server.caFile, PHI_SCAN_IMAP_PASSWORD: USERS.owner, PHI_SCAN_STATE: tempDir() };
    const spec = `imaps://owner@127.0.0.1:${server.tlsPort}`;
    const outputs: string[] = [];
    const cli = async (args: string[], code?: number): Promise<string> => {
      const r = await runCli(args, { env });
      if (code !== undefined) expect(r.code, r.stderr).toBe(code);
      outputs.push(r.stdout, r.stderr);
      return r.stdout;
    };
    const totals = async (): Promise<{ messages: number; messagesWithPhi: number }> =>
      (JSON.parse(await cli(['report', '--format', 'json'], 0)) as { totals: { messages: number; messagesWithPhi: number } }).totals;

    await cli(['scan', spec, '--format', 'jsonl'], 1);
    expect(await totals()).toMatchObject({ messages: 4, messagesWithPhi: 3 });
    const inboxCursor = checkpointCursor(env.PHI_SCAN_STATE, `${spec}/INBOX`) as string;
    const workCursor = checkpointCursor(env.PHI_SCAN_STATE, `${spec}/Work`) as string;
    expect(inboxCursor).toMatch(/^\d+:3:\d+$/);
    expect(workCursor).toMatch(/^\d+:1:\d+$/);

    // The owner deletes p1 by hand (a test-side client: scanning never writes), and recreates Work
    // (a new UIDVALIDITY, RFC 3501 §2.3.1.1) without w1.
    const client = await adminClient(server, 'owner', USERS.owner);
    try {
      await client.mailboxOpen('INBOX');
      const uids: number[] = [];
      for await (const m of client.fetch('1:*', { uid: true, envelope: true }, { uid: true })) if (m.envelope?.subject === 'p1') uids.push(m.uid);
      expect(uids).toEqual([1]);
      await client.messageDelete(uids, { uid: true });
      await client.mailboxClose();
      const statusOf = async (): Promise<string> => {
        const st = await client.status('Work', { uidValidity: true });
        return st ? String(st.uidValidity) : '';
      };
      const old = await statusOf();
      let fresh = old;
      for (let i = 0; i < 30 && fresh === old; i++) {
        await client.mailboxDelete('Work').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
        await client.mailboxCreate('Work');
        fresh = await statusOf();
      }
      expect(fresh).not.toBe(old);
      await client.append('Work', message('w2', 'Nothing to see.'));
    } finally {
      await client.logout();
    }

    // The read-only proof, in process (the wire log needs the source on this thread): resuming
    // INBOX after its checkpoint says UIDs 2:3 are still there; Work (new UIDVALIDITY) says nothing.
    const wire: string[] = [];
    const source = createSource(spec, { maxMessageBytes: 50 * 1024 * 1024, imap: { env, wireLog: (l) => wire.push(l) } });
    const items: Record<string, UnitItem[]> = {};
    try {
      for (const unit of await source.units(() => undefined)) {
        const cursor = unit.folder === 'INBOX' ? inboxCursor : workCursor;
        items[unit.folder] = [];
        for await (const item of source.messages(unit, { unitId: unit.id, cursor })) items[unit.folder]?.push(item);
      }
    } finally {
      await source.close?.();
    }
    const presence = (folder: string): CursorAdvance['present'][] =>
      (items[folder] ?? []).filter(isCursorAdvance).filter((i) => i.present !== undefined).map((i) => i.present);
    expect(presence('INBOX')).toEqual([{ uidValidity: inboxCursor.split(':')[0], upTo: 3, uids: '2:3' }]);
    expect(presence('Work')).toEqual([]);
    const commands = wire.map((l) => /^\S+ (?:UID )?(\S+)/.exec(l)?.[1]?.toUpperCase()).filter((c): c is string => c !== undefined);
    expect(commands).toContain('SEARCH');
    expect(commands.filter((c) => !READ_ONLY.has(c))).toEqual([]);

    // The CLI (source in its worker thread): p1 leaves the figures and is resolved, gone; w1 (in
    // the recreated Work) stays until a full scan says otherwise. w2 is clean: exit 0.
    const records = jsonLines(await cli(['scan', spec, '--since-last', '--format', 'jsonl'], 0));
    // Only w2 is read (clean: no message record in jsonl, but counted).
    expect(records.filter((r) => r.type === 'mailbox').map((r) => [r.messages, r.messagesWithPhi])).toEqual([[1, 0]]);
    expect(await totals()).toMatchObject({ messages: 4, messagesWithPhi: 2 });
    const diff = jsonLines(await cli(['diff', '1', '2', '--format', 'jsonl'], 0));
    expect(diff.filter((r) => r.type === 'resolved').map((r) => [r.messageId, r.folder, r.gone])).toEqual([['<p1@test.example>', 'INBOX', true]]);
    expect(await cli(['diff', '1', '2'], 0)).toMatch(/- INBOX {2}<p1@test\.example>.*\(gone from the folder\)/);
    const report = JSON.parse(await cli(['report', '--format', 'json'], 0)) as { remediation: unknown };
    expect(report.remediation).toEqual([
      { type: 'remediation-status', source: spec, mailbox: expect.any(String), remaining: 2, quarantined: 0, tagged: 0, resolved: 1 },
    ]);

    // A second --since-last scan finds nothing new and marks nothing more.
    await cli(['scan', spec, '--since-last', '--format', 'jsonl'], 0);
    expect(await totals()).toMatchObject({ messages: 4, messagesWithPhi: 2 });

    for (const t of outputs) for (const ssn of SSNS) expect(t).not.toContain(ssn);
  });
});
