/**
 * The fingerprint key: `PHI_SCAN_KEY`, or a random secret generated once into the state
 * folder (file `fingerprint.key`, mode 0600) so fingerprints stay comparable across scans.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScanError } from '../shared/errors.js';

export const KEY_FILE = 'fingerprint.key';

/** `--state` / `PHI_SCAN_STATE`, else `$XDG_STATE_HOME/phi-scan`, else `~/.local/state/phi-scan`. */
export function resolveStateDir(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  const given = explicit ?? env.PHI_SCAN_STATE;
  if (given) {
    // A database file path (issue: state store) names the folder it lives in.
    return /\.(?:db|sqlite3?)$/i.test(given) ? path.dirname(given) : given;
  }
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'phi-scan');
}

export async function resolveKey(stateDir: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  if (env.PHI_SCAN_KEY !== undefined) {
    if (env.PHI_SCAN_KEY.length < 16) {
      throw new ScanError('config', 'PHI_SCAN_KEY: must be at least 16 characters (use e.g. `openssl rand -hex 32`)');
    }
    return Buffer.from(env.PHI_SCAN_KEY, 'utf8');
  }
  const file = path.join(stateDir, KEY_FILE);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') {
      throw new ScanError('config', `${file}: cannot read the fingerprint key (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
  }
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const secret = randomBytes(32).toString('hex');
    // 'wx': if another process created it first, read theirs instead of overwriting.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return Buffer.from(secret, 'hex');
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    throw new ScanError('config', `${file}: cannot create the fingerprint key (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}
