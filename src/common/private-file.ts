import { closeSync, constants as fsConstants, fchmodSync, fstatSync, openSync } from 'node:fs';
import { ScanError } from './errors.js';

/**
 * Makes `file` a private regular file (0600) before a library (SQLite) opens it by name: created
 * empty if missing, a symbolic link refused, an existing file's mode tightened. Returns nothing;
 * throws a ScanError naming the file.
 */
export function ensurePrivateFile(file: string): void {
  const { O_CREAT, O_NOFOLLOW, O_RDWR } = fsConstants;
  let fd: number;
  try {
    fd = openSync(file, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new ScanError('config', `${file}: cannot open (${code === 'ELOOP' ? 'a symbolic link; give the real path' : (code ?? 'I/O error')})`);
  }
  try {
    if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}
