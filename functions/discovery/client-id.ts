/**
 * Client ids handed out by the facade (pure). The IdP knows only the facade's callback
 * (relay.ts), so the redirect URIs a client registered (RFC 7591) travel inside the client id the
 * facade returns: `mcp-` + base64url(JSON {c: IdP client id, r: redirect URIs}). The facade then
 * enforces RFC 6749 §3.1.2.3 / OAuth 2.1 exact matching itself at /authorize and /token, and
 * sends the IdP its own client id.
 *
 * Not signed: a forged id can only name redirect URIs that pass the same policy as registration
 * (loopback, `discovery.allowed_redirect_hosts`, configured schemes), re-checked at every step,
 * and the code it yields is useless without the PKCE verifier of whoever started the flow.
 * Ids without the prefix (clients created at the IdP by other means) are passed through as they are.
 */
import { isLoopbackHost } from './redirect-uri.ts';

const PREFIX = 'mcp-';
export const MAX_CLIENT_ID_LENGTH = 2048;

export interface FacadeClient {
  readonly idpClientId: string;
  /** Registered redirect URIs; undefined for ids the facade did not issue. */
  readonly redirectUris?: readonly string[];
}

export function wrapClientId(idpClientId: string, redirectUris: readonly string[]): string {
  return PREFIX + Buffer.from(JSON.stringify({ c: idpClientId, r: redirectUris })).toString('base64url');
}

export function unwrapClientId(clientId: string): FacadeClient {
  if (!clientId.startsWith(PREFIX)) return { idpClientId: clientId };
  try {
    const v = JSON.parse(Buffer.from(clientId.slice(PREFIX.length), 'base64url').toString('utf8')) as {
      c?: unknown;
      r?: unknown;
    };
    if (typeof v.c === 'string' && v.c && Array.isArray(v.r) && v.r.every((u) => typeof u === 'string')) {
      return { idpClientId: v.c, redirectUris: v.r as string[] };
    }
  } catch {
    // not one of ours: treat as an opaque IdP client id
  }
  return { idpClientId: clientId };
}

/**
 * Exact match against the registered URIs; for loopback IP literals the port may differ
 * (RFC 8252 §7.3: native apps pick an ephemeral port at request time; `localhost` is treated
 * the same way because MCP clients use it).
 */
export function redirectRegistered(uri: string, registered: readonly string[]): boolean {
  if (registered.includes(uri)) return true;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' || !isLoopbackHost(u.hostname)) return false;
  return registered.some((r) => {
    try {
      const x = new URL(r);
      return (
        x.protocol === 'http:' &&
        x.hostname === u.hostname &&
        x.pathname === u.pathname &&
        x.search === u.search
      );
    } catch {
      return false;
    }
  });
}
