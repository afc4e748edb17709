/**
 * Start-up loads what the command needs, no more (cli/program.ts): `--version` loads no command,
 * a command loads only its own module, and the libraries of sources, extractors and the queue
 * load when first used. Start-up is most of what a short command costs, and the test suite runs
 * hundreds. Checked on the built CLI by listing every module it loads (a module loader hook).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandsFor } from '../../src/cli/program.js';
import { CLI, TEST_KEY, tempDir } from '../helpers/cli.js';
import { DEMO } from '../helpers/demo.js';

/** Runs the built CLI; resolves with its exit status and the URL of every module it loaded. */
function modulesLoaded(args: string[]): Promise<{ code: number | null; modules: string[] }> {
  const list = path.join(tempDir(), 'modules.txt');
  const hook = `data:text/javascript,${encodeURIComponent(
    `import { appendFileSync } from 'node:fs'; let out; export function initialize(data) { out = data.out; }
     export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }`,
  )}`;
  const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hook)}, { data: { out: ${JSON.stringify(list)} } });`)}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', register, CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PHI_SCAN_KEY: TEST_KEY, PHI_SCAN_STATE: tempDir('phi-state-') },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, modules: readFileSync(list, 'utf8').split('\n').filter(Boolean) }));
  });
}

const ofPackage = (modules: readonly string[], name: string): string[] => modules.filter((m) => m.includes(`/node_modules/${name}/`));
const ofCli = (modules: readonly string[], file: string): string[] => modules.filter((m) => m.endsWith(`/dist/cli/${file}.js`));
/** Libraries a scan of a message in a file needs none of: other sources', other extractors', the queue's. */
const NOT_FOR_A_PLAIN_SCAN = ['bullmq', 'ioredis', 'imapflow', '@azure/msal-node', '@microsoft/microsoft-graph-client', 'unpdf', 'tesseract.js', '@kenjiuno/msgreader'];

describe('start-up', () => {
  it('the command table names every command once; an argument list needs its own command, none for --version, all otherwise', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(['scan', 'worker', 'report', 'remediate', 'edm', 'runs', 'diff', 'rules']);
    expect(commandsFor(['--version'])).toEqual([]);
    expect(commandsFor(['-V'])).toEqual([]);
    expect(commandsFor(['scan', 'mbox:x', '--help'])).toEqual(['scan']);
    expect(commandsFor(['help', 'report'])).toEqual(['report']);
    // Help, no command, a mistyped one: commander lists them all or suggests the nearest.
    for (const args of [[], ['--help'], ['help'], ['scna'], ['--bogus', 'scan']]) expect(commandsFor(args), args.join(' ')).toEqual(names);
  });

  it('--version loads no command and none of the libraries', async () => {
    const { code, modules } = await modulesLoaded(['--version']);
    expect(code).toBe(0);
    expect(ofCli(modules, 'program')).toHaveLength(1); // the list is real
    for (const c of COMMANDS) expect(ofCli(modules, c.name), c.name).toEqual([]);
    expect(modules.filter((m) => /\/dist\/(session|pipeline|sources|extract|queue|state|engine)\//.test(m))).toEqual([]);
    for (const name of ['mailparser', 'better-sqlite3', 'yaml', ...NOT_FOR_A_PLAIN_SCAN]) expect(ofPackage(modules, name), name).toEqual([]);
  });

  it('scan of one message file loads the scan command only, and no library of another source, extractor or the queue', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in'));
    const eml = readdirSync(path.join(DEMO, 'eml', 'intake'))[0] as string;
    copyFileSync(path.join(DEMO, 'eml', 'intake', eml), path.join(dir, 'in', eml));
    const { code, modules } = await modulesLoaded(['scan', `eml:${path.join(dir, 'in')}`, '--format', 'jsonl']);
    expect([0, 1]).toContain(code);
    expect(ofPackage(modules, 'mailparser').length).toBeGreaterThan(0); // it did scan
    for (const c of COMMANDS) expect(ofCli(modules, c.name), c.name).toHaveLength(c.name === 'scan' ? 1 : 0);
    for (const name of NOT_FOR_A_PLAIN_SCAN) expect(ofPackage(modules, name), name).toEqual([]);
  });
});
