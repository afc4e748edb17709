/**
 * `scan --config` outputs (a scheduled scan) are the state store's picture, not the night's run:
 * after a night with one new message, the page still counts every message holding PHI.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, tempDir } from '../helpers/cli.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;

describe('scan --config outputs', () => {
  it('render the state picture after an incremental run, named as such; plain --format renders the run', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'box.mbox');
    writeFileSync(mbox, msg('a', 'SSN: 489-36-8350') + msg('b', 'SSN: 514-14-8905') + msg('c', 'hello'));
    const out = (f: string): string => path.join(dir, f);
    const config = out('nightly.yaml');
    writeFileSync(
      config,
      [
        `sources: ["mbox:${mbox}"]`,
        `state: ${out('state.db')}`,
        'sinceLast: true',
        'outputs:',
        `  - { format: jsonl, out: ${out('last.jsonl')} }`,
        `  - { format: html, out: ${out('last.html')} }`,
        `  - { format: json, out: ${out('last.json')} }`,
        `  - { format: csv, out: ${out('last.csv')} }`,
      ].join('\n'),
    );
    expect((await runCli(['scan', '--config', config])).code).toBe(1);
    // The next night: one new message holding PHI.
    appendFileSync(mbox, msg('d', 'SSN: 536-22-8726'));
    expect((await runCli(['scan', '--config', config])).code).toBe(1);
    // The run's own records: the one new message.
    const records = jsonLines(readFileSync(out('last.jsonl'), 'utf8'));
    expect(records.find((r) => r.type === 'mailbox')).toMatchObject({ messages: 1 });
    // The rendered outputs: the whole picture, as `report` gives it.
    const json = JSON.parse(readFileSync(out('last.json'), 'utf8')) as { scope: unknown; totals: { messages: number; messagesWithPhi: number }; messages: unknown[] };
    expect(json.scope).toEqual({ kind: 'picture', asOf: 2 });
    expect(json.totals).toMatchObject({ messages: 4, messagesWithPhi: 3 });
    expect(json.messages.length).toBe(3);
    const report = JSON.parse((await runCli(['report', '--format', 'json', '--state', out('state.db')])).stdout) as typeof json;
    expect(report.totals).toEqual(json.totals);
    expect(readFileSync(out('last.csv'), 'utf8').trim().split('\r\n').length - 1).toBe(3);
    const html = readFileSync(out('last.html'), 'utf8');
    expect(html).toMatch(/State picture as of run #2/);
    expect(html).toMatch(/<b data-figure="messagesWithPhi">3<\/b><span>of 4 messages hold PHI/);
    // Without --config, --format html is the run's view, and says so.
    const run = await runCli(['scan', `mbox:${mbox}`, '--format', 'html', '--state', out('state.db')]);
    expect(run.stdout).toMatch(/Run #3 \([^)]*\): the messages this run scanned/);
    expect(run.stdout).toMatch(/<b data-figure="messagesWithPhi">3<\/b><span>of 4 messages hold PHI/);
    for (const raw of ['489-36-8350', '514-14-8905', '536-22-8726', '489368350']) {
      expect(html + run.stdout + JSON.stringify(json)).not.toContain(raw);
    }
  });
});
