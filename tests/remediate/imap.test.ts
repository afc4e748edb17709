/**
 * remediate against a real Dovecot: a scan, a dry-run plan, --apply (MOVE, tag, delete), the
 * audit log, a second --apply, undo; the COPY + UID EXPUNGE path of a server without MOVE; a run
 * killed between acting and logging. Mailbox state (folders, UIDs, flags) is read by a test-side
 * client before and after.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { inlineScanner } from '../../src/pipeline/scanner.js';
import { parseEnvKey } from '../../src/findings/key.js';
import { AuditLog, verifyLog } from '../../src/remediate/audit.js';
import { openPlan, Plan } from '../../src/remediate/plan.js';
import { runPlan, type StepRecord } from '../../src/remediate/run.js';
import { BUNDLED_RULES_DIR, loadRules } from '../../src/rules/load.js';
import { imapRemediation } from '../../src/sources/imap/write.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { CLI, TEST_KEY, jsonLines, requireOrSkip, runCli, tempDir } from '../helpers/cli.js';
import { adminClient, appendAll, dovecotInstalled, startDovecot, type Dovecot } from '../helpers/dovecot.js';

const HAVE_DOVECOT = requireOrSkip('dovecot (apt-get install dovecot-imapd)', dovecotInstalled());
const USERS = { clinic: 'clinic-pw', tagger: 'tagger-pw', nomove: 'nomove-pw', killed: 'killed-pw', changed: 'changed-pw', sigkill: 'sigkill-pw', dry: 'dry-pw', flaky: 'flaky-pw' };
/** Structurally valid, made-up SSNs: planted, and searched for in every output. */
const SSNS = ['489-36-8350', '512-84-3921'];

function message(id: string, body: string): Buffer {
  return Buffer.from(
    `From: clinic@example.org\r\nTo: billing@example.org\r\nSubject: ${id}\r\nMessage-ID: <${id}@test.example>\r\n` +
      `Date: Mon, 4 Mar 2024 09:15:00 +0000\r\n\r\n${body}\r\n`,
  );
}
const phi = (id: string, ssn = SSNS[0] as string): Buffer => message(id, `Patient SSN: ${ssn} for the claim.`);
const clean = (id: string): Buffer => message(id, 'Lunch on Friday?');

describe.runIf(HAVE_DOVECOT)('remediate on IMAP (real Dovecot)', () => {
  let server: Dovecot;
  const spec = (user: string): string => `imaps://${user}@127.0.0.1:${server.tlsPort}`;
  const env = (user: keyof typeof USERS, state: string): Record<string, string> => ({
    PHI_SCAN_IMAP_CA: server.caFile,
    PHI_SCAN_IMAP_PASSWORD: USERS[user],
    PHI_SCAN_STATE: state,
  });

  /** folder → sorted [Message-ID subject, UID, flags] of each message. */
  async function snapshot(user: keyof typeof USERS): Promise<Record<string, { uid: number; subject: string; flags: string[] }[]>> {
    const client = await adminClient(server, user, USERS[user]);
    const out: Record<string, { uid: number; subject: string; flags: string[] }[]> = {};
    try {
      for (const f of await client.list()) {
        if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
        await client.mailboxOpen(f.path, { readOnly: true });
        const rows: { uid: number; subject: string; flags: string[] }[] = [];
        const status = await client.status(f.path, { messages: true });
        if (status && (status.messages ?? 0) > 0) {
          for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true }, { uid: true })) {
            rows.push({ uid: m.uid, subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort() });
          }
        }
        out[f.path] = rows.sort((a, b) => a.uid - b.uid);
        await client.mailboxClose();
      }
    } finally {
      await client.logout();
    }
    return out;
  }
  const subjects = (rows: { subject: string }[] | undefined): string[] => (rows ?? []).map((r) => r.subject).sort();

  function noRawValues(...texts: string[]): void {
    for (const t of texts) for (const ssn of SSNS) expect(t).not.toContain(ssn);
  }

  beforeAll(async () => {
    server = await startDovecot(USERS);
  });
  afterAll(async () => {
    // Under load a Dovecot child may still be writing when its folder is removed: once more after a pause.
    await server?.stop().catch(async () => {
      await new Promise((r) => setTimeout(r, 2000));
      await server.stop();
    });
  });

  it('scan → dry run (nothing changes) → --apply moves with MOVE → second --apply does nothing → --verify-log → --undo', async () => {
    await appendAll(server, 'clinic', USERS.clinic, {
      INBOX: [phi('p1'), clean('c1'), phi('p2', SSNS[1]), { raw: clean('c2'), flags: ['\\Seen'] }],
      Archive: [phi('p3'), clean('c3')],
    });
    const state = tempDir();
    const e = env('clinic', state);
    const scanned = await runCli(['scan', spec('clinic'), '--format', 'jsonl'], { env: e });
    expect(scanned.code, scanned.stderr).toBe(1);
    const before = await snapshot('clinic');

    // Dry run: the plan file and one would-act line per message; the mailbox is untouched.
    const dir = tempDir();
    const planFile = path.join(dir, 'plan.json');
    const dry = await runCli(['remediate', '--action', 'move', '--to', 'Quarantine/PHI', '--plan-out', planFile], { env: e });
    expect(dry.code, dry.stderr).toBe(0);
    const steps = jsonLines(dry.stdout);
    expect(steps.map((s) => s.status)).toEqual(['would-act', 'would-act', 'would-act']);
    expect(steps.map((s) => s.folder).sort()).toEqual(['Archive', 'INBOX', 'INBOX']);
    const plan = Plan.parse(JSON.parse(readFileSync(planFile, 'utf8')));
    expect(plan.items.map((i) => i.messageId).sort()).toEqual(['<p1@test.example>', '<p2@test.example>', '<p3@test.example>']);
    expect(plan.items.every((i) => i.fingerprints.length > 0)).toBe(true);
    expect(await snapshot('clinic')).toEqual(before);
    noRawValues(readFileSync(planFile, 'utf8'), dry.stdout, dry.stderr);

    // --apply the reviewed plan.
    const log = path.join(dir, 'audit.jsonl');
    const applied = await runCli(['remediate', '--plan', planFile, '--apply', '--log', log], { env: e });
    expect(applied.code, applied.stderr).toBe(0);
    expect(jsonLines(applied.stdout).map((s) => s.status)).toEqual(['done', 'done', 'done']);
    const after = await snapshot('clinic');
    expect(subjects(after.INBOX)).toEqual(['c1', 'c2']);
    expect(subjects(after.Archive)).toEqual(['c3']);
    const quarantine = Object.keys(after).find((k) => k.endsWith('PHI') && k.startsWith('Quarantine')) as string;
    expect(subjects(after[quarantine])).toEqual(['p1', 'p2', 'p3']);
    // The untouched messages keep their UIDs and flags.
    expect(after.INBOX).toEqual(before.INBOX?.filter((r) => r.subject.startsWith('c')));
    expect((await import('node:fs')).statSync(log).mode & 0o777).toBe(0o600);
    const entries = await verifyLog(log, parseEnvKey(TEST_KEY));
    expect(entries.ok).toBe(true);
    expect(entries.entries.map((x) => x.event)).toEqual(['start', 'intent', 'done', 'intent', 'done', 'intent', 'done', 'end']);
    const done = entries.entries.filter((x) => x.event === 'done');
    expect(done.map((x) => x.to?.uid).every((u) => typeof u === 'number')).toBe(true);
    expect(done.every((x) => x.who.length > 0)).toBe(true);
    // Each outcome names the findings acted on (verification does not keep them: read the lines).
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; fingerprints?: string[] });
    expect(lines.filter((x) => x.event === 'done').every((x) => (x.fingerprints ?? []).length > 0)).toBe(true);
    noRawValues(readFileSync(log, 'utf8'), applied.stdout, applied.stderr);

    // A second --apply: nothing new.
    const again = await runCli(['remediate', '--plan', planFile, '--apply', '--log', log], { env: e });
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout).map((s) => s.status)).toEqual(['already-done', 'already-done', 'already-done']);
    expect(await snapshot('clinic')).toEqual(after);

    const verified = await runCli(['remediate', '--verify-log', log], { env: e });
    expect(verified.code, verified.stderr).toBe(0);
    expect(jsonLines(verified.stdout)[0]).toMatchObject({ type: 'audit-log', ok: true, openIntents: [] });

    // --undo: a dry run first (nothing moves), then back to where each came from.
    const undoDry = await runCli(['remediate', '--undo', log], { env: e });
    expect(undoDry.code, undoDry.stderr).toBe(0);
    expect(jsonLines(undoDry.stdout).map((s) => s.status)).toEqual(['would-act', 'would-act', 'would-act']);
    expect(await snapshot('clinic')).toEqual(after);
    const undone = await runCli(['remediate', '--undo', log, '--apply'], { env: e });
    expect(undone.code, undone.stderr).toBe(0);
    const back = await snapshot('clinic');
    expect(subjects(back.INBOX)).toEqual(['c1', 'c2', 'p1', 'p2']);
    expect(subjects(back.Archive)).toEqual(['c3', 'p3']);
    expect(subjects(back[quarantine])).toEqual([]);
    expect((await verifyLog(log, parseEnvKey(TEST_KEY))).ok).toBe(true);
    // Undone once: a second undo has nothing left to do.
    const undoAgain = await runCli(['remediate', '--undo', log, '--apply'], { env: e });
    expect(jsonLines(undoAgain.stdout)).toEqual([]);
  }, 300_000);

  it('--verify-log detects an edited, a deleted and a reordered entry (exit 3)', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const key = parseEnvKey(TEST_KEY);
    const file = path.join(dir, 'log.jsonl');
    const log = await AuditLog.open(file, key);
    log.append({ event: 'start', action: 'move' });
    log.append({ event: 'intent', action: 'move', mailbox: 'm', source: 's', from: { folder: 'INBOX', locator: 'INBOX:1:1' } });
    log.append({ event: 'done', action: 'move', mailbox: 'm', source: 's', from: { folder: 'INBOX', locator: 'INBOX:1:1' }, to: { folder: 'Q', uid: 7 }, refers: 2 });
    log.append({ event: 'end', action: 'move' });
    log.close();
    const good = readFileSync(file, 'utf8');
    const lines = good.trimEnd().split('\n');
    const check = async (text: string): Promise<{ code: number | null; problems: string[] }> => {
      const f = path.join(dir, `v${Math.random()}.jsonl`);
      writeFileSync(f, text);
      const r = await runCli(['remediate', '--verify-log', f]);
      return { code: r.code, problems: (jsonLines(r.stdout)[0]?.problems as string[]) ?? [] };
    };
    expect((await check(good)).code).toBe(0);
    const edited = await check(good.replace('"uid":7', '"uid":8'));
    expect(edited.code).toBe(3);
    expect(edited.problems.join(' ')).toMatch(/line 3 .*does not match its hash/);
    const deleted = await check(`${[lines[0], lines[1], lines[3]].join('\n')}\n`);
    expect(deleted.code).toBe(3);
    expect(deleted.problems.join(' ')).toMatch(/entries deleted or reordered/);
    const reordered = await check(`${[lines[0], lines[2], lines[1], lines[3]].join('\n')}\n`);
    expect(reordered.code).toBe(3);
    // A log that does not verify is not appended to.
    const broken = path.join(dir, 'broken.jsonl');
    writeFileSync(broken, good.replace('"uid":7', '"uid":8'));
    await expect(AuditLog.open(broken, key)).rejects.toThrow(/does not verify/);
  });

  it('tag sets the keyword (and undo removes it); delete removes only the planned UIDs with UID EXPUNGE', async () => {
    await appendAll(server, 'tagger', USERS.tagger, { INBOX: [phi('t1'), clean('t2'), phi('t3', SSNS[1])] });
    const state = tempDir();
    const e = env('tagger', state);
    expect((await runCli(['scan', spec('tagger'), '--format', 'jsonl'], { env: e })).code).toBe(1);
    const dir = tempDir();
    const log = path.join(dir, 'audit.jsonl');
    const tagged = await runCli(['remediate', '--action', 'tag', '--keyword', '$PHI-Review', '--apply', '--log', log], { env: e });
    expect(tagged.code, tagged.stderr).toBe(0);
    let snap = await snapshot('tagger');
    expect(snap.INBOX?.map((r) => [r.subject, r.flags.includes('$PHI-Review')])).toEqual([
      ['t1', true],
      ['t2', false],
      ['t3', true],
    ]);
    const again = await runCli(['remediate', '--action', 'tag', '--keyword', '$PHI-Review', '--apply', '--log', path.join(dir, 'other.jsonl')], { env: e });
    // A fresh log: the mailbox itself says the keyword is set.
    expect(jsonLines(again.stdout).map((s) => s.status)).toEqual(['already-done', 'already-done']);
    await runCli(['remediate', '--undo', log, '--apply'], { env: e });
    snap = await snapshot('tagger');
    expect(snap.INBOX?.some((r) => r.flags.includes('$PHI-Review'))).toBe(false);

    // An unrelated message flagged \Deleted by its owner must survive our delete.
    const admin = await adminClient(server, 'tagger', USERS.tagger);
    await admin.mailboxOpen('INBOX');
    await admin.messageFlagsAdd({ uid: String(snap.INBOX?.[1]?.uid) }, ['\\Deleted'], { uid: true });
    await admin.logout();
    const deleted = await runCli(['remediate', '--action', 'delete', '--apply', '--log', log], { env: e });
    expect(deleted.code, deleted.stderr).toBe(0);
    snap = await snapshot('tagger');
    expect(snap.INBOX?.map((r) => r.subject)).toEqual(['t2']);
    const undo = await runCli(['remediate', '--undo', log, '--apply'], { env: e });
    expect(jsonLines(undo.stdout).filter((s) => s.action === 'undo-delete').map((s) => s.reason)).toEqual(['a delete cannot be undone', 'a delete cannot be undone']);
  }, 300_000);

  it('without MOVE: COPY, STORE \\Deleted and UID EXPUNGE of those UIDs only, never a plain EXPUNGE; the quarantine folder is created', { timeout: 120_000 }, async () => {
    await appendAll(server, 'nomove', USERS.nomove, { INBOX: [phi('n1'), clean('n2'), phi('n3', SSNS[1])] });
    const state = tempDir();
    const e = env('nomove', state);
    expect((await runCli(['scan', spec('nomove'), '--format', 'jsonl'], { env: e })).code).toBe(1);
    const planFile = path.join(tempDir(), 'plan.json');
    expect((await runCli(['remediate', '--action', 'move', '--plan-out', planFile], { env: e })).code).toBe(0);
    const plan = await openPlan(planFile);
    // Someone else's \Deleted message: a plain EXPUNGE would take it too.
    const admin = await adminClient(server, 'nomove', USERS.nomove);
    await admin.mailboxOpen('INBOX');
    await admin.messageFlagsAdd({ uid: '2' }, ['\\Deleted'], { uid: true });
    await admin.logout();

    const wire: string[] = [];
    const key = parseEnvKey(TEST_KEY);
    const engine = createEngine((await loadRules([BUNDLED_RULES_DIR])).rules, key);
    const log = await AuditLog.open(path.join(tempDir(), 'audit.jsonl'), key);
    const ctx = { scanner: inlineScanner(engine, { minConfidence: 'low', maxNestingDepth: 5 }), plan, apply: true };
    const steps: StepRecord[] = [];
    await runPlan(plan, ctx, (source) => imapRemediation(source, ctx, { env: e, wireLog: (l) => wire.push(l), withoutCapabilities: ['MOVE'] }), log, (s) => steps.push(s));
    log.close();
    expect(steps.map((s) => s.status)).toEqual(['done', 'done']);
    const snap = await snapshot('nomove');
    expect(snap.INBOX?.map((r) => r.subject)).toEqual(['n2']);
    expect(snap.INBOX?.[0]?.flags).toContain('\\Deleted');
    expect(subjects(snap['PHI-Quarantine'])).toEqual(['n1', 'n3']);
    const commands = wire.map((l) => /^\S+ ((?:UID )?\S+)/.exec(l)?.[1]?.toUpperCase());
    expect(commands).toContain('CREATE');
    expect(commands).toContain('UID COPY');
    expect(commands).toContain('UID STORE');
    expect(commands.filter((c) => c === 'UID EXPUNGE').length).toBe(2);
    expect(commands).not.toContain('EXPUNGE');
    expect(commands).not.toContain('UID MOVE');
    for (const l of wire.filter((x) => / UID EXPUNGE /i.test(x))) expect(l).toMatch(/UID EXPUNGE (1|3)$/);
  });

  it('a run killed after moving, before logging it: the next --apply finds it moved and logs it once; one changed since the plan is skipped', { timeout: 120_000 }, async () => {
    await appendAll(server, 'killed', USERS.killed, { INBOX: [phi('k1'), phi('k2', SSNS[1])] });
    const state = tempDir();
    const e = env('killed', state);
    expect((await runCli(['scan', spec('killed'), '--format', 'jsonl'], { env: e })).code).toBe(1);
    const dir = tempDir();
    const planFile = path.join(dir, 'plan.json');
    expect((await runCli(['remediate', '--action', 'move', '--plan-out', planFile], { env: e })).code).toBe(0);
    const plan = Plan.parse(JSON.parse(readFileSync(planFile, 'utf8')));
    const k1 = plan.items.find((i) => i.messageId === '<k1@test.example>');
    // The log a killed run leaves: an intent for k1 and no outcome; k1 was moved meanwhile.
    const key = parseEnvKey(TEST_KEY);
    const logFile = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.open(logFile, key);
    log.append({ event: 'start', action: 'move' });
    log.append({ event: 'intent', action: 'move', source: k1?.source, mailbox: 'killed', messageId: k1?.messageId, from: { folder: 'INBOX', locator: k1?.locator }, fingerprints: k1?.fingerprints });
    log.close();
    expect((await verifyLog(logFile, key)).openIntents).toEqual([2]);
    const admin = await adminClient(server, 'killed', USERS.killed);
    await admin.mailboxCreate('PHI-Quarantine');
    await admin.mailboxOpen('INBOX');
    await admin.messageMove({ uid: '1' }, 'PHI-Quarantine', { uid: true });
    await admin.logout();
    // k2's plan entry is edited to claim a finding it does not hold: "changed", skipped.
    const edited = { ...plan, items: plan.items.map((i) => (i.messageId === '<k2@test.example>' ? { ...i, fingerprints: [...i.fingerprints, 'x'.repeat(32)] } : i)) };
    writeFileSync(planFile, JSON.stringify(edited));
    const applied = await runCli(['remediate', '--plan', planFile, '--apply', '--log', logFile], { env: e });
    expect(applied.code, applied.stderr).toBe(0);
    const steps = jsonLines(applied.stdout);
    expect(steps.map((s) => [s.messageId, s.status])).toEqual([
      ['<k1@test.example>', 'already-done'],
      ['<k2@test.example>', 'skipped'],
    ]);
    expect(String(steps[1]?.reason)).toMatch(/changed: 1 of the plan's/);
    const snap = await snapshot('killed');
    expect(subjects(snap['PHI-Quarantine'])).toEqual(['k1']);
    expect(subjects(snap.INBOX)).toEqual(['k2']);
    const v = await verifyLog(logFile, key);
    expect(v.ok).toBe(true);
    expect(v.openIntents).toEqual([]);
    expect(v.entries.find((x) => x.refers === 2)).toMatchObject({ event: 'done', to: { folder: 'PHI-Quarantine', uid: 1 } });
  });

  it('a folder recreated since the plan (new UIDVALIDITY, the same message at the same UID): skipped as changed, nothing moved', { timeout: 180_000 }, async () => {
    await appendAll(server, 'changed', USERS.changed, { INBOX: [clean('r0')], Work: [phi('r1')] });
    const state = tempDir();
    const e = env('changed', state);
    expect((await runCli(['scan', spec('changed'), '--format', 'jsonl'], { env: e })).code).toBe(1);
    const dir = tempDir();
    const planFile = path.join(dir, 'plan.json');
    expect((await runCli(['remediate', '--action', 'move', '--plan-out', planFile], { env: e })).code).toBe(0);
    expect(Plan.parse(JSON.parse(readFileSync(planFile, 'utf8'))).items.map((i) => i.locator)).toEqual([expect.stringMatching(/^Work:\d+:1$/)]);
    // The owner recreates Work and puts r1 back: UID 1 again, under a new UIDVALIDITY (RFC 3501 §2.3.1.1).
    const admin = await adminClient(server, 'changed', USERS.changed);
    try {
      const validity = async (): Promise<string> => {
        const st = await admin.status('Work', { uidValidity: true });
        return st ? String(st.uidValidity) : '';
      };
      const old = await validity();
      let fresh = old;
      for (let i = 0; i < 30 && fresh === old; i++) {
        await admin.mailboxDelete('Work').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
        await admin.mailboxCreate('Work');
        fresh = await validity();
      }
      expect(fresh).not.toBe(old);
      await admin.append('Work', phi('r1'));
    } finally {
      await admin.logout();
    }
    const before = await snapshot('changed');
    expect(before.Work?.map((r) => [r.subject, r.uid])).toEqual([['r1', 1]]);
    const log = path.join(dir, 'audit.jsonl');
    const applied = await runCli(['remediate', '--plan', planFile, '--apply', '--log', log], { env: e });
    expect(applied.code, applied.stderr).toBe(0);
    expect(jsonLines(applied.stdout).map((x) => [x.messageId, x.status, x.reason])).toEqual([['<r1@test.example>', 'skipped', 'changed: the folder was recreated (UIDVALIDITY differs)']]);
    expect(await snapshot('changed')).toEqual(before);
    expect((await verifyLog(log, parseEnvKey(TEST_KEY))).entries.filter((x) => x.event === 'skipped').map((x) => x.messageId)).toEqual(['<r1@test.example>']);
  });

  it('a dry run sends only read-only commands (EXAMINE, SEARCH, FETCH BODY.PEEK): no SELECT, STORE, COPY, MOVE, EXPUNGE or CREATE', { timeout: 120_000 }, async () => {
    await appendAll(server, 'dry', USERS.dry, { INBOX: [phi('d1'), clean('d2')] });
    const state = tempDir();
    const e = env('dry', state);
    expect((await runCli(['scan', spec('dry'), '--format', 'jsonl'], { env: e })).code).toBe(1);
    const planFile = path.join(tempDir(), 'plan.json');
    expect((await runCli(['remediate', '--action', 'move', '--plan-out', planFile], { env: e })).code).toBe(0);
    const plan = await openPlan(planFile);
    const wire: string[] = [];
    const key = parseEnvKey(TEST_KEY);
    const engine = createEngine((await loadRules([BUNDLED_RULES_DIR])).rules, key);
    const ctx = { scanner: inlineScanner(engine, { minConfidence: 'low', maxNestingDepth: 5 }), plan, apply: false };
    const steps: StepRecord[] = [];
    await runPlan(plan, ctx, (source) => imapRemediation(source, ctx, { env: e, wireLog: (l) => wire.push(l) }), undefined, (x) => steps.push(x));
    expect(steps.map((x) => x.status)).toEqual(['would-act']);
    const commands = wire.map((l) => /^\S+ (?:UID )?(\S+)/.exec(l)?.[1]?.toUpperCase()).filter((c): c is string => c !== undefined);
    expect(commands).toContain('EXAMINE');
    for (const forbidden of ['SELECT', 'STORE', 'COPY', 'MOVE', 'EXPUNGE', 'APPEND', 'CREATE', 'DELETE']) expect(commands).not.toContain(forbidden);
    for (const f of wire.filter((l) => / FETCH /i.test(l))) expect(f).not.toMatch(/BODY\[|RFC822(?!\.SIZE)/i);
  });

  it('kill -9 in the middle of --apply: the log is intact and says what was done; the next --apply finishes without acting twice', { timeout: 300_000 }, async () => {
    const n = 40;
    await appendAll(server, 'sigkill', USERS.sigkill, { INBOX: Array.from({ length: n }, (_, i) => phi(`s${i}`, SSNS[i % 2])) });
    const state = tempDir();
    const e = env('sigkill', state);
    expect((await runCli(['scan', spec('sigkill'), '--format', 'jsonl'], { env: e })).code).toBe(1);
    const dir = tempDir();
    const planFile = path.join(dir, 'plan.json');
    expect((await runCli(['remediate', '--action', 'move', '--plan-out', planFile], { env: e })).code).toBe(0);
    const log = path.join(dir, 'audit.jsonl');
    const child = spawn(process.execPath, [CLI, 'remediate', '--plan', planFile, '--apply', '--log', log], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, ...e },
      stdio: 'ignore',
    });
    const closed = new Promise((r) => child.on('close', r));
    try {
      // Killed once a few moves are logged, while others are still to come.
      for (let i = 0; i < 1200; i++) {
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if ((text.match(/"event":"done"/g) ?? []).length >= 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      // Never left running after the test, whatever happened above.
      child.kill('SIGKILL');
      await closed;
    }
    const key = parseEnvKey(TEST_KEY);
    const v = await verifyLog(log, key);
    expect(v.ok, v.problems.join('; ')).toBe(true);
    expect(v.unendedSessions.length).toBe(1);
    const doneIds = new Set(v.entries.filter((x) => x.event === 'done').map((x) => x.messageId));
    expect(doneIds.size).toBeGreaterThanOrEqual(3);
    expect(doneIds.size).toBeLessThan(n);
    // What the log says is what the mailbox shows: every logged move is in quarantine; at most the
    // one open intent is unconfirmed.
    const mid = await snapshot('sigkill');
    const quarantined = new Set(subjects(mid['PHI-Quarantine']).map((x) => `<${x}@test.example>`));
    for (const id of doneIds) expect(quarantined.has(id as string)).toBe(true);
    expect(v.openIntents.length).toBeLessThanOrEqual(1);
    expect(quarantined.size - doneIds.size).toBeLessThanOrEqual(v.openIntents.length);

    const resumed = await runCli(['remediate', '--plan', planFile, '--apply', '--log', log], { env: e });
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = await snapshot('sigkill');
    expect(after.INBOX ?? []).toEqual([]);
    // Each message once in quarantine: no duplicates from acting twice.
    expect(subjects(after['PHI-Quarantine'])).toEqual(Array.from({ length: n }, (_, i) => `s${i}`).sort());
    const final = await verifyLog(log, key);
    expect(final.ok).toBe(true);
    expect(final.openIntents).toEqual([]);
    const doneOnce = final.entries.filter((x) => x.event === 'done').map((x) => x.messageId);
    expect(new Set(doneOnce).size).toBe(n);
    expect(doneOnce.length).toBe(n);
  });

  it('a connection cut in the middle of --apply: reconnected, and with a second --apply every message is moved exactly once', { timeout: 300_000 }, async () => {
    const n = 20;
    const pad = 'Lorem ipsum dolor sit amet. '.repeat(110);
    await appendAll(server, 'flaky', USERS.flaky, { INBOX: Array.from({ length: n }, (_, i) => message(`f${i}`, `Patient SSN: ${SSNS[i % 2]}\r\n${pad}`)) });
    // A TCP proxy in front of Dovecot: once armed, the next connection is cut after some KB
    // of server-to-client traffic (in the middle of the run's FETCHes).
    let cutAfter: number | undefined;
    let cuts = 0;
    const proxy = net.createServer((client) => {
      const limit = cutAfter;
      cutAfter = undefined;
      let bytes = 0;
      const upstream = net.connect(server.tlsPort, '127.0.0.1');
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d: Buffer) => {
        bytes += d.length;
        if (limit !== undefined && bytes > limit) {
          cuts++;
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
      const state = tempDir();
      const e = env('flaky', state);
      expect((await runCli(['scan', `imaps://flaky@127.0.0.1:${port}`, '--format', 'jsonl'], { env: e })).code).toBe(1);
      const log = path.join(tempDir(), 'audit.jsonl');
      cutAfter = 30_000;
      const first = await runCli(['remediate', '--action', 'move', '--apply', '--log', log], { env: e });
      expect(cuts).toBe(1);
      expect([0, 3]).toContain(first.code);
      const second = await runCli(['remediate', '--action', 'move', '--apply', '--log', log], { env: e });
      expect(second.code, second.stderr).toBe(0);
      const snap = await snapshot('flaky');
      expect(snap.INBOX ?? []).toEqual([]);
      expect(subjects(snap['PHI-Quarantine'])).toEqual(Array.from({ length: n }, (_, i) => `f${i}`).sort());
      const v = await verifyLog(log, parseEnvKey(TEST_KEY));
      expect(v.ok).toBe(true);
      expect(v.openIntents).toEqual([]);
      const done = v.entries.filter((x) => x.event === 'done').map((x) => x.messageId);
      expect(done.length).toBe(n);
      expect(new Set(done).size).toBe(n);
    } finally {
      proxy.close();
    }
  });
});
