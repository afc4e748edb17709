/**
 * `imap://USER@HOST[:PORT][/FOLDER]` and `imaps://...` (CONTRACT.md), after RFC 5092 (IMAP URL
 * scheme) without its ";AUTH=" and search parts. `imap://` always upgrades with STARTTLS
 * (RFC 3501 §6.2.1, RFC 8314 §3), `imaps://` is implicit TLS (RFC 8314 §3.2): nothing is ever
 * sent in cleartext, and the certificate is always verified.
 */
import { ScanError } from '../../common/errors.js';

export interface ImapTarget {
  readonly scheme: 'imap' | 'imaps';
  readonly host: string;
  readonly port: number;
  /** The user as written (may be Dovecot's `user*master`); undefined with `--accounts`. */
  readonly user?: string;
  /** A folder with `/` as separator: only that folder is scanned. */
  readonly folder?: string;
}

/** Default ports: 143 for IMAP with STARTTLS, 993 for implicit TLS (RFC 8314 §7.3). */
const DEFAULT_PORT = { imap: 143, imaps: 993 } as const;

/** The spec with anything after a ':' in the userinfo replaced, so an error never echoes a password. */
export function redactSpec(spec: string): string {
  return spec.replace(/^(imaps?:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

export function parseImapUri(spec: string): ImapTarget {
  const m = /^(imaps?):\/\/(?:([^@/]*)@)?(\[[^\]]+\]|[^/:@]+)(?::([^/]*))?(?:\/(.*))?$/is.exec(spec);
  const safe = redactSpec(spec);
  if (!m) {
    throw new ScanError('usage', `${safe}: not an IMAP source; expected imap://USER@HOST[:PORT][/FOLDER] or imaps://...`, { source: safe });
  }
  const scheme = (m[1] ?? 'imap').toLowerCase() as 'imap' | 'imaps';
  const userinfo = m[2];
  if (userinfo !== undefined && userinfo.includes(':')) {
    throw new ScanError(
      'usage',
      `${safe}: a password in the URI is not accepted (it would show in ps and shell history); set PHI_SCAN_IMAP_PASSWORD instead`,
      { source: safe },
    );
  }
  if (userinfo === '') throw new ScanError('usage', `${safe}: empty user name before '@'`, { source: safe });
  const host = (m[3] ?? '').replace(/^\[|\]$/g, '');
  let port: number = DEFAULT_PORT[scheme];
  if (m[4] !== undefined) {
    port = Number(m[4]);
    if (!/^\d{1,5}$/.test(m[4]) || port < 1 || port > 65535) {
      throw new ScanError('usage', `${safe}: port must be a number from 1 to 65535`, { source: safe });
    }
  }
  const folder = m[5] === undefined ? undefined : decodeFolder(m[5], safe);
  return {
    scheme,
    host,
    port,
    ...(userinfo !== undefined ? { user: decodePart(userinfo, safe) } : {}),
    ...(folder !== undefined && folder !== '' ? { folder } : {}),
  };
}

function decodePart(part: string, safe: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ScanError('usage', `${safe}: bad %-escape in the URI`, { source: safe });
  }
}

function decodeFolder(raw: string, safe: string): string {
  return raw
    .replace(/\/+$/, '')
    .split('/')
    .map((p) => decodePart(p, safe))
    .join('/');
}

/**
 * Dovecot's master-user login `alice*scanner` (auth_master_user_separator) opens alice's
 * mailbox with scanner's password: the mailbox reported is `alice`.
 */
export function mailboxOfLogin(login: string, separator = '*'): string {
  const i = login.lastIndexOf(separator);
  return i > 0 ? login.slice(0, i) : login;
}
