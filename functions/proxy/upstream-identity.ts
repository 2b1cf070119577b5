/**
 * A signed identity for the upstream (issue 11 item 6; `upstream_identity`, off by default): a
 * short-lived JWT the proxy signs for each forwarded request, in `upstream_identity.header`, so an
 * upstream that verifies it needs to trust no network path — only the proxy's public key, served
 * at `JWKS_PATH` (routes.ts) on the proxy (`kid` = RFC 7638 thumbprint). The plain identity headers
 * (headers.ts) stay. Claims: `iss` = the proxy's public origin, `aud` = the upstream (configured,
 * else its base URL), `sub`, `client_id`, `scope`, `iat`, `exp` (≤ 60 s), `jti`.
 *
 * The key is Ed25519 (EdDSA), derived from the proxy secret (proxy-keys.ts): every instance signs
 * with the same key. jose is already on the proxy's cold path (token.ts verifies with it).
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import type { UpstreamIdentityConfig } from '../shared/config/index.ts';
import type { ProxyKeys } from './proxy-keys.ts';
import type { Identity } from './token.ts';

/** The `typ` of the identity JWT: no access token or ID token can be taken for one. */
export const IDENTITY_JWT_TYPE = 'mcp-identity+jwt';

const kids = new WeakMap<ProxyKeys, Promise<string>>();

/** The key id: the RFC 7638 thumbprint of the public key (computed once per key). */
export function keyId(keys: ProxyKeys): Promise<string> {
  let kid = kids.get(keys);
  if (!kid) {
    kid = calculateJwkThumbprint(keys.identityPublicJwk as never, 'sha256');
    kids.set(keys, kid);
  }
  return kid;
}

/** The JWK Set document: the one public key, for signature verification with EdDSA. */
export async function identityJwks(keys: ProxyKeys): Promise<{ keys: Record<string, string>[] }> {
  return { keys: [{ ...keys.identityPublicJwk, kid: await keyId(keys), alg: 'EdDSA', use: 'sig' }] };
}

/** The identity JWT of one request. */
export async function signIdentity(
  keys: ProxyKeys,
  cfg: UpstreamIdentityConfig,
  identity: Identity,
  proxyOrigin: string,
  now = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  const claims: Record<string, unknown> = { scope: identity.scopes.join(' ') };
  if (identity.clientId) claims.client_id = identity.clientId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: IDENTITY_JWT_TYPE, kid: await keyId(keys) })
    .setIssuer(proxyOrigin)
    .setAudience(cfg.audience)
    .setSubject(identity.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + cfg.lifetimeSeconds)
    .setJti(randomUUID())
    .sign(keys.identity);
}
