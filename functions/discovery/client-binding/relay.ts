/**
 * Client binding with the authorization-response relay (`discovery.signing_key`, relay.ts): the
 * IdP knows one redirect URI per client, the facade's `/callback`. The redirect URIs a client
 * registers ride, sealed, in the client id the facade hands out (client-id.ts), so the facade
 * matches them itself (RFC 6749 §3.1.2.3) at /authorize and /token, swaps its client id for the
 * IdP's on the way in, relays the code to the client with its own `iss` (RFC 9207) and can send
 * a refusal to the client's validated redirect URI.
 *
 * With Client ID Metadata Documents on (`documents`), a `client_id` that is an https URL is a
 * client too: its redirect URIs and name come from its verified document (cimd-fetch.ts) instead
 * of the sealed id, and at the IdP it is the one configured IdP client registered with the
 * facade's callback (`discovery.cimd_idp_client_id`); everything after that is the same relay.
 */
import { basicHeader, formDecode, formEncode, readBasic } from '../../shared/encoding.ts';
import { badRequest, invalidClient, OAuthError } from '../../shared/errors.ts';
import { digest, issuerKey } from '../../shared/seal.ts';
import type { AuthorizeRequest } from '../authorize.ts';
import { isDocumentClientId } from '../cimd.ts';
import type { DocumentResolver } from '../cimd-fetch.ts';
import {
  type FacadeClient,
  MAX_CLIENT_ID_LENGTH,
  redirectRegistered,
  unwrapClientId,
  wrapClientId,
} from '../client-id.ts';
import type { IdentityProvider } from '../providers/types.ts';
import { callbackUrl, clientRedirect, issueRelayState, openCode, readRelayState } from '../relay.ts';
import { createReplayGuard, type ReplayGuard } from '../throttle.ts';
import { openRefreshToken, sealRefreshTokens } from './refresh.ts';
import type { AuthorizationResponseRelay, AuthorizingClient, ClientBinding, TokenForward } from './types.ts';

/**
 * The facade client behind `clientId`. RFC 6749 §5.2: invalid_client makes MCP clients register
 * again (e.g. after a key change): 401 at /token; at /authorize never a redirect (the client is
 * unknown) but a 400 page or JSON with the same code, which clients that check their cached
 * registration first (mcp-remote) act on.
 */
function facadeClient(key: Uint8Array, clientId: string, at: 'authorize' | 'token'): FacadeClient {
  const c = unwrapClientId(key, clientId);
  if (c) return c;
  const description = 'unknown client_id: register again';
  const reason = 'client id not issued by this facade';
  throw at === 'token'
    ? invalidClient(description, reason)
    : badRequest('invalid_client', description, reason);
}

/** Clients identified by metadata documents, and the one IdP client they all use. */
export interface DocumentClients {
  readonly resolver: DocumentResolver;
  /** The IdP client (registered with `<issuer>/callback`) and its `Authorization` at the IdP, if confidential. */
  idpClient(): Promise<{ readonly clientId: string; readonly authorization?: string }>;
}

/** A facade client: sealed in its id, or (with `documents`) described by its metadata document. */
async function clientFor(
  key: Uint8Array,
  clientId: string,
  at: 'authorize' | 'token',
  documents: DocumentClients | undefined,
): Promise<FacadeClient & { readonly documentHost?: string; readonly idpAuthorization?: string }> {
  if (!documents || !isDocumentClientId(clientId)) return facadeClient(key, clientId, at);
  try {
    const doc = await documents.resolver.resolve(clientId);
    const idp = await documents.idpClient();
    return {
      idpClientId: idp.clientId,
      idpAuthorization: idp.authorization,
      redirectUris: doc.redirectUris,
      name: doc.name,
      documentHost: doc.host,
    };
  } catch (e) {
    // RFC 6749 §5.2: an unusable client is 401 invalid_client at /token.
    if (at === 'token' && e instanceof OAuthError && e.status === 400)
      throw invalidClient(e.description, e.reason);
    throw e;
  }
}

export function relayBinding(
  provider: IdentityProvider,
  signingKey: () => Promise<Uint8Array>,
  documents?: DocumentClients,
): ClientBinding {
  /** The key of this issuer (seal.ts), derived once per request from the signing key. */
  const keyFor = async (issuer: string) => issuerKey(await signingKey(), issuer);
  // Single use on this instance (throttle.ts): relay states at /callback, relayed codes at /token.
  const statesUsed = createReplayGuard();
  const codesUsed = createReplayGuard();

  return {
    issInAuthorizationResponse: true,
    clientIdMetadataDocuments: documents !== undefined,
    consentKey: (issuer) => keyFor(issuer),

    async register(reg, issuer) {
      const key = await keyFor(issuer);
      // The longest id the IdP might hand back must still fit once sealed with these URIs.
      if (
        wrapClientId(key, 'x'.repeat(128), reg.redirect_uris, reg.client_name).length > MAX_CLIENT_ID_LENGTH
      ) {
        throw badRequest('invalid_redirect_uri', 'too many or too long redirect_uris');
      }
      const atIdp = await provider.register({ ...reg, redirect_uris: [callbackUrl(issuer)] });
      return {
        ...atIdp,
        client_id: wrapClientId(key, atIdp.client_id, reg.redirect_uris, reg.client_name),
        // RFC 7591 §3.2.1: the response carries the client's registered metadata — its own
        // redirect URIs, not the facade's callback the IdP was given.
        metadata: { ...atIdp.metadata, redirect_uris: [...reg.redirect_uris] },
      };
    },

    async resolveClient(ar, issuer) {
      const key = await keyFor(issuer);
      const client = await clientFor(key, ar.clientId, 'authorize', documents);
      if (!redirectRegistered(ar.redirectUri, client.redirectUris)) {
        throw badRequest('invalid_request', 'redirect_uri is not registered for this client');
      }
      return relayedClient(key, client, ar, issuer);
    },

    tokenRequest: async (params, authorization, issuer) =>
      relayTokenRequest(await keyFor(issuer), params, authorization, issuer, codesUsed, documents),

    relay: authorizationResponseRelay(keyFor, statesUsed),
  };
}

/** `/callback`: the states this facade issued, each used once on this instance (both relay bindings). */
export function authorizationResponseRelay(
  keyFor: (issuer: string) => Promise<Uint8Array>,
  statesUsed: ReplayGuard,
): AuthorizationResponseRelay {
  return {
    async readState(issuer, state, cookieHeader) {
      const s = readRelayState(await keyFor(issuer), state, cookieHeader);
      if (!statesUsed.firstUse(digest(state ?? ''), s.expiresAtMs)) {
        throw badRequest(
          'invalid_request',
          'invalid or expired authorization response',
          'relay state used before',
        );
      }
      return s;
    },
    clientRedirect: async (issuer, state, idpResponse) =>
      clientRedirect(await keyFor(issuer), state, idpResponse, issuer),
  };
}

/** A client whose redirect URI matched its registration: the IdP sees the facade's callback. */
export function relayedClient(
  key: Uint8Array,
  client: FacadeClient & { readonly documentHost?: string },
  ar: AuthorizeRequest,
  issuer: string,
): AuthorizingClient {
  return {
    name: client.name,
    documentHost: client.documentHost,
    toIdp(params) {
      params.set('client_id', client.idpClientId);
      params.set('redirect_uri', callbackUrl(issuer));
      const relay = issueRelayState(key, {
        ru: ar.redirectUri,
        st: ar.params.get('state') ?? undefined,
        clientId: ar.clientId,
      });
      params.set('state', relay.state);
      return [relay.cookie];
    },
    refusal(error, description) {
      const to = new URL(ar.redirectUri);
      to.searchParams.set('error', error);
      to.searchParams.set('error_description', description);
      const st = ar.params.get('state');
      if (st !== null) to.searchParams.set('state', st);
      to.searchParams.set('iss', issuer);
      return to.toString();
    },
  };
}

/**
 * The IdP knows its own client id and the facade's callback: swap the facade client id (form or
 * HTTP Basic, RFC 6749 §2.3.1) for the IdP's and, for a code, check the client's redirect URI
 * against its registration before sending the callback instead. A document client is public: it
 * sends its id in the form only, and the facade adds the configured IdP client's credentials.
 */
async function relayTokenRequest(
  key: Uint8Array,
  params: URLSearchParams,
  authorization: string | null,
  issuer: string,
  codesUsed: ReplayGuard,
  documents?: DocumentClients,
): Promise<TokenForward> {
  if (params.get('grant_type') === 'client_credentials') {
    const issued = (id: string) => unwrapClientId(key, id) !== undefined || isDocumentClientId(id);
    return { authorization: machineTokenRequest(params, authorization, issued) };
  }
  const formId = params.get('client_id');
  if (formId && documents && isDocumentClientId(formId)) {
    if (authorization) {
      throw invalidClient(
        'clients identified by a metadata document are public: no client authentication',
        'document client sent an Authorization header',
      );
    }
    const client = await clientFor(key, formId, 'token', documents);
    params.set('client_id', client.idpClientId);
    if (client.idpAuthorization) params.delete('client_id');
    if (params.get('grant_type') === 'authorization_code') {
      relayedCode(key, params, formId, client.redirectUris, issuer, codesUsed);
    } else if (params.has('refresh_token')) {
      // Every document client is one client at the IdP: its refresh tokens are sealed to it.
      params.set('refresh_token', openRefreshToken(key, params.get('refresh_token')!, formId));
    }
    return {
      authorization: client.idpAuthorization ?? null,
      reply: (r) => sealRefreshTokens(r, key, formId),
    };
  }
  let facadeId = formId ?? undefined;
  let client = formId ? facadeClient(key, formId, 'token') : undefined;
  let basic = authorization;
  if (basic) {
    // Every client authenticates with its facade id (form-decoded); anything that is not Basic
    // credentials with an id is refused as an unknown client.
    const creds = readBasic(basic);
    const id = (creds && formDecode(creds.id)) ?? '';
    const c = facadeClient(key, id, 'token');
    if (formId && formId !== id) throw invalidClient('two different client ids');
    client = c;
    facadeId = id;
    basic = basicHeader(formEncode(c.idpClientId), creds!.secret);
  }
  if (!client || facadeId === undefined)
    throw invalidClient('unknown client_id', 'no client id in token request');
  params.set('client_id', client.idpClientId);
  if (basic) params.delete('client_id'); // authenticated by the header (one method only, §2.3)
  if (params.get('grant_type') === 'authorization_code') {
    relayedCode(key, params, facadeId, client.redirectUris, issuer, codesUsed);
  }
  return { authorization: basic };
}

/**
 * `client_credentials` (MCP client-credentials extension): machine clients are registered at the
 * IdP by its administrator, with the IdP's own id and credentials, which go on unchanged for the
 * IdP to authenticate. Clients registered through the facade sign users in: they cannot use it.
 */
export function machineTokenRequest(
  params: URLSearchParams,
  authorization: string | null,
  /** Whether `id` is one the facade issued (or its own client at the IdP): refused here. */
  isFacadeClient: (id: string) => boolean,
): string | null {
  const creds = authorization ? readBasic(authorization) : undefined;
  const ids = [params.get('client_id'), creds ? formDecode(creds.id) : null];
  if (ids.some((id) => id && isFacadeClient(id))) {
    throw badRequest(
      'unauthorized_client',
      'clients registered here sign users in; client_credentials is for clients registered at the identity provider',
    );
  }
  return authorization;
}

/**
 * An authorization code grant of a relayed flow: the client's redirect URI checked against its
 * registration, the code the one the facade relayed to this client for this redirect URI (used
 * once), and both swapped for what the IdP issued and knows (in place).
 */
export function relayedCode(
  key: Uint8Array,
  params: URLSearchParams,
  facadeId: string,
  redirectUris: readonly string[],
  issuer: string,
  codesUsed: ReplayGuard,
): void {
  const redirectUri = params.get('redirect_uri') ?? '';
  if (!redirectRegistered(redirectUri, redirectUris)) {
    throw badRequest('invalid_grant', 'redirect_uri is not registered for this client');
  }
  const code = openCode(key, params.get('code') ?? '', facadeId, redirectUri);
  if (!codesUsed.firstUse(code.id, code.expiresAtMs)) {
    throw badRequest(
      'invalid_grant',
      'invalid, expired or already used authorization code',
      'code used before',
    );
  }
  params.set('code', code.code);
  params.set('redirect_uri', callbackUrl(issuer));
}
