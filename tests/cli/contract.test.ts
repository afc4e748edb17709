/** CLI runs against CONTRACT.md: JSONL records field by field, exit codes, bad input. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';
import { AnyRecord } from '../helpers/records.js';


const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
function mbox(messages: string[]): string {
  return messages.map((m) => `${FROM}\n${m.replace(/^From /gm, '>From ')}\n`).join('\n');
}

describe('scan mbox: records per CONTRACT.md', () => {
  const dir = tempDir();
  const file = path.join(dir, 'Front Desk.mbox');
  writeFileSync(
    file,
    mbox([
      'Message-ID: <a1@example.org>\nDate: Tue, 5 Mar 2024 10:00:00 +0000\nSubject: intake\n\nPatient SSN: 489-36-8350\nAlso SSN 514-14-8905\n',
      'Message-ID: <a2@example.org>\nSubject: lunch\n\nCall 555-123-4567 about order 536904399\n',
      'Subject: no id\n\nsocial security no 690-05-5315\n',
    ]),
  );

  it('writes valid records in order, exits 1', async () => {
    const { code, stdout, stderr } = await runCli(['scan', `mbox:${file}`]);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const records = jsonLines(stdout).map((r) => AnyRecord.parse(r));
    expect(records.map((r) => r.type)).toEqual(['finding', 'finding', 'message', 'finding', 'message', 'mailbox', 'run']);
    const [f1, f2, m1, f3, m2, mb, run] = records;
    expect(f1).toMatchObject({ source: `mbox:${file}`, mailbox: 'Front Desk', folder: 'INBOX', messageId: '<a1@example.org>', location: 'body', rule: 'ssn', category: 'ssn', confidence: 'high', masked: '•••-••-8350' });
    expect(f2).toMatchObject({ masked: '•••-••-8905' });
    expect(m1).toEqual({ type: 'message', source: `mbox:${file}`, mailbox: 'Front Desk', folder: 'INBOX', messageId: '<a1@example.org>', date: '2024-03-05T10:00:00.000Z', categories: ['ssn'], findings: 2 });
    expect(f3).toMatchObject({ messageId: expect.stringMatching(/^<sha256:[0-9a-f]{64}>$/), masked: '•••-••-5315' });
    expect(m2).toMatchObject({ date: null, findings: 1 });
    expect(mb).toEqual({ type: 'mailbox', source: `mbox:${file}`, mailbox: 'Front Desk', messages: 3, messagesWithPhi: 2, byCategory: { ssn: 3 }, errors: 0, skipped: 0 });
    expect(run).toMatchObject({ type: 'run', status: 'complete', messages: 3, messagesWithPhi: 2, errors: 0, skipped: 0, strict: false });
  });

  it('uses --mailbox, honours --min-confidence, and exits 0 when nothing reaches it', async () => {
    const low = path.join(dir, 'low.mbox');
    writeFileSync(low, mbox(['Message-ID: <l@x>\nSubject: s\n\nsee 536-90-4399 attached\n']));
    const medium = await runCli(['scan', `mbox:${low}`, '--mailbox', 'Billing']);
    expect(medium.code).toBe(0);
    expect(jsonLines(medium.stdout)).toEqual([
      { type: 'mailbox', source: `mbox:${low}`, mailbox: 'Billing', messages: 1, messagesWithPhi: 0, byCategory: {}, errors: 0, skipped: 0 },
      expect.objectContaining({ type: 'run', status: 'complete' }),
    ]);
    const lowRun = await runCli(['scan', `mbox:${low}`, '--min-confidence', 'low']);
    expect(lowRun.code).toBe(1);
    expect(jsonLines(lowRun.stdout)[0]).toMatchObject({ type: 'finding', confidence: 'low' });
  });

  it('gives the same fingerprints for the same values under one key, different under another', async () => {
    const a = jsonLines((await runCli(['scan', `mbox:${file}`])).stdout).filter((r) => r.type === 'finding');
    const b = jsonLines((await runCli(['scan', `mbox:${file}`])).stdout).filter((r) => r.type === 'finding');
    const c = jsonLines((await runCli(['scan', `mbox:${file}`], { env: { PHI_SCAN_KEY: 'another-key-another-key-another' } })).stdout).filter((r) => r.type === 'finding');
    expect(b.map((r) => r.fingerprint)).toEqual(a.map((r) => r.fingerprint));
    expect(c.map((r) => r.fingerprint)).not.toEqual(a.map((r) => r.fingerprint));
  });
});

describe('bad input', () => {
  const dir = tempDir();

  it('a missing path: exit 2, one line naming it, no records', async () => {
    const r = await runCli(['scan', `mbox:${dir}/nope.mbox`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([`phi-scan: ${dir}/nope.mbox: no such file or directory`]);
  });

  it('a file that is not an mbox: exit 2 naming it', async () => {
    const f = path.join(dir, 'report.pdf');
    writeFileSync(f, '%PDF-1.7\n...');
    const r = await runCli(['scan', `mbox:${f}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`phi-scan: ${f}: not an mbox file (does not start with a From_ line)\n`);
  });

  it('an unreadable file: exit 2 naming it', async () => {
    if (process.getuid?.() === 0) return; // root reads everything; nothing to prove here
    const f = path.join(dir, 'locked.mbox');
    writeFileSync(f, mbox(['Subject: x\n\nx\n']), { mode: 0o000 });
    const r = await runCli(['scan', `mbox:${f}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(f);
  });

  it('unknown scheme, unknown flag, bad value: exit 2', async () => {
    expect((await runCli(['scan', 'ftp:x'])).code).toBe(2);
    expect((await runCli(['scan', 'mbox:x', '--bogus'])).code).toBe(2);
    expect((await runCli(['scan', 'mbox:x', '--min-confidence', 'sure'])).code).toBe(2);
    expect((await runCli(['scan', 'mbox:x', '--concurrency', '0'])).code).toBe(2);
    expect((await runCli(['scan'])).code).toBe(2);
  });

  it('a corrupt message and an oversize one are error records; every other message is still scanned (exit 3)', async () => {
    const f = path.join(dir, 'mixed.mbox');
    writeFileSync(
      f,
      mbox([
        'Message-ID: <ok1@x>\nSubject: one\n\nSSN: 489-36-8350\n',
        `Message-ID: <big@x>\nSubject: big\n\n${'z'.repeat(300_000)}\n`,
        'Message-ID: <deep@x>\nSubject: nest\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream; name=blob.bin\nContent-Transfer-Encoding: base64\n\nAAAA####\n',
        'Message-ID: <ok2@x>\nSubject: two\n\nSSN: 514-14-8905\n',
      ]),
    );
    const r = await runCli(['scan', `mbox:${f}`, '--max-message-size', '100KB']);
    expect(r.code).toBe(3);
    const records = jsonLines(r.stdout).map((x) => AnyRecord.parse(x));
    const errors = records.filter((x) => x.type === 'error');
    expect(errors).toEqual([
      expect.objectContaining({ messageId: '<big@x>', code: 'oversize', mailbox: 'mixed', folder: 'INBOX' }),
      expect.objectContaining({ messageId: '<deep@x>', code: 'unsupported-attachment', location: 'attachment:blob.bin' }),
    ]);
    expect(records.filter((x) => x.type === 'message').map((x) => (x as { messageId: string }).messageId)).toEqual(['<ok1@x>', '<ok2@x>']);
    // The attachment type with no reader is not read by design (skipped); the oversize message failed.
    expect(records.at(-2)).toMatchObject({ type: 'mailbox', messages: 4, messagesWithPhi: 2, errors: 1, skipped: 1 });
    expect(records.at(-1)).toMatchObject({ type: 'run', status: 'incomplete' });
  });
});

describe('rules commands', () => {
  it('rules list names the bundled rules', async () => {
    const r = await runCli(['rules', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^RULE\s+CATEGORY\s+ROLE\s+REPORTED\s+DETECTOR/);
    expect(r.stdout).toMatch(/\nssn\s+ssn\s+identifier\s+reported\s+ssn\s+\d+\s/);
    // A context-only rule says it is never reported.
    expect(r.stdout).toMatch(/\nnpi\s+\S+\s+context\s+never reported; corroborates\s+npi\s/);
  });

  it('rules test - prints line:column, masked findings and their explanation', async () => {
    const r = await runCli(['rules', 'test', '-'], { input: `Patient SSN: 536-90-4399\n${'filler text '.repeat(40)}\nsee 489-36-8350\n` });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      '1:14\tssn\tssn\thigh\t0.90\t•••-••-4399\tpattern=dashed-or-dotted verdict=valid label="ssn"',
      '3:5\tssn\tssn\tlow\t0.40\t•••-••-8350\tpattern=dashed-or-dotted verdict=valid',
    ]);
    expect(r.stdout).not.toContain('536-90-4399');
  });

  it('an invalid rules folder: exit 2 naming file, path inside it and the problem', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'bad.yaml'), 'id: Bad Id\ncategory: ssn\ndetector: ssn\ndescription: x\npatterns:\n  - name: p\n    regex: "(a+)+$"\n    score: 2\nexamples:\n  match: [a]\n  noMatch: [b]\n');
    writeFileSync(path.join(dir, 'broken.yaml'), 'id: [unclosed\n');
    const r = await runCli(['scan', 'mbox:/dev/null', '--rules', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir}/bad.yaml: id: lower-case letters, digits and dashes`);
    expect(r.stderr).toContain(`${dir}/bad.yaml: patterns.0.score: `);
    expect(r.stderr).toContain(`${dir}/broken.yaml: `);
  });

  it('a user rule that can backtrack catastrophically is refused', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'slow.yaml'), 'id: slow\ncategory: ssn\ndetector: ssn\ndescription: x\npatterns:\n  - name: p\n    regex: "(\\\\d+)+x"\n    score: 0.5\nexamples:\n  match: [a]\n  noMatch: [b]\n');
    const r = await runCli(['rules', 'list', '--rules', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir}/slow.yaml (rule slow): patterns.0.regex: may backtrack catastrophically`);
  });
});

describe('user rules and allowlists', () => {
  it('--rules builtin --rules DIR adds an allowlist to the bundled rules without editing them', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'our-test-patients.yaml'), 'kind: allowlist\ndescription: our QA patients\nentries:\n  - rules: [ssn]\n    values: ["489-36-8350"]\n');
    const input = 'Patient SSN: 489-36-8350\nOther SSN: 514-14-8905\n';
    const ours = await runCli(['rules', 'test', '-', '--rules', 'builtin', '--rules', dir], { input });
    expect(ours.stdout).not.toContain('8350');
    expect(ours.stdout).toContain('•••-••-8905');
    const bundled = await runCli(['rules', 'test', '-'], { input });
    expect(bundled.stdout).toContain('•••-••-8350');
  });

  it('an allowlist naming an unknown rule is a configuration error', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'allow.yaml'), 'kind: allowlist\nentries:\n  - rules: [nope]\n    values: ["x"]\n');
    const r = await runCli(['rules', 'list', '--rules', 'builtin', '--rules', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir}/allow.yaml: entries.0.rules: unknown rule 'nope'`);
  });
});
