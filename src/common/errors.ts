/**
 * Typed errors. Each carries a code from a closed union and context (source, path),
 * never message text or identifier values, so its text is always safe to print.
 */
export type ScanErrorCode =
  | 'usage' // bad flags or arguments
  | 'config' // bad configuration or rules files
  | 'source-missing' // a source path that does not exist
  | 'source-unreadable' // permission denied, I/O error opening a source
  | 'source-invalid'; // the path exists but is not what the scheme says (e.g. not an mbox)

export class ScanError extends Error {
  override readonly name = 'ScanError';
  constructor(
    readonly code: ScanErrorCode,
    message: string,
    readonly context: { readonly source?: string; readonly path?: string } = {},
  ) {
    super(message);
  }
}

/** Node fs errors have a code; turn the common ones into one line that names the path. */
export function describeFsError(err: unknown, path: string): ScanError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  switch (code) {
    case 'ENOENT':
      return new ScanError('source-missing', `${path}: no such file or directory`, { path });
    case 'EACCES':
    case 'EPERM':
      return new ScanError('source-unreadable', `${path}: permission denied`, { path });
    case 'EISDIR':
      return new ScanError('source-invalid', `${path}: is a directory`, { path });
    case 'ENOTDIR':
      return new ScanError('source-invalid', `${path}: not a directory`, { path });
    default:
      return new ScanError('source-unreadable', `${path}: cannot read (${code || 'I/O error'})`, { path });
  }
}
