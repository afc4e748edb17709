/** `phi-scan scan --config FILE`: YAML settings validated with zod; flags on the command line win. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;

describe('scan --config', () => {
  it('scans the sources with the settings and outputs of the file, incrementally', async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'box.mbox');
    writeFileSync(mbox, msg('a', 'SSN: 489-36-8350') + msg('b', 'hello'));
    const config = path.join(dir, 'scan.yaml');
    writeFileSync(
      config,
      [
        '# nightly, from phi-scan.timer',
        `sources: ["mbox:${mbox}"]`,
        `state: ${path.join(dir, 'state', 'phi.db')}`,
        'sinceLast: true',
        'minConfidence: high',
        'outputs:',
        `  - { format: jsonl, out: ${path.join(dir, 'out.jsonl')} }`,
        `  - { format: csv, out: ${path.join(dir, 'out.csv')} }`,
        'schedule: nightly 02:30',
      ].join('\n'),
    );
    const first = await runCli(['scan', '--config', config]);
    expect(first.code).toBe(1);
    expect(first.stdout).toBe('');
    const records = jsonLines(readFileSync(path.join(dir, 'out.jsonl'), 'utf8'));
    expect(records.filter((r) => r.type === 'message').map((r) => r.messageId)).toEqual(['<a@x>']);
    expect(readFileSync(path.join(dir, 'out.csv'), 'utf8')).toMatch(/<a@x>/);
    // The state database is the file the config names; the second run has nothing new.
    const second = await runCli(['scan', '--config', config, '--format', 'jsonl']);
    expect(second.code).toBe(0);
    expect(jsonLines(second.stdout).find((r) => r.type === 'mailbox')).toMatchObject({ messages: 0 });
    const report = await runCli(['report', '--state', path.join(dir, 'state', 'phi.db')]);
    expect(jsonLines(report.stdout).find((r) => r.type === 'mailbox')).toMatchObject({ messages: 2, messagesWithPhi: 1 });
  });

  it('names every wrong key and what is wrong (exit 2)', async () => {
    const config = path.join(tempDir(), 'bad.yaml');
    writeFileSync(config, 'sources: []\nminConfidence: huge\noutputs:\n  - format: pdf\n    oot: x\npassword: secret\n');
    const r = await runCli(['scan', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources: at least one source/);
    expect(r.stderr).toMatch(/minConfidence: /);
    expect(r.stderr).toMatch(/outputs\[0\]\.format: /);
    expect(r.stderr).toMatch(/outputs\[0\]: Unrecognized key: "oot"/);
    expect(r.stderr).toMatch(/Unrecognized key: "password"/);
    // The value of an unknown key is never echoed.
    expect(r.stderr).not.toMatch(/secret/);
  });

  it('no SOURCE and no --config is a usage error', async () => {
    const r = await runCli(['scan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/at least one SOURCE, or --config FILE/);
  });
});
