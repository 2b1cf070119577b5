/**
 * Discovery/registration core: the authorization-server facade in front of the identity
 * provider. Web `Request` in, Web `Response` out, runtime-neutral. It orchestrates the pure
 * policy modules (metadata.ts, dcr.ts, authorize.ts, token.ts) and two edges: the provider
 * (client creation, IdP metadata) and `fetch` to the IdP token endpoint.
 *
 * Endpoints (see metadata.ts for the exact URLs):
 * - metadata (RFC 8414 / OpenID Connect Discovery), public, cacheable;
 * - POST /register (RFC 7591): validated here, then created at the IdP by the provider;
 * - GET /authorize: validated here (PKCE S256 required), then 302 to the IdP;
 * - POST /token: validated here, then forwarded to the IdP token endpoint.
 *
 * Confused deputy (MCP security best practices): the facade never uses one static client id at
 * the IdP on behalf of dynamically registered clients; each registration creates its own client
 * at the IdP. Because registration is open and the IdP may show no consent screen (Cognito) or
 * skip it for a signed-in user, the facade asks the user itself before every authorization
 * request goes on to the IdP (consent.ts): who asks, and where the code will be delivered.
 */
import type { Config } from '../shared/config.ts';
import { corsHeaders, originAllowed, PUBLIC_CORS, preflightHeaders } from '../shared/cors.ts';
import { basicHeader, formDecode, formEncode, isBasic, readBasic } from '../shared/encoding.ts';
import {
  badRequest,
  errorResponse,
  forbidden,
  invalidClient,
  jsonResponse,
  methodNotAllowed,
  notFound,
  OAuthError,
  toOAuthError,
} from '../shared/errors.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { type AuthorizeRequest, idpAuthorizeUrl, validateAuthorizeRequest } from './authorize.ts';
import {
  type FacadeClient,
  MAX_CLIENT_ID_LENGTH,
  redirectRegistered,
  unwrapClientId,
  wrapClientId,
} from './client-id.ts';
import { CLEAR_CONSENT_COOKIE, consentPage, deniedPage, newNonce, readConsent } from './consent.ts';
import { parseRegistrationBody, registrationResponse, validateRegistration } from './dcr.ts';
import { IDP_TIMEOUT_MS, idpCall } from './idp-http.ts';
import { buildAsMetadata, discoveryRoute, facadeIssuer, issuerPath } from './metadata.ts';
import { errorPage, wantsHtml } from './pages.ts';
import type { IdentityProvider } from './providers/types.ts';
import { redirectUriProblem } from './redirect-uri.ts';
import { callbackUrl, clientRedirect, issueRelayState, readRelayState } from './relay.ts';
import { issuerKey } from './seal.ts';
import { parseTokenRequest, tokenResponseFromIdp } from './token.ts';

export type DiscoveryHandler = (req: Request, opts?: { requestId?: string }) => Promise<Response>;

export interface DiscoveryDeps {
  readonly provider: IdentityProvider;
  /** HTTP client for the IdP token endpoint (through idp-http.ts). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  readonly log?: Logger;
  /** Resolves when the function is configured (secrets loaded); rejects to fail closed. */
  readonly ready?: () => Promise<void>;
  /** Timeout of calls to the IdP token endpoint (ms). @default IDP_TIMEOUT_MS */
  readonly idpTimeoutMs?: number;
  /** The relay's sealing key (`discovery.signing_key`); no relay without it (relay.ts). */
  readonly signingKey?: () => Promise<Uint8Array>;
}

/** Routes a browser navigates to (no CORS; refusals are pages for the user, never redirects). */
const browserFacingRoute = (kind: string) =>
  kind === 'authorize' || kind === 'consent' || kind === 'callback';

/** Read a body with a hard byte limit (the Function URL already caps it at 6 MB). */
async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) return new Uint8Array(limit + 1);
  return new Uint8Array(await req.arrayBuffer());
}

export function createDiscovery(cfg: Config, deps: DiscoveryDeps): DiscoveryHandler {
  const log = deps.log ?? createLogger('discovery');
  const http = deps.fetch ?? fetch;
  const timeoutMs = deps.idpTimeoutMs ?? IDP_TIMEOUT_MS;
  const provider = deps.provider;

  const relayKey = deps.signingKey;

  /** With the relay: the facade client behind `clientId` (400, or 401 at /token, for ids it did not issue). */
  const facadeClient = async (key: Uint8Array, clientId: string, atToken = false): Promise<FacadeClient> => {
    const c = unwrapClientId(key, clientId);
    if (c) return c;
    // RFC 6749 §5.2: invalid_client makes MCP clients register again (e.g. after a key change).
    // At /authorize it is never a redirect (the client is unknown): a 400 page or JSON with the
    // same code, which clients that check their cached registration first (mcp-remote) act on.
    throw new OAuthError({
      status: atToken ? 401 : 400,
      code: 'invalid_client',
      description: 'unknown client_id: register again',
      reason: 'client id not issued by this facade',
    });
  };

  /** Validation, plus (relay) the exact redirect URI match against the client's registration. */
  const validateAuthorize = async (params: URLSearchParams, issuer: string): Promise<AuthorizeRequest> => {
    const ar = validateAuthorizeRequest(
      params,
      cfg.discovery.allowedRedirectSchemes,
      cfg.discovery.allowedRedirectHosts,
    );
    if (relayKey) {
      const client = await facadeClient(issuerKey(await relayKey(), issuer), ar.clientId);
      if (!redirectRegistered(ar.redirectUri, client.redirectUris)) {
        throw badRequest('invalid_request', 'redirect_uri is not registered for this client');
      }
    }
    return ar;
  };

  /**
   * With the relay, the IdP knows its own client id and the facade's callback: swap the facade
   * client id (form or HTTP Basic, RFC 6749 §2.3.1) for the IdP's and, for a code, check the
   * client's redirect URI against its registration before sending the callback instead.
   */
  const relayTokenRequest = async (
    params: URLSearchParams,
    basic: string | null,
    issuer: string,
  ): Promise<string | null> => {
    const key = issuerKey(await relayKey!(), issuer);
    const formId = params.get('client_id');
    let client = formId ? await facadeClient(key, formId, true) : undefined;
    if (basic) {
      // With the relay every client authenticates with its facade id (form-decoded, §2.3.1);
      // anything that is not Basic credentials with an id is refused as an unknown client.
      const creds = readBasic(basic);
      const id = (creds && formDecode(creds.id)) ?? '';
      const c = await facadeClient(key, id, true);
      if (formId && formId !== id) throw invalidClient('two different client ids');
      client = c;
      basic = basicHeader(formEncode(c.idpClientId), creds!.secret);
    }
    if (!client) throw invalidClient('unknown client_id', 'no client id in token request');
    params.set('client_id', client.idpClientId);
    if (basic) params.delete('client_id'); // authenticated by the header (one method only, §2.3)
    if (params.get('grant_type') === 'authorization_code') {
      if (!redirectRegistered(params.get('redirect_uri') ?? '', client.redirectUris)) {
        throw badRequest('invalid_grant', 'redirect_uri is not registered for this client');
      }
      params.set('redirect_uri', callbackUrl(issuer));
    }
    return basic;
  };

  return async (req, opts = {}) => {
    const started = Date.now();
    const url = new URL(req.url);
    const origin = url.origin;
    const issuer = facadeIssuer(cfg.discovery.baseUrl, origin);
    const r = discoveryRoute(issuer, url.pathname);
    const reqOrigin = req.headers.get('origin');
    const cors = corsHeaders(cfg.cors, reqOrigin, origin);
    const access: Record<string, unknown> = {
      requestId: opts.requestId,
      method: req.method,
      path: url.pathname,
      route: r.kind,
    };
    const finish = (res: Response) => {
      log.info('request', { ...access, status: res.status, ms: Date.now() - started });
      return res;
    };

    try {
      if (r.kind === 'none') throw notFound(`unrouted path ${url.pathname}`);

      if (r.kind === 'metadata') {
        if (req.method === 'OPTIONS')
          return finish(new Response(null, { status: 204, headers: PUBLIC_CORS }));
        if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET, OPTIONS');
        const doc = buildAsMetadata({
          issuer,
          jwksUri: cfg.token.jwksUri,
          scopesSupported: cfg.protectedResourceMetadata.scopesSupported?.filter(
            (s) => s !== 'offline_access',
          ),
          overrides: provider.metadataOverrides?.(),
          issInAuthorizationResponse: relayKey !== undefined,
        });
        return finish(jsonResponse(200, doc, { ...PUBLIC_CORS, 'cache-control': 'public, max-age=300' }));
      }

      if (r.kind === 'callback' && !relayKey) {
        throw notFound('relay is off (no discovery.signing_key)');
      }
      const browserFacing = browserFacingRoute(r.kind);
      if (req.method === 'OPTIONS' && !browserFacing) {
        return finish(
          new Response(null, { status: 204, headers: preflightHeaders(cfg.cors, reqOrigin, origin) }),
        );
      }
      // Browser clients may call /register and /token only from configured origins (the
      // original answered `Access-Control-Allow-Origin: *` on /register).
      if (!browserFacing && !originAllowed(cfg.cors, reqOrigin, origin)) {
        throw forbidden('origin not allowed', `origin ${reqOrigin} not in cors.allowed_origins`);
      }
      await deps.ready?.();

      if (r.kind === 'register') {
        if (req.method !== 'POST') throw methodNotAllowed('POST, OPTIONS');
        const raw = parseRegistrationBody(req.headers.get('content-type'), await readBody(req, 64 * 1024));
        const reg = validateRegistration(
          raw,
          cfg.discovery.allowedRedirectSchemes,
          cfg.discovery.allowedRedirectHosts,
        );
        let created: Awaited<ReturnType<IdentityProvider['register']>>;
        if (relayKey) {
          // The IdP gets one redirect URI, the facade's callback; the client's own URIs ride,
          // sealed, in the client id it gets back (client-id.ts).
          const key = issuerKey(await relayKey(), issuer);
          if (
            wrapClientId(key, 'x'.repeat(128), reg.redirect_uris, reg.client_name).length >
            MAX_CLIENT_ID_LENGTH
          ) {
            throw badRequest('invalid_redirect_uri', 'too many or too long redirect_uris');
          }
          const atIdp = await provider.register({ ...reg, redirect_uris: [callbackUrl(issuer)] });
          created = {
            ...atIdp,
            client_id: wrapClientId(key, atIdp.client_id, reg.redirect_uris, reg.client_name),
          };
        } else {
          created = await provider.register(reg);
        }
        access.clientId = created.client_id;
        log.info('client registered', {
          requestId: opts.requestId,
          clientId: created.client_id,
          redirectUris: reg.redirect_uris,
        });
        return finish(jsonResponse(201, registrationResponse(reg, created), cors));
      }

      const toIdp = async (ar: AuthorizeRequest, cookies: string[] = []) => {
        const meta = await provider.metadata();
        // Provider rules first; the relay's own values must win over any configured parameter.
        const params = await provider.authorizeParams(new URLSearchParams(ar.params));
        const headers = new Headers({ 'cache-control': 'no-store' });
        if (relayKey) {
          const key = issuerKey(await relayKey(), issuer);
          params.set('client_id', (await facadeClient(key, ar.clientId)).idpClientId);
          params.set('redirect_uri', callbackUrl(issuer));
          const relay = issueRelayState(key, {
            ru: ar.redirectUri,
            st: ar.params.get('state') ?? undefined,
            clientId: ar.clientId,
          });
          params.set('state', relay.state);
          cookies.push(relay.cookie);
        }
        headers.set('location', idpAuthorizeUrl(meta.authorization_endpoint, params));
        for (const c of cookies) headers.append('set-cookie', c);
        return new Response(null, { status: 302, headers });
      };

      if (r.kind === 'authorize') {
        if (req.method !== 'GET') throw methodNotAllowed('GET');
        const ar = await validateAuthorize(url.searchParams, issuer);
        access.clientId = ar.clientId;
        if (cfg.discovery.consent === 'off') return finish(await toIdp(ar));
        // Fail before asking the user when the IdP is unreachable or misconfigured.
        await provider.metadata();
        const known = relayKey
          ? await facadeClient(issuerKey(await relayKey(), issuer), ar.clientId)
          : undefined;
        const page = consentPage(
          {
            action: `${issuerPath(issuer)}/authorize/consent`,
            clientId: ar.clientId,
            clientName: known?.name,
            redirectUri: ar.redirectUri,
            scope: ar.scope,
            resources: ar.resources,
            query: ar.params.toString(),
          },
          newNonce(),
        );
        return finish(page);
      }

      if (r.kind === 'consent') {
        if (req.method !== 'POST') throw methodNotAllowed('POST');
        if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers.get('content-type') ?? '')) {
          throw badRequest('invalid_request', 'the consent form must be form-encoded');
        }
        const form = new URLSearchParams(new TextDecoder().decode(await readBody(req, 32 * 1024)));
        const decision = readConsent(
          form,
          req.headers.get('cookie'),
          reqOrigin,
          origin,
          req.headers.get('sec-fetch-site'),
        );
        // The request is validated again: the form is client-side input like any other.
        const ar = await validateAuthorize(new URLSearchParams(decision.query), issuer);
        access.clientId = ar.clientId;
        access.consent = decision.allow ? 'allow' : 'deny';
        log.info('consent', {
          requestId: opts.requestId,
          clientId: ar.clientId,
          redirectUri: ar.redirectUri,
          allow: decision.allow,
        });
        if (!decision.allow) {
          // RFC 6749 §4.1.2.1: a refusal goes to the client once its redirect URI is validated,
          // which only the relay can do (exact match against the sealed registration).
          if (!relayKey) return finish(deniedPage());
          const to = new URL(ar.redirectUri);
          to.searchParams.set('error', 'access_denied');
          to.searchParams.set('error_description', 'the user denied access');
          const st = ar.params.get('state');
          if (st !== null) to.searchParams.set('state', st);
          to.searchParams.set('iss', issuer);
          return finish(
            new Response(null, {
              status: 302,
              headers: {
                location: to.toString(),
                'cache-control': 'no-store',
                'set-cookie': CLEAR_CONSENT_COOKIE,
              },
            }),
          );
        }
        return finish(await toIdp(ar, [CLEAR_CONSENT_COOKIE]));
      }

      if (r.kind === 'callback') {
        if (req.method !== 'GET') throw methodNotAllowed('GET');
        const state = readRelayState(
          issuerKey(await relayKey!(), issuer),
          url.searchParams.get('state'),
          req.headers.get('cookie'),
        );
        // Defence in depth: the URI was checked against the registration when the state was issued.
        const problem = redirectUriProblem(
          state.ru,
          cfg.discovery.allowedRedirectSchemes,
          cfg.discovery.allowedRedirectHosts,
        );
        if (problem) throw badRequest('invalid_request', 'invalid authorization response', problem);
        // RFC 9207: an `iss` from the IdP must be the IdP's (mix-up defence); ours replaces it.
        const idpIss = url.searchParams.get('iss');
        if (idpIss !== null && idpIss !== (await provider.metadata()).issuer) {
          throw badRequest(
            'invalid_request',
            'invalid authorization response',
            `iss ${idpIss} is not the IdP's`,
          );
        }
        access.clientId = state.cid;
        return finish(
          new Response(null, {
            status: 302,
            headers: {
              location: clientRedirect(state, url.searchParams, issuer),
              'cache-control': 'no-store',
              'set-cookie': state.clearCookie,
            },
          }),
        );
      }

      // token
      if (req.method !== 'POST') throw methodNotAllowed('POST, OPTIONS');
      const params = parseTokenRequest(req.headers.get('content-type'), await readBody(req, 64 * 1024));
      access.grantType = params.get('grant_type');
      let basic = req.headers.get('authorization');
      if (relayKey) basic = await relayTokenRequest(params, basic, issuer);
      const meta = await provider.metadata();
      const body = await provider.tokenParams(params);
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      };
      // RFC 6749 §2.3.1: the client authenticates to the IdP, which issued its credentials.
      if (isBasic(basic)) headers.authorization = basic;
      const reply = await idpCall(
        http,
        'IdP token endpoint',
        meta.token_endpoint,
        { method: 'POST', headers, body: body.toString() },
        { timeoutMs },
      );
      const out = tokenResponseFromIdp(reply);
      for (const [k, v] of Object.entries(cors)) out.headers.set(k, v);
      access.idpStatus = reply.status;
      return finish(out);
    } catch (e) {
      const err = toOAuthError(e);
      if (err.reason) access.reason = err.reason;
      if (browserFacingRoute(r.kind) && wantsHtml(req)) return finish(errorPage(err));
      const extra = r.kind === 'metadata' ? PUBLIC_CORS : browserFacingRoute(r.kind) ? {} : cors;
      return finish(errorResponse(err, extra));
    }
  };
}
