/**
 * Who logs in, as whom, with which secret: one account from an `imap://USER@HOST` source, or many
 * from `--accounts FILE` (CSV or YAML, one mailbox a row). Secrets come only from environment
 * variables or files named by the row, never from the file itself or the command line.
 *
 * Admin impersonation, so one credential scans a whole server:
 * - `masterStyle: authzid` (default): `AUTHENTICATE PLAIN` with the mailbox as authorization
 *   identity and the admin as authentication identity (RFC 4616 §2; Dovecot master users,
 *   Cyrus admins, Zimbra admins accept this);
 * - `masterStyle: separator`: Dovecot's `LOGIN user*master` (auth_master_user_separator).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { ScanError } from '../../common/errors.js';
import { mailboxOfLogin } from './uri.js';

export type Secret = { readonly kind: 'password' | 'token'; readonly value: string };

export interface Account {
  /** The mailbox, reported as `mailbox` in records. */
  readonly user: string;
  /** Who authenticates: the user, an admin (authzid style) or `user*master`. */
  readonly login: string;
  /** SASL PLAIN authorization identity (RFC 4616): the mailbox an admin opens. */
  readonly authzid?: string;
  readonly secret: Secret;
}

export const ENV = {
  password: 'PHI_SCAN_IMAP_PASSWORD',
  token: 'PHI_SCAN_IMAP_ACCESS_TOKEN',
  ca: 'PHI_SCAN_IMAP_CA',
} as const;

/** A credential reference: where the secret is, never the secret. */
const CredentialFields = {
  /** Name of an environment variable holding the password (the master's, with `master`). */
  passwordEnv: z.string().min(1).optional(),
  /** A file holding the password (relative to the accounts file); one trailing newline is dropped. */
  passwordFile: z.string().min(1).optional(),
  /** Name of an environment variable holding an OAuth2 access token (XOAUTH2/OAUTHBEARER). */
  tokenEnv: z.string().min(1).optional(),
  /** A file holding an OAuth2 access token. */
  tokenFile: z.string().min(1).optional(),
  /** An admin login that may open every mailbox; `null` in a row: this account logs in as itself. */
  master: z.string().min(1).nullable().optional(),
  /** How the admin opens the mailbox: SASL PLAIN authzid (default) or Dovecot's user*master login. */
  masterStyle: z.enum(['authzid', 'separator']).optional(),
  /** The separator for masterStyle separator (Dovecot's auth_master_user_separator); default `*`. */
  masterSeparator: z.string().min(1).max(4).optional(),
};

const AccountRow = z.strictObject({
  /** The mailbox (IMAP user name) to scan. */
  user: z.string().min(1),
  ...CredentialFields,
});
const Defaults = z.strictObject(CredentialFields);
/** YAML: a list of rows, or `{defaults, accounts}` where defaults apply to every row. */
const AccountsYaml = z.strictObject({ defaults: Defaults.optional(), accounts: z.array(AccountRow) });

type Row = z.infer<typeof AccountRow>;

function flattenIssues(file: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${file}: ${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}

/** RFC 4180 CSV with a header row; `#` lines and blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = (): void => {
    row.push(field);
    field = '';
    if (!(row.length === 1 && row[0]?.trim() === '') && !row[0]?.trimStart().startsWith('#')) rows.push(row.map((f) => f.trim()));
    row = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
    } else field += c;
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

function rowsFromCsv(file: string, text: string): unknown[] {
  const [header, ...body] = parseCsv(text);
  if (!header) throw new ScanError('config', `${file}: empty accounts file (expected a header row such as user,passwordEnv)`);
  return body.map((cells, r) => {
    if (cells.length > header.length) throw new ScanError('config', `${file}: row ${r + 2}: more cells than the header has`);
    const obj: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = cells[i];
      if (v !== undefined && v !== '') obj[h] = v;
    });
    return obj;
  });
}

/** Reads and validates `--accounts FILE`, then resolves each row's secret. Exit 2 on any fault. */
export function loadAccountsFile(file: string, env: NodeJS.ProcessEnv): Account[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScanError('usage', `--accounts ${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  const isCsv = /\.csv$/i.test(file);
  let rows: Row[];
  let defaults: z.infer<typeof Defaults> = {};
  if (isCsv) {
    const parsed = z.array(AccountRow).safeParse(rowsFromCsv(file, text));
    if (!parsed.success) throw new ScanError('config', `--accounts ${flattenIssues(file, parsed.error)} (rows counted from 0)`);
    rows = parsed.data;
  } else {
    let doc: unknown;
    try {
      // Loaded for an --accounts YAML file only, not at every start-up.
      const { parse: parseYaml } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
      doc = parseYaml(text);
    } catch (err) {
      throw new ScanError('config', `--accounts ${file}: not valid YAML (${(err as Error).message.split('\n')[0] ?? ''}); a .csv file is read as CSV`);
    }
    // Checked against one shape or the other, so the issues name the field, not "invalid union".
    const parsed = AccountsYaml.safeParse(Array.isArray(doc) ? { accounts: doc } : doc);
    if (!parsed.success) throw new ScanError('config', `--accounts ${flattenIssues(file, parsed.error)}`);
    rows = parsed.data.accounts;
    defaults = parsed.data.defaults ?? {};
  }
  if (rows.length === 0) throw new ScanError('config', `--accounts ${file}: no accounts listed`);
  const seen = new Set<string>();
  return rows.map((row, i) => {
    if (seen.has(row.user)) throw new ScanError('config', `--accounts ${file}: account ${i + 1} (${row.user}) is listed twice`);
    seen.add(row.user);
    return resolveRow({ ...defaults, ...row }, `--accounts ${file}: account ${i + 1} (${row.user})`, path.dirname(file), env);
  });
}

function resolveRow(row: Row, where: string, baseDir: string, env: NodeJS.ProcessEnv): Account {
  const refs = (['passwordEnv', 'passwordFile', 'tokenEnv', 'tokenFile'] as const).filter((k) => row[k] !== undefined);
  if (refs.length > 1) throw new ScanError('config', `${where}: give one of passwordEnv, passwordFile, tokenEnv, tokenFile, not ${refs.join(' and ')}`);
  const secret = refs[0] === undefined ? defaultSecret(env, where) : readSecret(row, refs[0], where, baseDir, env);
  if (row.master === undefined || row.master === null) {
    if (row.masterStyle !== undefined) throw new ScanError('config', `${where}: masterStyle without master`);
    return { user: row.user, login: row.user, secret };
  }
  if ((row.masterStyle ?? 'authzid') === 'authzid') {
    if (secret.kind === 'token') throw new ScanError('config', `${where}: an authorization identity needs a password (SASL PLAIN), not a token`);
    return { user: row.user, login: row.master, authzid: row.user, secret };
  }
  return { user: row.user, login: `${row.user}${row.masterSeparator ?? '*'}${row.master}`, secret };
}

function readSecret(row: Row, ref: 'passwordEnv' | 'passwordFile' | 'tokenEnv' | 'tokenFile', where: string, baseDir: string, env: NodeJS.ProcessEnv): Secret {
  const kind = ref.startsWith('password') ? 'password' : 'token';
  const name = row[ref] as string;
  let value: string | undefined;
  if (ref.endsWith('Env')) {
    value = env[name];
    if (value === undefined || value === '') throw new ScanError('config', `${where}: environment variable ${name} (${ref}) is not set`);
  } else {
    const file = path.resolve(baseDir, name);
    try {
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ScanError('config', `${where}: ${ref} ${file}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
    }
    if (value === '') throw new ScanError('config', `${where}: ${ref} ${file} is empty`);
  }
  return { kind, value };
}

/** The single-account secret: an access token if one is set, else the password. */
export function defaultSecret(env: NodeJS.ProcessEnv, where: string): Secret {
  const token = env[ENV.token];
  if (token) return { kind: 'token', value: token };
  const password = env[ENV.password];
  if (password) return { kind: 'password', value: password };
  throw new ScanError('usage', `${where}: no credential: set ${ENV.password} (or ${ENV.token} for OAuth2)`);
}

/** `imap://USER@HOST`: one account; `alice*scanner` is a Dovecot master login for `alice`. */
export function singleAccount(login: string, spec: string, env: NodeJS.ProcessEnv): Account {
  return { user: mailboxOfLogin(login), login, secret: defaultSecret(env, spec) };
}
