/**
 * App-only tokens (OAuth 2.0 client credentials, RFC 6749 §4.4) through MSAL for Node, with a
 * client secret or a certificate. The secret and the key come from the environment or a file,
 * never from the command line (CONTRACT.md). Tokens are opaque: never parsed, never printed.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfidentialClientApplication, Configuration } from '@azure/msal-node';
import { ScanError } from '../../common/errors.js';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';

export type GraphCredential =
  | { readonly kind: 'secret'; readonly clientId: string; readonly secret: string }
  | { readonly kind: 'certificate'; readonly clientId: string; readonly pemFile: string };

/** A token failure: the text names the Entra error code (AADSTS…), never the secret. */
export class GraphAuthError extends Error {
  override readonly name = 'GraphAuthError';
}

/** `PHI_SCAN_GRAPH_*` → a credential; missing or conflicting settings are usage errors (exit 2). */
export function credentialFromEnv(env: NodeJS.ProcessEnv, spec: string): GraphCredential {
  const clientId = env.PHI_SCAN_GRAPH_CLIENT_ID?.trim();
  if (!clientId) throw new ScanError('config', `${spec}: set PHI_SCAN_GRAPH_CLIENT_ID to the app registration's Application (client) ID`);
  const secret = env.PHI_SCAN_GRAPH_CLIENT_SECRET;
  const cert = env.PHI_SCAN_GRAPH_CERT?.trim();
  if (secret && cert) throw new ScanError('config', `${spec}: set PHI_SCAN_GRAPH_CLIENT_SECRET or PHI_SCAN_GRAPH_CERT, not both`);
  if (cert) return { kind: 'certificate', clientId, pemFile: cert };
  if (secret) return { kind: 'secret', clientId, secret };
  throw new ScanError('config', `${spec}: set PHI_SCAN_GRAPH_CLIENT_SECRET (the secret's value) or PHI_SCAN_GRAPH_CERT (a PEM file with certificate and private key)`);
}

/** An `https://host[:port]` setting, checked: MSAL and the Graph SDK both need https (GRAPH.md §1, §8). */
export function httpsOrigin(value: string, variable: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ScanError('config', `${variable}: not a URL`);
  }
  if (url.protocol !== 'https:') throw new ScanError('config', `${variable}: must be an https:// URL`);
  return new URL(url.origin);
}

function certificateOptions(pemFile: string): NonNullable<Configuration['auth']['clientCertificate']> {
  let pem: string;
  try {
    pem = readFileSync(pemFile, 'utf8');
  } catch (err) {
    throw new ScanError('config', `PHI_SCAN_GRAPH_CERT ${pemFile}: cannot read (${(err as { code?: string }).code ?? 'I/O error'})`);
  }
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const keyPem = /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!certPem || !keyPem) {
    throw new ScanError('config', `PHI_SCAN_GRAPH_CERT ${pemFile}: needs a certificate and an unencrypted private key, both PEM, in one file`);
  }
  let thumbprintSha256: string;
  try {
    thumbprintSha256 = new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
  } catch {
    throw new ScanError('config', `PHI_SCAN_GRAPH_CERT ${pemFile}: the certificate cannot be read`);
  }
  // x5c lets Entra validate a rotated certificate by subject name/issuer (SNI) when configured.
  return { thumbprintSha256, privateKey: keyPem, x5c: certPem };
}

/**
 * A token function for the Graph client. MSAL caches the token in memory and asks again
 * shortly before it expires (client credentials have no refresh token).
 */
export function createTokenProvider(tenant: string, credential: GraphCredential, authorityHost: URL, graphEndpoint: URL): () => Promise<string> {
  const auth: Configuration['auth'] = {
    clientId: credential.clientId,
    authority: `${authorityHost.origin}/${encodeURIComponent(tenant)}`,
    // With the authority host listed, MSAL reads {authority}/v2.0/.well-known/openid-configuration
    // from that host instead of asking login.microsoftonline.com's instance discovery, so national
    // clouds and private endpoints work the same way (GRAPH.md §1).
    knownAuthorities: [authorityHost.host],
    ...(credential.kind === 'secret' ? { clientSecret: credential.secret } : { clientCertificate: certificateOptions(credential.pemFile) }),
  };
  // MSAL loads with the first token request, not at start-up (most commands never ask for one).
  let app: Promise<ConfidentialClientApplication> | undefined;
  const msal = (): Promise<ConfidentialClientApplication> =>
    (app ??= import('@azure/msal-node').then(
      ({ ConfidentialClientApplication, LogLevel }) =>
        new ConfidentialClientApplication({ auth, system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} } } }),
    ));
  // The scope is the resource plus /.default: it grants every consented application permission;
  // anything else fails with AADSTS1002012 (GRAPH.md §1).
  const scopes = [`${graphEndpoint.origin}/.default`];
  // MSAL looks its cache up on every call (~0.5 ms); one token serves thousands of requests,
  // so it is kept here until five minutes before it expires (and shared by concurrent callers).
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const acquire = async (): Promise<string> => {
    const client = await msal();
    let result;
    try {
      result = await client.acquireTokenByClientCredential({ scopes });
    } catch (err) {
      throw new GraphAuthError(`token request to ${authorityHost.host} failed: ${describeMsalError(err)}`);
    }
    if (!result?.accessToken) throw new GraphAuthError(`token request to ${authorityHost.host} returned no token`);
    const expires = result.expiresOn?.getTime() ?? Date.now() + 10 * 60_000;
    cached = { token: result.accessToken, renewAt: expires - 5 * 60_000 };
    return result.accessToken;
  };
  return () => {
    if (cached && Date.now() < cached.renewAt) return Promise.resolve(cached.token);
    pending ??= acquire().finally(() => (pending = undefined));
    return pending;
  };
}

/** MSAL errors carry `errorCode` and Entra's AADSTS number; the description can quote the client id, so only codes are kept. */
export function describeMsalError(err: unknown): string {
  const e = err as { errorCode?: unknown; errorMessage?: unknown; message?: unknown };
  const code = typeof e.errorCode === 'string' ? e.errorCode : 'error';
  const text = `${typeof e.errorMessage === 'string' ? e.errorMessage : ''} ${typeof e.message === 'string' ? e.message : ''}`;
  const aadsts = /AADSTS\d+/.exec(text)?.[0];
  const hint =
    aadsts === 'AADSTS7000215'
      ? ' (invalid client secret: use the secret value, not its ID)'
      : aadsts === 'AADSTS7000222'
        ? ' (the client secret has expired)'
        : aadsts === 'AADSTS700016'
          ? ' (no such application in this tenant)'
          : aadsts === 'AADSTS90002'
            ? ' (no such tenant)'
            : '';
  return `${code}${aadsts ? ` ${aadsts}` : ''}${hint}`;
}
