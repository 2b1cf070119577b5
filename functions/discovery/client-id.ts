/**
 * Client ids handed out by the facade when the authorization-response relay is on (pure). The
 * IdP knows only the facade's callback (relay.ts), so the redirect URIs a client registered
 * (RFC 7591) travel inside the client id the facade returns, sealed (seal.ts) so nobody can
 * name other URIs or another client's IdP id: `mcp-` + seal({c: IdP client id, r: URIs, n: name}).
 * The `client_name` rides along so the consent page can name the client without a store.
 * The facade then enforces RFC 6749 §3.1.2.3 exact matching itself at /authorize and /token.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sameBytes } from '../shared/constant-time.ts';
import { isLoopbackHost } from '../shared/http-bits.ts';
import { seal, unseal } from '../shared/seal.ts';

export const CLIENT_ID_PREFIX = 'mcp-';
export const MAX_CLIENT_ID_LENGTH = 4096;
const PURPOSE = 'client';

export interface FacadeClient {
  readonly idpClientId: string;
  readonly redirectUris: readonly string[];
  /** The `client_name` it registered (self-declared). */
  readonly name?: string;
}

export function wrapClientId(
  key: Uint8Array,
  idpClientId: string,
  redirectUris: readonly string[],
  name?: string,
): string {
  return CLIENT_ID_PREFIX + seal(key, PURPOSE, { c: idpClientId, r: redirectUris, n: name });
}

/** How a client of one-upstream-client mode authenticates at the facade's /token (RFC 7591 §2). */
export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** A client registered by the facade itself (one upstream client at the IdP, no IdP call). */
export interface OwnClient {
  readonly redirectUris: readonly string[];
  readonly name?: string;
  readonly authMethod: ClientAuthMethod;
}

const OWN_PURPOSE = 'own-client';
const AUTH_METHODS: readonly string[] = ['none', 'client_secret_basic', 'client_secret_post'];

/**
 * A client id the facade issues without the IdP: `mcp-` + seal({i, r, n, a}) (its own purpose).
 * `i` is random: two registrations with the same metadata are two clients, with their own secrets
 * and refresh tokens.
 */
export function wrapOwnClientId(key: Uint8Array, c: OwnClient): string {
  const i = randomBytes(16).toString('base64url');
  return CLIENT_ID_PREFIX + seal(key, OWN_PURPOSE, { i, r: c.redirectUris, n: c.name, a: c.authMethod });
}

/** The client behind an id `wrapOwnClientId` issued; undefined for any other (relay ids too). */
export function unwrapOwnClientId(key: Uint8Array, clientId: string): OwnClient | undefined {
  if (!clientId.startsWith(CLIENT_ID_PREFIX)) return undefined;
  const o = unseal(key, OWN_PURPOSE, clientId.slice(CLIENT_ID_PREFIX.length), MAX_CLIENT_ID_LENGTH);
  if (
    !o ||
    typeof o.i !== 'string' ||
    !Array.isArray(o.r) ||
    !o.r.every((u) => typeof u === 'string') ||
    (o.n !== undefined && typeof o.n !== 'string') ||
    typeof o.a !== 'string' ||
    !AUTH_METHODS.includes(o.a)
  ) {
    return undefined;
  }
  return {
    redirectUris: o.r as string[],
    name: o.n as string | undefined,
    authMethod: o.a as ClientAuthMethod,
  };
}

/**
 * The secret of a confidential facade client: stateless, an HMAC of its client id under the
 * issuer's key (so it changes with the key, like the id). Only the client and the facade know it;
 * the IdP never sees it.
 */
export function ownClientSecret(key: Uint8Array, clientId: string): string {
  return createHmac('sha256', key).update(`client-secret:${clientId}`).digest('base64url');
}

/** Whether `secret` is the secret of `clientId`, compared in constant time. */
export function ownClientSecretMatches(key: Uint8Array, clientId: string, secret: string): boolean {
  return sameBytes(ownClientSecret(key, clientId), secret);
}

/** The client behind a facade-issued id; undefined for any other or forged id. */
export function unwrapClientId(key: Uint8Array, clientId: string): FacadeClient | undefined {
  if (!clientId.startsWith(CLIENT_ID_PREFIX)) return undefined;
  const o = unseal(key, PURPOSE, clientId.slice(CLIENT_ID_PREFIX.length), MAX_CLIENT_ID_LENGTH);
  if (
    !o ||
    typeof o.c !== 'string' ||
    !o.c ||
    !Array.isArray(o.r) ||
    !o.r.every((u) => typeof u === 'string') ||
    (o.n !== undefined && typeof o.n !== 'string')
  ) {
    return undefined;
  }
  return { idpClientId: o.c, redirectUris: o.r as string[], name: o.n as string | undefined };
}

/**
 * Exact match against the registered URIs; on loopback the port may differ (RFC 8252 §7.3:
 * native apps pick an ephemeral port at request time; `localhost` is treated the same way
 * because MCP clients use it).
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
