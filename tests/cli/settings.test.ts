/**
 * One settings value (issue 17): every scan flag has its key in ScanSettings, so --config covers
 * all of them; flags win over the file key by key; the session runs a scan from the settings in
 * this process (no CLI spawned).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { loadScanConfig } from '../../src/cli/config.js';
import { scanSettings } from '../../src/cli/scan.js';
import { runScanSession } from '../../src/session/session.js';
import { ScanSettingsSchema } from '../../src/pipeline/settings.js';
import { ScanError } from '../../src/common/errors.js';
import { SOURCES } from '../../src/sources/registry.js';
import { TEST_KEY, jsonLines, tempDir } from '../helpers/cli.js';

const FROM = 'From sender@example.org Mon Mar  4 09:15:00 2024';
const msg = (id: string, body: string): string => `${FROM}\nMessage-ID: <${id}@x>\nSubject: ${id}\n\n${body}\n\n`;

/** Flags of a source's own settings: the key under the source's name they set. */
const SOURCE_FLAGS: Record<string, [string, string]> = {
  accounts: ['imap', 'accountsFile'],
  folders: ['imap', 'folders'],
  excludeFolders: ['imap', 'excludeFolders'],
  imapConnections: ['imap', 'connectionsPerHost'],
  imapTimeout: ['imap', 'timeoutMs'],
  users: ['graph', 'users'],
  group: ['graph', 'group'],
  includeHiddenFolders: ['graph', 'includeHiddenFolders'],
  graphConcurrency: ['graph', 'globalConcurrency'],
};

describe('ScanSettings', () => {
  it('every scan flag has its key in the settings (top level, or under its source)', async () => {
    const scan = (await buildProgram(() => undefined)).commands.find((c) => c.name() === 'scan');
    const names = (scan?.options ?? []).map((o) => o.attributeName()).filter((n) => n !== 'config');
    expect(names.length).toBeGreaterThanOrEqual(30);
    const top = Object.keys(ScanSettingsSchema.shape);
    const bySource = Object.fromEntries(SOURCES.map((s) => [s.name, s.settings]));
    for (const name of names) {
      const mapped = SOURCE_FLAGS[name];
      if (mapped) {
        expect(bySource[mapped[0]], name).toBeDefined();
        expect(Object.keys((bySource[mapped[0]] as unknown as { shape: object }).shape), name).toContain(mapped[1]);
      } else expect(top, name).toContain(name);
    }
  });

  it('a config file may give any flag and each source\'s settings; unknown keys are errors', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'all.yaml');
    writeFileSync(
      file,
      [
        'sources: ["mbox:/a.mbox"]',
        'strict: true',
        'threads: 0',
        'maxAttachmentSize: 20MB',
        'attachmentTimeout: 10',
        'waitLock: 5',
        'progress: false',
        'color: false',
        'ignoreFile: ignore.txt',
        'imap: { accountsFile: accounts.yaml, excludeFolders: [Trash], timeoutMs: 5000 }',
        'graph: { group: g-1, globalConcurrency: 8 }',
      ].join('\n'),
    );
    const config = await loadScanConfig(file);
    expect(config).toMatchObject({ strict: true, threads: 0, maxAttachmentSize: 20 * 1024 * 1024, progress: false });
    expect((config as Record<string, unknown>).imap).toEqual({ accountsFile: 'accounts.yaml', excludeFolders: ['Trash'], timeoutMs: 5000 });
    writeFileSync(file, 'sources: ["mbox:/a.mbox"]\nimap: { password: hunter2 }\n');
    const err = await loadScanConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanError);
    expect(String((err as Error).message)).toMatch(/imap: Unrecognized key: "password"/);
    expect(String((err as Error).message)).not.toMatch(/hunter2/);
  });

  it('flags win over the file, key by key (a source\'s settings merged); sources from both', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'scan.yaml');
    writeFileSync(file, 'sources: ["mbox:/a.mbox"]\nconcurrency: 2\nstrict: true\nimap: { excludeFolders: [Trash], timeoutMs: 5000 }\noutputs: [{ format: csv, out: r.csv }]\n');
    const s = (await scanSettings(['mbox:/b.mbox'], { config: file, concurrency: 4, imapTimeout: 9, format: 'jsonl' })) as Record<string, unknown>;
    expect(s.sources).toEqual(['mbox:/a.mbox', 'mbox:/b.mbox']);
    expect(s.concurrency).toBe(4);
    expect(s.strict).toBe(true);
    expect(s.imap).toEqual({ excludeFolders: ['Trash'], timeoutMs: 9000 });
    // --format on the command line: one report instead of the file's outputs.
    expect(s.outputs).toBeUndefined();
    await expect(scanSettings([], {})).rejects.toThrow(/at least one SOURCE, or --config FILE/);
    await expect(scanSettings(['mbox:/a.mbox'], { users: 'a@x' })).rejects.toThrow(/apply to graph:\/\/ sources/);
  });

  it('runScanSession scans in this process: jsonl on the given stream, the exit status, the state store', async () => {
    const dir = tempDir();
    const mbox = path.join(dir, 'box.mbox');
    writeFileSync(mbox, msg('a', 'SSN: 489-36-8350') + msg('b', 'hello'));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const env = { PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: path.join(dir, 'state') };
    const code = await runScanSession({ sources: [`mbox:${mbox}`], format: 'jsonl', threads: 0 }, { stdout, stderr, env });
    expect(code).toBe(1);
    const records = jsonLines(out);
    expect(records.filter((r) => r.type === 'finding').map((r) => r.messageId)).toEqual(['<a@x>']);
    expect(records.at(-1)).toMatchObject({ type: 'run', status: 'complete' });
    expect(out).not.toMatch(/489-36-8350|489368350/);
    // The same state folder: the second run (since-last) has nothing new.
    const again = await runScanSession({ sources: [`mbox:${mbox}`], format: 'jsonl', sinceLast: true, threads: 0 }, { stdout: new PassThrough(), stderr, env });
    expect(again).toBe(0);
    await expect(runScanSession({ sources: [], format: 'jsonl' }, { env })).rejects.toThrow(/sources: at least one source/);
  });
});
