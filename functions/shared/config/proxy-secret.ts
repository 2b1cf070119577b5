/**
 * The proxy's own secret and what is derived from it (functions/proxy/proxy-keys.ts):
 * `proxy_secret` (local runs) / `proxy_secret_ssm_parameter`, `session_binding` (issue 11 item 5)
 * and `upstream_identity` (the signed identity JWT for the upstream, item 6).
 */
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
import type { ConfigReader, SecretRef } from './reader.ts';

export const PROXY_SECRET = table('', {
  proxy_secret: { type: 'secret' },
});

export const SESSION_BINDING = table('session_binding', {
  enabled: { type: 'bool', default: true },
});

export const UPSTREAM_IDENTITY = table('upstream_identity', {
  enabled: { type: 'bool', default: false },
  header: { type: 'string', derived: '`<identity_header_prefix>jwt`' },
  audience: { type: 'string', derived: '`base_url`' },
  lifetime_seconds: { type: 'int', default: 60, min: 1, max: 60 },
});

export interface UpstreamIdentityConfig {
  readonly enabled: boolean;
  /** Request header carrying the JWT (lower case; starts with the identity header prefix). */
  readonly header: string;
  readonly audience: string;
  readonly lifetimeSeconds: number;
}

export interface ProxySecretConfig {
  /** Absent: the local runner uses a random secret per process; a deployment must name one. */
  readonly proxySecret?: SecretRef;
  readonly sessionBinding: { readonly enabled: boolean };
  readonly upstreamIdentity: UpstreamIdentityConfig;
}

export function parseProxySecret(
  r: ConfigReader,
  baseUrl: string,
  identityPrefix: string,
): ProxySecretConfig {
  const proxySecret = open(r, PROXY_SECRET).secret('proxy_secret');
  if (proxySecret?.value !== undefined && proxySecret.value.length < 32) {
    throw new ConfigError('proxy_secret', 'must be at least 32 characters');
  }
  const u = open(r, UPSTREAM_IDENTITY);
  const header = (u.str('header') ?? `${identityPrefix}jwt`).toLowerCase();
  // A name the proxy strips from every inbound request (any case, `_` for `-`): no client can send it.
  if (!header.startsWith(identityPrefix) || !/^[a-z0-9-]+$/.test(header)) {
    throw new ConfigError(
      u.key('header'),
      `must be a header name starting with identity_header_prefix "${identityPrefix}" (got "${header}")`,
    );
  }
  return {
    proxySecret,
    sessionBinding: { enabled: open(r, SESSION_BINDING).bool('enabled') },
    upstreamIdentity: {
      enabled: u.bool('enabled'),
      header,
      audience: u.str('audience') ?? baseUrl,
      lifetimeSeconds: u.int('lifetime_seconds'),
    },
  };
}

/** Whether this config needs the proxy secret (a deployment then must name one). */
export function needsProxySecret(c: ProxySecretConfig): boolean {
  return c.sessionBinding.enabled || c.upstreamIdentity.enabled;
}
