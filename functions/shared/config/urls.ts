/**
 * The URL rules of the config, also used by the providers for URLs they receive in a `Config`.
 */
import { isLoopbackHost } from '../http-bits.ts';
import { ConfigError } from './errors.ts';

export function checkUrl(key: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(key, `must be an absolute URL (got "${v}")`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(key, `must use http or https (got "${v}")`);
  }
  if (u.hash || u.username || u.password) {
    throw new ConfigError(key, `must not contain a fragment or credentials (got "${v}")`);
  }
  return v;
}

/** https, or plain http on a loopback host: the rule of `checkSecureUrl` for a parsed URL. */
export function isSecureUrl(u: URL): boolean {
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
}

/**
 * A URL the proxy's security depends on (token issuer, JWKS, IdP endpoints, the public URLs it
 * advertises): https, or plain http on a loopback host only (local runs, emulators). Over plain
 * http anyone on the path could substitute signing keys or redirect clients' logins.
 */
export function checkSecureUrl(key: string, v: string): string {
  checkUrl(key, v);
  if (!isSecureUrl(new URL(v))) {
    throw new ConfigError(
      key,
      `must use https (got "${v}"); plain http is only accepted on a loopback host (localhost, 127.0.0.0/8, [::1])`,
    );
  }
  return v;
}
