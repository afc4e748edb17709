/**
 * Re-verification reads a message as the scan did: a finding only the scan's roster finds
 * (`edm-ssn`) or one deeper in nested attachments than the default depth is found again only with
 * the scan's `--edm` / `--max-depth` (or its `--config` file). Without the roster the plan is refused (exit 2: it says
 * which messages need it); without the depth those messages are skipped, and stderr says why.
 * Messages are read again in worker threads under the scan's fences: one that hangs or exhausts
 * its thread's memory fails its step (exit 3) instead of stopping the run, and is not quarantined.
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitMbox } from '../../src/sources/mbox-split.js';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

const ROSTER_SSN = '536904399';
const LABELLED_SSN = '489-36-8350';
const DEEP_SSN = '512-84-3921';

function headers(id: string): string {
  return `From: clinic@example.org\nTo: billing@example.org\nSubject: ${id}\nMessage-ID: <${id}@test.example>\nDate: Mon, 4 Mar 2024 09:15:00 +0000\n`;
}

/** A message whose text sits `depth` attached messages down. */
function nested(id: string, depth: number, text: string): string {
  let inner = `${headers(`${id}-inner`)}\n${text}\n`;
  for (let level = depth; level >= 1; level--) {
    const boundary = `b-${id}-${level}`;
    const head = level === 1 ? headers(id) : headers(`${id}-${level}`);
    inner = `${head}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="${boundary}"\n\n--${boundary}\nContent-Type: text/plain\n\nSee attached.\n--${boundary}\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="fwd-${level}.eml"\n\n${inner}\n--${boundary}--\n`;
  }
  return inner;
}

describe('remediate: messages read again with the scan\'s detection settings', () => {
  it('--edm and --max-depth as the scan had them: found again; without them: refused (roster) or skipped (depth), said on stderr', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const env = { PHI_SCAN_STATE: tempDir() };
    const roster = path.join(dir, 'roster.csv');
    writeFileSync(roster, `ssn,last_name,first_name\n${ROSTER_SSN.replace(/^(\d{3})(\d{2})/, '$1-$2-')},Quill,Edmund\n`);
    const outputs: string[] = [];
    const cli = async (args: string[], code: number): Promise<{ stdout: string; stderr: string }> => {
      const r = await runCli(args, { env });
      expect(r.code, r.stderr).toBe(code);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    await cli(['edm', 'build', roster, '--columns', 'ssn,last_name,first_name', '--out', path.join(dir, 'roster.edm')], 0);
    const mbox = path.join(dir, 'billing.mbox');
    const from = 'From clinic@example.org Mon Mar  4 09:15:00 2024\n';
    writeFileSync(
      mbox,
      [
        `${headers('roster')}\nRef ${ROSTER_SSN} attached.\n`,
        `${headers('labelled')}\nPatient SSN: ${LABELLED_SSN} for the claim.\n`,
        nested('deep', 7, `Patient SSN: ${DEEP_SSN} for the referral.`),
      ]
        .map((m) => `${from}${m}\n`)
        .join(''),
    );
    const scan = jsonLines((await cli(['scan', `mbox:${mbox}`, '--edm', path.join(dir, 'roster.edm'), '--max-depth', '8', '--format', 'jsonl'], 1)).stdout);
    const rules = (id: string): unknown[] => scan.filter((r) => r.type === 'finding' && r.messageId === `<${id}@test.example>`).map((r) => r.rule);
    expect(rules('roster')).toEqual(['edm-ssn']);
    expect(rules('deep')).toContain('ssn');

    // Built without the roster: the plan is written, and refused for the messages that need it.
    const plan = path.join(dir, 'plan.json');
    const refused = await cli(['remediate', '--action', 'move', '--to', path.join(dir, 'out'), '--plan-out', plan], 2);
    expect(refused.stderr).toMatch(/the plan holds 1 messages with findings only the scan's roster finds \(edm-ssn\): give --edm FILE/);
    expect(refused.stdout).toBe('');
    const items = (JSON.parse(readFileSync(plan, 'utf8')) as { items: { messageId: string; needsRoster?: boolean }[] }).items;
    expect(items.map((i) => [i.messageId, i.needsRoster ?? false])).toEqual([
      ['<roster@test.example>', true],
      ['<labelled@test.example>', false],
      ['<deep@test.example>', false],
    ]);
    await cli(['remediate', '--plan', plan], 2);

    const steps = async (extra: string[]): Promise<{ steps: [unknown, unknown][]; stderr: string }> => {
      const r = await cli(['remediate', '--plan', plan, '--edm', path.join(dir, 'roster.edm'), ...extra], 0);
      return { steps: jsonLines(r.stdout).map((s) => [s.messageId, s.status]), stderr: r.stderr };
    };
    // The roster, not the depth: the deep message's finding is not read again.
    const shallow = await steps([]);
    expect(shallow.steps).toEqual([
      ['<roster@test.example>', 'would-act'],
      ['<labelled@test.example>', 'would-act'],
      ['<deep@test.example>', 'skipped'],
    ]);
    expect(shallow.stderr).toMatch(/1 messages skipped because findings of the plan were not found again: .*--max-depth/);
    // Both, as the scan had them: every message found again.
    const same = await steps(['--max-depth', '8']);
    expect(same.steps.map(([, s]) => s)).toEqual(['would-act', 'would-act', 'would-act']);
    expect(same.stderr).not.toMatch(/not found again/);
    // The scan's own settings file gives both; a flag given here wins over it.
    const config = path.join(dir, 'nightly.yaml');
    writeFileSync(config, `sources: [mbox:${mbox}]\nedm: ${path.join(dir, 'roster.edm')}\nmaxDepth: 8\n`);
    const viaConfig = jsonLines((await cli(['remediate', '--plan', plan, '--config', config], 0)).stdout);
    expect(viaConfig.map((r) => r.status)).toEqual(['would-act', 'would-act', 'would-act']);
    const overridden = jsonLines((await cli(['remediate', '--plan', plan, '--config', config, '--max-depth', '5'], 0)).stdout);
    expect(overridden.map((r) => r.status)).toEqual(['would-act', 'would-act', 'skipped']);

    outputs.push(readFileSync(plan, 'utf8'));
    for (const t of outputs) for (const v of [ROSTER_SSN, LABELLED_SSN, DEEP_SSN, '536-90-4399']) expect(t).not.toContain(v);
  });

  it('--message-timeout and --thread-memory fence each message read again: a hang and a memory hog fail their steps, the others go on', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const env = { PHI_SCAN_STATE: tempDir() };
    const mbox = path.join(dir, 'billing.mbox');
    const from = 'From clinic@example.org Mon Mar  4 09:15:00 2024\n';
    const bodies: [string, string][] = [
      ['hang', LABELLED_SSN],
      ['oom', DEEP_SSN],
      ['plain', '401-52-7713'],
    ];
    // The hook headers are ordinary mail to the scan (no PHI_SCAN_TEST_HOOKS): found and planned.
    writeFileSync(mbox, bodies.map(([id, ssn]) => `${from}${headers(id)}X-Phi-Scan-Test-Hook: ${id}\n\nPatient SSN: ${ssn} for the claim.\n\n`).join(''));
    expect((await runCli(['scan', `mbox:${mbox}`, '--format', 'jsonl'], { env })).code).toBe(1);
    const out = path.join(dir, 'out');
    const r = await runCli(['remediate', '--action', 'move', '--to', out, '--apply', '--log', path.join(dir, 'audit.jsonl'), '--message-timeout', '3', '--thread-memory', '64'], { env: { ...env, PHI_SCAN_TEST_HOOKS: '1' } });
    expect(r.code, r.stderr).toBe(3);
    const steps = jsonLines(r.stdout).map((s) => [s.messageId, s.status, s.reason ?? null]);
    expect(steps).toEqual([
      ['<hang@test.example>', 'failed', expect.stringMatching(/^cannot verify: message not scanned: still scanning after 3 s/)],
      ['<oom@test.example>', 'failed', expect.stringMatching(/^cannot verify: message not scanned: /)],
      ['<plain@test.example>', 'done', null],
    ]);
    // Only what was verified is quarantined; the source is never modified.
    const ids: string[] = [];
    for await (const m of splitMbox(createReadStream(path.join(out, 'quarantine', 'billing.mbox')) as AsyncIterable<Buffer>, { maxMessageBytes: 1 << 20 })) ids.push(/Message-ID: <([^@]+)@/.exec(m.bytes.toString('latin1'))?.[1] ?? '');
    expect(ids).toEqual(['plain']);
  });
});
