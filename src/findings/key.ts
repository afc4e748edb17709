/**
 * The fingerprint key: `PHI_SCAN_KEY`, or a random secret generated once into the state
 * folder (file `fingerprint.key`, mode 0600) so fingerprints stay comparable across scans.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ScanError } from '../common/errors.js';

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

/** Bytes of secret a key must carry: below this, masks plus fingerprints can be brute-forced. */
export const MIN_KEY_BYTES = 16;

/**
 * The key file holds hex (what phi-scan writes: 32 random bytes, 64 hex digits). Anything else —
 * empty, base64, a typo — is refused: `Buffer.from(x, 'hex')` would silently turn it into a short
 * or empty HMAC key, and a masked last 4 plus a fingerprint would then give the SSN away.
 */
export function parseKeyFile(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    throw new ScanError('config', `${file}: not a fingerprint key (expected hex digits, e.g. from \`openssl rand -hex 32\`); fix or remove it (a new key makes earlier fingerprints incomparable)`);
  }
  if (hex.length / 2 < MIN_KEY_BYTES) {
    throw new ScanError('config', `${file}: the fingerprint key is ${hex.length / 2} bytes; at least ${MIN_KEY_BYTES} are needed (e.g. \`openssl rand -hex 32\`)`);
  }
  return Buffer.from(hex, 'hex');
}

/** PHI_SCAN_KEY is taken as text (its UTF-8 bytes), of at least MIN_KEY_BYTES. */
export function parseEnvKey(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < MIN_KEY_BYTES) {
    throw new ScanError('config', `PHI_SCAN_KEY: must be at least ${MIN_KEY_BYTES} characters (use e.g. \`openssl rand -hex 32\`)`);
  }
  return bytes;
}

export async function resolveKey(stateDir: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  if (env.PHI_SCAN_KEY !== undefined) return parseEnvKey(env.PHI_SCAN_KEY);
  const file = path.join(stateDir, KEY_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') {
      throw new ScanError('config', `${file}: cannot read the fingerprint key (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
  }
  if (text !== undefined) return parseKeyFile(text, file);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const secret = randomBytes(32).toString('hex');
    // 'wx': if another process created it first, read theirs instead of overwriting.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return Buffer.from(secret, 'hex');
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return parseKeyFile(await readFile(file, 'utf8'), file);
    throw new ScanError('config', `${file}: cannot create the fingerprint key (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
}
