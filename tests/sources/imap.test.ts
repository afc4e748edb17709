/**
 * The IMAP source against a real Dovecot (Debian dovecot-imapd) on loopback, started for this
 * file and stopped after. Fixtures go in with APPEND by a test-side client; the scanner itself
 * only ever EXAMINEs and FETCHes with BODY.PEEK (proven on the wire below).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawMessage, UnitItem } from '../../src/model/message.js';
import { isCursorAdvance } from '../../src/model/message.js';
import { ScanError } from '../../src/common/errors.js';
import { createSource } from '../../src/sources/index.js';
import type { ImapSourceOptions } from '../../src/sources/imap/options.js';
import type { UnitProblem } from '../../src/sources/types.js';
import { jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { checkpointCursor } from '../helpers/state.js';
import { DEMO, demoFolders, planted } from '../helpers/demo.js';
import { adminClient, appendAll, dovecotInstalled, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { AnyRecord } from '../helpers/records.js';

const HAVE_DOVECOT = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled());

const USERS = {
  intake: 'intake-pw',
  billing: 'billing-pw',
  sales: 'sales-pw',
  alice: 'alice-pw',
  bob: 'bob-pw',
  mallory: 'mallory-pw',
  ro: 'ro-pw',
  inc: 'inc-pw',
  flaky: 'flaky-pw',
  big: 'big-pw',
  gmail: 'gmail-pw',
  folders: 'folders-pw',
  // Dovecot 2.3 checks an OAUTHBEARER/XOAUTH2 token against the passdb like a password.
  tok: 'synthetic-access-token-1',
};

/** A synthetic message; `SSN: 489-36-8350` is a structurally valid, made-up number. */
function message(id: string, body = 'SSN: 489-36-8350', pad = 0): Buffer {
  const filler = pad > 0 ? `\r\n${'Lorem ipsum dolor sit amet. '.repeat(Math.ceil(pad / 28)).slice(0, pad)}` : '';
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\n${body}${filler}\r\n`,
  );
}


describe.runIf(HAVE_DOVECOT)('IMAP source against a real Dovecot', () => {
  let server: Dovecot;
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({ PHI_SCAN_IMAP_CA: server.caFile, ...extra });
  const imaps = (user: string, folder = ''): string => `imaps://${user}@127.0.0.1:${server.tlsPort}${folder}`;

  /** The source in-process, every item of every unit in order, plus what it reported. */
  async function drain(
    spec: string,
    imap: ImapSourceOptions,
    maxMessageBytes = 50 * 1024 * 1024,
  ): Promise<{ items: { unit: string; item: UnitItem }[]; problems: UnitProblem[] }> {
    const source = createSource(spec, { maxMessageBytes, imap });
    const problems: UnitProblem[] = [];
    const items: { unit: string; item: UnitItem }[] = [];
    try {
      for (const unit of await source.units((p) => problems.push(p))) {
        for await (const item of source.messages(unit)) items.push({ unit: unit.folder, item });
      }
    } finally {
      await source.close?.();
    }
    return { items, problems };
  }
  const messagesOf = (items: { item: UnitItem }[]): RawMessage[] => items.map((i) => i.item).filter((i): i is RawMessage => !isCursorAdvance(i));

  beforeAll(async () => {
    server = await startDovecot(USERS);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('same messages over IMAP and from the mbox give identical findings', async () => {
    for (const mailbox of ['intake', 'billing', 'sales'] as const) await appendAll(server, mailbox, USERS[mailbox], demoFolders(mailbox));
    const accounts = path.join(tempDir(), 'accounts.csv');
    writeFileSync(accounts, 'user,passwordEnv\nintake,PW_INTAKE\nbilling,PW_BILLING\nsales,PW_SALES\n');
    const [overImap, fromMbox] = await Promise.all([
      runCli(['scan', `imaps://127.0.0.1:${server.tlsPort}`, '--accounts', accounts, '--format', 'jsonl'], {
        env: env({ PW_INTAKE: USERS.intake, PW_BILLING: USERS.billing, PW_SALES: USERS.sales }),
      }),
      runCli(['scan', `mbox:${path.join(DEMO, 'mbox')}`, '--format', 'jsonl']),
    ]);
    expect(overImap.stderr).toBe('');
    expect(overImap.code).toBe(fromMbox.code);
    const imapRecords = jsonLines(overImap.stdout).map((r) => AnyRecord.parse(r));
    const mboxRecords = jsonLines(fromMbox.stdout).map((r) => AnyRecord.parse(r));
    // The one message without a Message-ID is named `<sha256:…>` of its raw bytes, and the bytes
    // differ by line endings: the mbox stores LF, an IMAP server serves CRLF (RFC 3501 §2.2).
    const noId = planted.messages.find((m) => m.messageId === null);
    const noIdFile = readFileSync(path.join(DEMO, String((noId as unknown as { files: { eml: string } }).files.eml)));
    const crlf = Buffer.from(noIdFile.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    const imapId = `<sha256:${createHash('sha256').update(crlf).digest('hex')}>`;
    const mboxIds = new Set(mboxRecords.filter((r) => r.type === 'message' && r.messageId.startsWith('<sha256:')).map((r) => (r as { messageId: string }).messageId));
    expect(mboxIds.size).toBe(1);
    const mboxId = [...mboxIds][0] as string;
    expect(imapRecords.some((r) => 'messageId' in r && r.messageId === imapId)).toBe(true);
    // Source and folder differ by nature (mbox has one INBOX per mailbox); everything else must not.
    const comparable = (records: typeof imapRecords, type: string): string[] =>
      records
        .filter((r) => r.type === type)
        .map((r) => {
          const { source: _s, folder: _f, ...rest } = r as Record<string, unknown>;
          if (rest.messageId === imapId) rest.messageId = mboxId;
          return JSON.stringify(rest, Object.keys(rest).sort());
        })
        .sort();
    for (const type of ['finding', 'message', 'mailbox', 'error']) {
      expect(comparable(imapRecords, type), type).toEqual(comparable(mboxRecords, type));
    }
    expect(imapRecords.filter((r) => r.type === 'finding').length).toBeGreaterThan(10);
    const mailboxes = imapRecords.filter((r) => r.type === 'mailbox');
    expect(mailboxes.map((m) => [m.mailbox, m.messages])).toEqual([
      ['intake', 15],
      ['billing', 10],
      ['sales', 10],
    ]);
    // Folders are the IMAP folders, with / as separator.
    expect(new Set(imapRecords.filter((r) => r.type === 'message' && r.mailbox === 'intake').map((r) => (r as { folder: string }).folder))).toEqual(
      new Set(['INBOX', 'Sent', 'Archive/2023']),
    );
  });

  it('is read-only: only EXAMINE and BODY.PEEK FETCHes on the wire; flags and HIGHESTMODSEQ unchanged', async () => {
    await appendAll(server, 'ro', USERS.ro, {
      INBOX: [{ raw: message('ro-1') }, { raw: message('ro-2'), flags: ['\\Seen'] }, { raw: message('ro-3'), flags: ['\\Flagged', '$Label1'] }],
      'Patients/2024': [{ raw: message('ro-4'), flags: ['\\Answered'] }, { raw: message('ro-5', 'big', 4000) }],
    });
    const snapshot = async (): Promise<unknown> => {
      const client = await adminClient(server, 'ro', USERS.ro);
      const out: Record<string, unknown> = {};
      try {
        for (const folder of ['INBOX', 'Patients/2024']) {
          const status = await client.status(folder, { messages: true, unseen: true, highestModseq: true, uidValidity: true });
          if (!status) throw new Error(`STATUS ${folder} failed`);
          await client.mailboxOpen(folder, { readOnly: true });
          const flags: Record<number, string[]> = {};
          for await (const m of client.fetch('1:*', { uid: true, flags: true }, { uid: true })) flags[m.uid] = [...(m.flags ?? [])].sort();
          await client.mailboxClose();
          out[folder] = { ...status, highestModseq: String(status.highestModseq), uidValidity: String(status.uidValidity), flags };
        }
      } finally {
        await client.logout();
      }
      return out;
    };
    const before = await snapshot();
    const wire: string[] = [];
    // STARTTLS on the plain port, and a 2 KB cap so one message takes the oversize (header-only) path.
    const { items, problems } = await drain(
      `imap://ro@127.0.0.1:${server.port}`,
      { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.ro }), wireLog: (l) => wire.push(l) },
      2048,
    );
    expect(problems).toEqual([]);
    expect(messagesOf(items).length).toBe(5);
    expect(messagesOf(items).filter((m) => m.oversize).length).toBe(1);
    const after = await snapshot();
    expect(after).toEqual(before);
    expect((before as { INBOX: { unseen: number } }).INBOX.unseen).toBe(2);

    const commands = wire.map((l) => /^\S+ (?:UID )?(\S+)/.exec(l)?.[1]?.toUpperCase()).filter((c): c is string => c !== undefined);
    expect(commands[0]).toBe('STARTTLS');
    const allowed = new Set(['STARTTLS', 'CAPABILITY', 'ID', 'AUTHENTICATE', 'LOGIN', 'NAMESPACE', 'ENABLE', 'LIST', 'LSUB', 'EXAMINE', 'SEARCH', 'FETCH', 'LOGOUT', 'NOOP', 'COMPRESS']);
    expect(commands.filter((c) => !allowed.has(c))).toEqual([]);
    for (const forbidden of ['SELECT', 'STORE', 'COPY', 'MOVE', 'EXPUNGE', 'APPEND', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'CLOSE']) {
      expect(commands).not.toContain(forbidden);
    }
    const fetches = wire.filter((l) => / FETCH /i.test(l));
    expect(fetches.length).toBeGreaterThan(0);
    for (const f of fetches) {
      expect(f).not.toMatch(/BODY\[|RFC822(?!\.SIZE)|BINARY\[/i); // only BODY.PEEK[...] and RFC822.SIZE
    }
    // The password never appears on the wire log (imapflow hides it; this proves it).
    expect(wire.join('\n')).not.toContain(USERS.ro);
  });

  it('master credentials: SASL PLAIN authzid and Dovecot user*master; a bad password is an error while the others finish (exit 3)', async () => {
    await appendAll(server, 'alice', USERS.alice, { INBOX: [message('alice-1')] });
    await appendAll(server, 'bob', USERS.bob, { INBOX: [message('bob-1', 'nothing here')], Sent: [message('bob-2')] });
    const dir = tempDir();
    const accounts = path.join(dir, 'accounts.yaml');
    // alice: AUTHENTICATE PLAIN as scanner with authzid alice (RFC 4616); bob: LOGIN bob*scanner.
    writeFileSync(
      accounts,
      [
        'accounts:',
        '  - {user: alice, master: scanner, passwordEnv: MASTER_PW}',
        '  - {user: bob, master: scanner, masterStyle: separator, passwordEnv: MASTER_PW}',
        '  - {user: mallory, passwordEnv: MALLORY_PW}',
      ].join('\n'),
    );
    const r = await runCli(['scan', `imaps://127.0.0.1:${server.tlsPort}`, '--accounts', accounts], {
      env: env({ MASTER_PW: 'masterpw', MALLORY_PW: 'wrong-password' }),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    const errors = records.filter((x) => x.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ mailbox: 'mallory', code: 'auth-failed' });
    expect(r.stdout).not.toContain('wrong-password');
    expect(r.stdout).not.toContain('masterpw');
    const boxes = Object.fromEntries(records.filter((x) => x.type === 'mailbox').map((m) => [m.mailbox, [m.messages, m.messagesWithPhi, m.errors]]));
    expect(boxes).toEqual({ alice: [1, 1, 0], bob: [2, 1, 0], mallory: [0, 0, 1] });
    // One URI with a Dovecot master login: the mailbox reported is the user's, not the login's.
    const single = await runCli(['scan', imaps('bob*scanner')], { env: env({ PHI_SCAN_IMAP_PASSWORD: 'masterpw' }) });
    expect(single.code).toBe(1);
    expect(jsonLines(single.stdout).find((x) => x.type === 'mailbox')).toMatchObject({ mailbox: 'bob', messages: 2 });
  });

  it('verifies TLS: without PHI_SCAN_IMAP_CA the private CA is not trusted (error record, exit 3)', async () => {
    const r = await runCli(['scan', imaps('alice')], { env: { PHI_SCAN_IMAP_PASSWORD: USERS.alice } });
    expect(r.code).toBe(3);
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    expect(records[0]).toMatchObject({ type: 'error', mailbox: 'alice', code: 'source-failed' });
    expect(String(jsonLines(r.stdout)[0]?.error)).toMatch(/certificate/i);
    // STARTTLS (imap://) verifies too, and never falls back to cleartext.
    const { items, problems } = await drain(`imap://alice@127.0.0.1:${server.port}`, { env: { PHI_SCAN_IMAP_PASSWORD: USERS.alice } });
    expect(items).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.problem.message).toMatch(/certificate/i);
  });

  it('--since-last scans only new messages; a changed UIDVALIDITY rescans the folder', async () => {
    await appendAll(server, 'inc', USERS.inc, { INBOX: [message('inc-1'), message('inc-2')], Work: [message('inc-w1')] });
    const state = tempDir();
    const scan = async (): Promise<{ messages: number; ids: string[] }> => {
      const r = await runCli(['scan', imaps('inc'), '--since-last'], { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.inc, PHI_SCAN_STATE: state }) });
      expect(r.stderr).toBe('');
      const records = jsonLines(r.stdout);
      return {
        messages: Number(records.find((x) => x.type === 'mailbox')?.messages),
        ids: records.filter((x) => x.type === 'message').map((x) => String(x.messageId)),
      };
    };
    expect(await scan()).toEqual({ messages: 3, ids: ['<inc-1@test.example>', '<inc-2@test.example>', '<inc-w1@test.example>'] });
    const inbox = checkpointCursor(state, `imaps://inc@127.0.0.1:${server.tlsPort}/INBOX`);
    expect(inbox).toMatch(/^\d+:2:\d+$/); // UIDVALIDITY:last UID:HIGHESTMODSEQ
    expect(await scan()).toEqual({ messages: 0, ids: [] });
    await appendAll(server, 'inc', USERS.inc, { INBOX: [message('inc-3')] });
    expect(await scan()).toEqual({ messages: 1, ids: ['<inc-3@test.example>'] });
    // Recreate Work: a new mailbox gets a new UIDVALIDITY (RFC 3501 §2.3.1.1), so all of it is scanned again.
    const admin = await adminClient(server, 'inc', USERS.inc);
    try {
      const statusOf = async (): Promise<string> => {
        const st = await admin.status('Work', { uidValidity: true });
        return st ? String(st.uidValidity) : '';
      };
      const old = await statusOf();
      await admin.mailboxDelete('Work');
      let fresh = old;
      for (let i = 0; i < 30 && fresh === old; i++) {
        await admin.mailboxDelete('Work').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
        await admin.mailboxCreate('Work');
        fresh = await statusOf();
      }
      expect(fresh).not.toBe(old);
      await admin.append('Work', message('inc-w1'));
      await admin.append('Work', message('inc-w2'));
    } finally {
      await admin.logout();
    }
    expect(await scan()).toEqual({ messages: 2, ids: ['<inc-w1@test.example>', '<inc-w2@test.example>'] });
  });

  it('a connection cut mid-FETCH reconnects with backoff and resumes: every message exactly once', async () => {
    const N = 60;
    const ids = Array.from({ length: N }, (_, i) => `flaky-${String(i + 1).padStart(3, '0')}`);
    await appendAll(server, 'flaky', USERS.flaky, { INBOX: ids.map((id) => message(id, 'SSN: 489-36-8350', 3000)) });
    // A TCP proxy in front of Dovecot: the first two connections are cut after some KB of
    // server-to-client traffic (TLS passes through untouched), i.e. in the middle of a FETCH.
    const cutAfter = [60_000, 90_000];
    const connections: { bytes: number; cut: boolean }[] = [];
    const proxy = net.createServer((client) => {
      const n = connections.length;
      const conn = { bytes: 0, cut: false };
      connections.push(conn);
      const upstream = net.connect(server.tlsPort, '127.0.0.1');
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d: Buffer) => {
        conn.bytes += d.length;
        const limit = cutAfter[n];
        if (limit !== undefined && conn.bytes > limit) {
          conn.cut = true;
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(d);
      });
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['scan', `imaps://flaky@127.0.0.1:${port}`], { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.flaky }) });
      expect(r.stderr).toBe('');
      const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
      expect(records.filter((x) => x.type === 'error')).toEqual([]);
      expect(r.code).toBe(1);
      const seen = records.filter((x) => x.type === 'message').map((x) => x.messageId);
      expect(seen).toEqual(ids.map((id) => `<${id}@test.example>`)); // all, in order, none twice
      expect(records.find((x) => x.type === 'mailbox')).toMatchObject({ messages: N, messagesWithPhi: N, errors: 0 });
      // At least one cut landed mid-FETCH (the second usually does too), and a new connection finished the folder.
      expect(connections.filter((c) => c.cut).length).toBeGreaterThanOrEqual(1);
      expect(connections.at(-1)?.cut).toBe(false);
    } finally {
      proxy.close();
    }
  });

  it('large folders go in UID batches; RFC822.SIZE applies the size cap before any download', async () => {
    const small = Array.from({ length: 23 }, (_, i) => message(`big-${i + 1}`, i % 2 === 0 ? 'SSN: 489-36-8350' : 'hello'));
    // Oversize and without a Message-ID: named by the sha256 of its bytes, as the archive sources do.
    const huge = Buffer.from(`From: a@example.org\r\nSubject: scan\r\n\r\n${'x'.repeat(20_000)}\r\n`);
    await appendAll(server, 'big', USERS.big, { INBOX: [...small.slice(0, 10), huge, ...small.slice(10)] });
    const wire: string[] = [];
    const { items } = await drain(imaps('big'), { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.big }), batchSize: 7, wireLog: (l) => wire.push(l) }, 4096);
    const messages = messagesOf(items);
    expect(messages).toHaveLength(24);
    const over = messages.filter((m) => m.oversize);
    expect(over).toHaveLength(1);
    expect(over[0]?.oversize?.sha256).toBe(createHash('sha256').update(huge).digest('hex'));
    expect(over[0]?.size).toBe(huge.length);
    expect(over[0]?.bytes.length).toBeLessThan(200); // the header only
    // The oversize UID (11) is never fetched whole: only its header and partial (<start.len>) chunks.
    const full = wire.filter((l) => / FETCH /.test(l) && /BODY\.PEEK\[\](?!<)/.test(l));
    expect(full.length).toBeGreaterThanOrEqual(4);
    for (const f of full) expect(f).not.toMatch(/[ ,:]11[ ,:]|\b11\b/);
    // Batches of 7 UIDs: the sizes come first, one FETCH per batch.
    const sizeFetches = wire.filter((l) => /RFC822\.SIZE/.test(l));
    expect(sizeFetches.map((l) => /FETCH (\S+)/.exec(l)?.[1])).toEqual(['1:7', '8:14', '15:21', '22:24']);
    // Cursors only move forward, and the last one covers the folder.
    const cursors = items.filter((i) => i.unit === 'INBOX').map((i) => Number(i.item.cursor.split(':')[1]));
    expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
    expect(cursors.at(-1)).toBe(24);
  });

  it('Gmail-style \\All folder: every message counted once; \\Junk and \\Trash included', async () => {
    const a = message('g-1');
    const b = message('g-2', 'no phi');
    const c = message('g-3');
    await appendAll(server, 'gmail', USERS.gmail, { INBOX: [a, b], Work: [c, a], 'All Mail': [a, b, c], Junk: [message('g-spam')], Trash: [message('g-trash', 'bye')] });
    const r = await runCli(['scan', imaps('gmail')], { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.gmail }) });
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    expect(records.find((x) => x.type === 'mailbox')).toMatchObject({ messages: 5, messagesWithPhi: 3 });
    expect(records.filter((x) => x.type === 'message').map((x) => [x.folder, x.messageId])).toEqual([
      ['All Mail', '<g-1@test.example>'],
      ['All Mail', '<g-3@test.example>'],
      ['Junk', '<g-spam@test.example>'],
    ]);
  });

  it('--folders, --exclude-folders and a folder in the URI choose what is scanned', async () => {
    await appendAll(server, 'folders', USERS.folders, {
      INBOX: [message('f-inbox')],
      Patients: [message('f-p')],
      'Patients/2023': [message('f-p23')],
      'Patients/2024': [message('f-p24')],
      Trash: [message('f-trash')],
    });
    const folders = async (spec: string, filter: Pick<ImapSourceOptions, 'folders' | 'excludeFolders'> = {}): Promise<{ names: string[]; problems: UnitProblem[] }> => {
      const source = createSource(spec, { maxMessageBytes: 1 << 20, imap: { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.folders }), ...filter } });
      const problems: UnitProblem[] = [];
      try {
        return { names: (await source.units((p) => problems.push(p))).map((u) => u.folder), problems };
      } finally {
        await source.close?.();
      }
    };
    // In LIST order (the server's); Sent is empty but a folder all the same.
    expect((await folders(imaps('folders'))).names).toEqual(['INBOX', 'Sent', 'Trash', 'Patients', 'Patients/2023', 'Patients/2024']);
    expect((await folders(imaps('folders'), { folders: ['Patients/*', 'inbox'] })).names).toEqual(['INBOX', 'Patients/2023', 'Patients/2024']);
    expect((await folders(imaps('folders'), { excludeFolders: ['Trash,Sent', 'Patients/**'] })).names).toEqual(['INBOX', 'Patients']);
    expect((await folders(imaps('folders', '/Patients/2024'))).names).toEqual(['Patients/2024']);
    const missing = await folders(imaps('folders', '/Nope'));
    expect(missing.names).toEqual([]);
    expect(missing.problems).toEqual([{ mailbox: 'folders', folder: 'Nope', problem: expect.objectContaining({ code: 'mailbox-unavailable' }) }]);
  });

  it('a server that never greets, or is not there, is an error record and exit 3, not a hang', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const { problems } = await drain(`imaps://alice@127.0.0.1:${port}`, { env: { PHI_SCAN_IMAP_PASSWORD: 'x' }, timeoutMs: 500 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(problems).toEqual([{ mailbox: 'alice', problem: expect.objectContaining({ code: 'source-failed' }) }]);
    } finally {
      silent.close();
    }
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    // The run's only source cannot be reached: still a report (exit 3), not bad usage (exit 2).
    const gone = await runCli(['scan', `imaps://alice@127.0.0.1:${closedPort}`], { env: { PHI_SCAN_IMAP_PASSWORD: 'x' } });
    expect(gone.code).toBe(3);
    expect(jsonLines(gone.stdout)[0]).toMatchObject({ type: 'error', mailbox: 'alice', code: 'source-failed' });
    expect(String(jsonLines(gone.stdout)[0]?.error)).toMatch(/ECONNREFUSED/);
  });

  it('OAuth2: PHI_SCAN_IMAP_ACCESS_TOKEN logs in with AUTHENTICATE OAUTHBEARER/XOAUTH2, a bad token is auth-failed', async () => {
    await appendAll(server, 'tok', USERS.tok, { INBOX: [message('tok-1')] });
    for (const [token, expected] of [
      [USERS.tok, 1],
      ['expired-token-2', 0],
    ] as const) {
      const wire: string[] = [];
      const { items, problems } = await drain(imaps('tok'), { env: env({ PHI_SCAN_IMAP_ACCESS_TOKEN: token }), wireLog: (l) => wire.push(l) });
      expect(messagesOf(items)).toHaveLength(expected);
      expect(wire.some((l) => /AUTHENTICATE (OAUTHBEARER|XOAUTH2)/.test(l))).toBe(true);
      expect(JSON.stringify({ wire, problems })).not.toContain(token);
      if (expected === 0) expect(problems).toEqual([{ mailbox: 'tok', problem: expect.objectContaining({ code: 'auth-failed' }) }]);
    }
  });

  it('never opens more than --imap-connections to one server, however many accounts and folders', async () => {
    // Each connection's open interval as the proxy sees it. On loopback the scanner's FIN of a
    // closed connection is queued before the SYN of the next, but both can surface in the same
    // event-loop turn, accept first: a connection counts from the end of the turn it was accepted in.
    const intervals: { start: number; end: number }[] = [];
    const proxy = net.createServer((client) => {
      const interval = { start: Number.POSITIVE_INFINITY, end: Number.POSITIVE_INFINITY };
      intervals.push(interval);
      setImmediate(() => (interval.start = Math.min(Date.now(), interval.end)));
      const upstream = net.connect(server.tlsPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        interval.end = Math.min(interval.end, Date.now());
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end).on('end', end);
      upstream.on('error', end).on('close', end);
    });
    const peakOpen = (): number =>
      Math.max(...intervals.map((a) => intervals.filter((b) => b.start <= a.start && a.start < b.end).length));
    // (an interval whose end came in the same turn as its start has start === end and counts nowhere)
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    const accounts = path.join(tempDir(), 'accounts.csv');
    writeFileSync(accounts, ['user,master,passwordEnv', ...['intake', 'billing', 'sales', 'alice', 'bob', 'folders'].map((u) => `${u},scanner,MASTER_PW`)].join('\n'));
    try {
      const r = await runCli(['scan', `imaps://127.0.0.1:${port}`, '--accounts', accounts, '--imap-connections', '2'], { env: env({ MASTER_PW: 'masterpw' }) });
      expect(r.stderr).toBe('');
      const records = jsonLines(r.stdout);
      const boxes = records.filter((x) => x.type === 'mailbox');
      expect(boxes.map((b) => b.mailbox)).toEqual(['intake', 'billing', 'sales', 'alice', 'bob', 'folders']);
      // Only the demo's own message-level errors (its corrupt message), nothing about connections.
      expect(records.filter((x) => x.type === 'error' && !x.messageId)).toEqual([]);
      expect(boxes.find((b) => b.mailbox === 'intake')?.messages).toBe(15);
      expect(peakOpen()).toBeLessThanOrEqual(2);
      expect(intervals.length).toBeGreaterThanOrEqual(6); // one account after another through 2 connections
    } finally {
      proxy.close();
    }
  });

  it('a pooled connection that timed out while idle is replaced, not an error', async () => {
    await appendAll(server, 'alice', USERS.alice, { Idle: [message('idle-1'), message('idle-2')] });
    const source = createSource(imaps('alice', '/Idle'), { maxMessageBytes: 1 << 20, imap: { env: env({ PHI_SCAN_IMAP_PASSWORD: USERS.alice }), timeoutMs: 300 } });
    try {
      const units = await source.units(() => expect.fail('no problem expected'));
      expect(units).toHaveLength(1);
      // The listing connection sits idle longer than the socket timeout and is closed meanwhile.
      await new Promise((r) => setTimeout(r, 1200));
      const got: string[] = [];
      for await (const item of source.messages(units[0] as (typeof units)[number])) if (!isCursorAdvance(item)) got.push(item.locator);
      expect(got).toHaveLength(2);
    } finally {
      await source.close?.();
    }
  });

  it('bad usage exits 2 before any output, never echoing a secret', async () => {
    const cases: [string, ImapSourceOptions, RegExp][] = [
      [imaps('alice'), { env: {} }, /PHI_SCAN_IMAP_PASSWORD/],
      [`imaps://alice:hunter2-secret@127.0.0.1:${server.tlsPort}`, { env: {} }, /password in the URI/],
      [`imaps://127.0.0.1:${server.tlsPort}`, { env: { PHI_SCAN_IMAP_PASSWORD: 'x' } }, /--accounts/],
      [`imaps://127.0.0.1:${server.tlsPort}`, { env: {}, accountsFile: '/nonexistent/accounts.yaml' }, /cannot read/],
      [imaps('alice'), { env: { PHI_SCAN_IMAP_PASSWORD: 'x', PHI_SCAN_IMAP_CA: '/nonexistent/ca.pem' } }, /PHI_SCAN_IMAP_CA/],
    ];
    for (const [spec, imap, message] of cases) {
      let err: unknown;
      try {
        createSource(spec, { maxMessageBytes: 1 << 20, imap });
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(ScanError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('hunter2-secret');
    }
    const r = await runCli(['scan', `imaps://alice:hunter2-secret@127.0.0.1:${server.tlsPort}`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/password in the URI/);
    expect(r.stderr).not.toContain('hunter2-secret');
  });
});
