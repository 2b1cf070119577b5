/**
 * Client binding of one upstream client (`discovery.upstream_client`, with the relay's signing
 * key): the facade registers MCP clients itself and talks to the IdP as ONE pre-registered
 * confidential client, for IdPs without dynamic client registration (Entra ID, Google, Okta,
 * Cognito with one app client, ...).
 *
 * - `/register` makes no IdP call: the client id is sealed (client-id.ts `wrapOwnClientId`: the
 *   client's redirect URIs, name and token endpoint auth method); a confidential client gets a
 *   stateless secret, an HMAC of its id under the signing key, which the IdP never sees.
 * - `/authorize` and `/callback` are the relay's (relay.ts): the IdP sees the configured client
 *   id and the facade's `/callback` only, with the dialect's parameters (providers/dialects.ts).
 * - `/token` authenticates the facade client (its registered method only; the secret compared in
 *   constant time) before any IdP call, then the facade authenticates to the IdP with its own
 *   credentials. Refresh tokens are sealed to the facade client they were issued to: at the IdP
 *   every client is the same client, so without this one client could redeem another's.
 */

import type { UpstreamClientConfig } from '../../shared/config/discovery.ts';
import { basicAuth, formDecode, readBasic } from '../../shared/encoding.ts';
import { badRequest, DependencyError, invalidClient } from '../../shared/errors.ts';
import { issuerKey } from '../../shared/seal.ts';
import {
  type ClientAuthMethod,
  MAX_CLIENT_ID_LENGTH,
  type OwnClient,
  ownClientSecret,
  ownClientSecretMatches,
  redirectRegistered,
  unwrapOwnClientId,
  wrapOwnClientId,
} from '../client-id.ts';
import type { IdpReply } from '../idp-http.ts';
import { DIALECTS, dialectAuthorizeParams, dialectTokenParams } from '../providers/dialects.ts';
import { createReplayGuard } from '../throttle.ts';
import { openRefreshToken, sealRefreshTokens } from './refresh.ts';
import { authorizationResponseRelay, machineTokenRequest, relayedClient, relayedCode } from './relay.ts';
import type { ClientBinding, TokenForward } from './types.ts';

export interface UpstreamClient extends UpstreamClientConfig {
  /** The client secret, resolved (SSM in a deployment). */
  readonly secret: () => Promise<string>;
}

export function upstreamClientBinding(
  upstream: UpstreamClient,
  signingKey: () => Promise<Uint8Array>,
): ClientBinding {
  const keyFor = async (issuer: string) => issuerKey(await signingKey(), issuer);
  const dialect = DIALECTS[upstream.dialect];
  const codesUsed = createReplayGuard();

  return {
    issInAuthorizationResponse: true,
    consentKey: (issuer) => keyFor(issuer),

    async register(reg, issuer) {
      const key = await keyFor(issuer);
      const own: OwnClient = {
        redirectUris: reg.redirect_uris,
        name: reg.client_name,
        authMethod: reg.token_endpoint_auth_method,
      };
      const clientId = wrapOwnClientId(key, own);
      if (clientId.length > MAX_CLIENT_ID_LENGTH) {
        throw badRequest('invalid_redirect_uri', 'too many or too long redirect_uris');
      }
      return {
        client_id: clientId,
        client_secret: own.authMethod === 'none' ? undefined : ownClientSecret(key, clientId),
        client_id_issued_at: Math.floor(Date.now() / 1000),
        metadata: { ...reg },
      };
    },

    async resolveClient(ar, issuer) {
      const key = await keyFor(issuer);
      const own = unwrapOwnClientId(key, ar.clientId);
      if (!own) {
        throw badRequest(
          'invalid_client',
          'unknown client_id: register again',
          'client id not issued by this facade',
        );
      }
      if (!redirectRegistered(ar.redirectUri, own.redirectUris)) {
        throw badRequest('invalid_request', 'redirect_uri is not registered for this client');
      }
      const client = { idpClientId: upstream.clientId, redirectUris: own.redirectUris, name: own.name };
      const relayed = relayedClient(key, client, ar, issuer);
      return {
        ...relayed,
        toIdp(params) {
          replace(params, dialectAuthorizeParams(dialect, upstream, params));
          return relayed.toIdp(params);
        },
      };
    },

    async tokenRequest(params, authorization, issuer) {
      const key = await keyFor(issuer);
      if (params.get('grant_type') === 'client_credentials') {
        // Machine clients are the IdP's own; the facade's one client is for users only.
        const own = (id: string) => id === upstream.clientId || unwrapOwnClientId(key, id) !== undefined;
        return { authorization: machineTokenRequest(params, authorization, own) };
      }
      const facadeId = authenticate(key, params, authorization);
      params.delete('client_secret');
      params.delete('client_id');
      if (params.get('grant_type') === 'authorization_code') {
        relayedCode(key, params, facadeId, unwrapOwnClientId(key, facadeId)!.redirectUris, issuer, codesUsed);
      } else if (params.has('refresh_token')) {
        params.set('refresh_token', openRefreshToken(key, params.get('refresh_token')!, facadeId));
      }
      replace(params, dialectTokenParams(dialect, upstream, params));
      return upstreamCredentials(upstream, await upstream.secret(), params, key, facadeId);
    },

    relay: authorizationResponseRelay(keyFor, createReplayGuard()),
  };
}

/** `target` takes the entries of `source` (the binding changes parameters in place). */
function replace(target: URLSearchParams, source: URLSearchParams): void {
  for (const k of [...new Set(target.keys())]) target.delete(k);
  for (const [k, v] of source) target.append(k, v);
}

/**
 * The facade client a token request comes from, authenticated by the method it registered
 * (RFC 6749 §2.3.1, RFC 7591 §2): one method only, the right secret for a confidential client,
 * no secret at all for a public one. Every failure is 401 `invalid_client`, before any IdP call.
 */
function authenticate(key: Uint8Array, params: URLSearchParams, authorization: string | null): string {
  const formId = params.get('client_id');
  const formSecret = params.get('client_secret');
  let id = formId ?? undefined;
  let secret: string | undefined;
  let method: ClientAuthMethod = 'none';
  if (authorization !== null) {
    const creds = readBasic(authorization);
    const basicId = creds && formDecode(creds.id);
    if (!creds || !basicId)
      throw invalidClient('unknown client_id', 'Authorization is not Basic credentials');
    if (formId !== null && formId !== basicId) throw invalidClient('two different client ids');
    if (formSecret !== null)
      throw invalidClient('one client authentication method only', 'Basic and client_secret');
    id = basicId;
    secret = formDecode(creds.secret);
    method = 'client_secret_basic';
  } else if (formSecret !== null) {
    secret = formSecret;
    method = 'client_secret_post';
  }
  if (!id) throw invalidClient('unknown client_id', 'no client id in token request');
  const client = unwrapOwnClientId(key, id);
  if (!client)
    throw invalidClient('unknown client_id: register again', 'client id not issued by this facade');
  if (method !== client.authMethod) {
    throw invalidClient(
      'client authentication failed',
      `client registered ${client.authMethod}, authenticated with ${method}`,
    );
  }
  if (method !== 'none' && !(secret !== undefined && ownClientSecretMatches(key, id, secret))) {
    throw invalidClient('client authentication failed', 'wrong client secret');
  }
  return id;
}

/** The facade's own client credentials on the request to the IdP, and the IdP's reply mapped back. */
function upstreamCredentials(
  upstream: UpstreamClientConfig,
  secret: string,
  params: URLSearchParams,
  key: Uint8Array,
  facadeId: string,
): TokenForward {
  let authorization: string | null = null;
  if (upstream.tokenEndpointAuthMethod === 'client_secret_basic') {
    authorization = basicAuth(upstream.clientId, secret);
  } else {
    params.set('client_id', upstream.clientId);
    params.set('client_secret', secret);
  }
  return { authorization, reply: (r) => upstreamReply(r, key, facadeId) };
}

/**
 * The IdP's answer for the client: refresh tokens sealed to it; the IdP refusing the facade's own
 * credentials is our misconfiguration (502 and a log line), not the client's (an `invalid_client`
 * would make it register again and again).
 */
function upstreamReply(r: IdpReply, key: Uint8Array, facadeId: string): IdpReply {
  if (r.status >= 400 && r.status < 500 && r.json?.error === 'invalid_client') {
    throw new DependencyError(
      'identity provider',
      'misconfigured',
      `the IdP refused discovery.upstream_client (HTTP ${r.status} invalid_client)`,
    );
  }
  return sealRefreshTokens(r, key, facadeId);
}
