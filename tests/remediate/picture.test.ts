/**
 * The picture follows the mailbox (real Dovecot): a message deleted from an IMAP folder leaves the
 * report's current figures (messages with PHI, people) after the next full scan, and shows as
 * resolved — gone — in `diff` and as remediation progress in `report` (json, table, html; the csv
 * list no longer holds it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { adminClient, appendAll, dovecotInstalled, startDovecot, type Dovecot } from '../helpers/dovecot.js';

const HAVE_DOVECOT = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled());
const USERS = { owner: 'owner-pw' };
/** Structurally valid, made-up SSNs: planted, and searched for in every output. */
const SSNS = ['489-36-8350', '512-84-3921'];

function message(id: string, body: string): Buffer {
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\n${body}\r\n`,
  );
}

describe.runIf(HAVE_DOVECOT)('report and diff follow the mailbox (real Dovecot)', () => {
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

  it('a message deleted from the folder leaves the counts after the next full scan and is resolved (gone) in diff and report', { timeout: 300_000 }, async () => {
    await appendAll(server, 'owner', USERS.owner, {
      INBOX: [message('p1', `Patient SSN: ${SSNS[0]} for the claim.`), message('p2', `Member SSN ${SSNS[1]} on file.`), message('c1', 'Lunch on Friday?')],
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
    const json = async (): Promise<{ totals: { messages: number; messagesWithPhi: number; estimatedIndividuals: number }; remediation: unknown }> =>
      JSON.parse(await cli(['report', '--format', 'json'], 0)) as never;

    await cli(['scan', spec, '--format', 'jsonl'], 1);
    const before = await json();
    expect(before.totals).toMatchObject({ messages: 3, messagesWithPhi: 2, estimatedIndividuals: 2 });
    // Nothing acted on, nothing gone yet: no progress section.
    expect(before.remediation).toBeNull();

    // The owner deletes p1 by hand (a test-side client: scanning never writes).
    const client = await adminClient(server, 'owner', USERS.owner);
    try {
      await client.mailboxOpen('INBOX');
      const uids: number[] = [];
      for await (const m of client.fetch('1:*', { uid: true, envelope: true }, { uid: true })) if (m.envelope?.subject === 'p1') uids.push(m.uid);
      expect(uids).toHaveLength(1);
      await client.messageDelete(uids, { uid: true });
    } finally {
      await client.logout();
    }

    await cli(['scan', spec, '--format', 'jsonl'], 1);
    const after = await json();
    // Gone from the current figures: messages, messages with PHI, people.
    expect(after.totals).toMatchObject({ messages: 2, messagesWithPhi: 1, estimatedIndividuals: 1 });
    expect(after.remediation).toEqual([
      { type: 'remediation-status', source: spec, mailbox: expect.any(String), remaining: 1, quarantined: 0, tagged: 0, resolved: 1 },
    ]);
    expect(await cli(['report', '--format', 'table', '--no-color'], 0)).toMatch(/1 remaining, 0 quarantined, 0 tagged, 1 resolved/);
    const html = await cli(['report', '--format', 'html'], 0);
    expect(html).toMatch(/data-col="remaining">1</);
    expect(html).toMatch(/data-col="resolved">1</);
    const csv = await cli(['report', '--format', 'csv'], 0);
    expect(csv).toContain('<p2@test.example>');
    expect(csv).not.toContain('<p1@test.example>');
    // The picture as of run 1 still holds it (the past is not rewritten).
    expect((JSON.parse(await cli(['report', '--format', 'json', '--run', '1'], 0)) as { totals: { messagesWithPhi: number } }).totals.messagesWithPhi).toBe(2);

    // diff: p1 resolved, gone from its folder; nothing new (exit 0).
    const diff = jsonLines(await cli(['diff', '1', '2', '--format', 'jsonl'], 0));
    expect(diff.filter((r) => r.type === 'resolved').map((r) => [r.messageId, r.folder, r.gone])).toEqual([['<p1@test.example>', 'INBOX', true]]);
    expect(diff.filter((r) => r.type === 'added')).toEqual([]);
    expect(await cli(['diff', '1', '2'], 0)).toMatch(/- INBOX {2}<p1@test\.example>.*\(gone from the folder\)/);

    for (const t of outputs) for (const ssn of SSNS) expect(t).not.toContain(ssn);
  });
});
