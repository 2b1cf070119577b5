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
import { errorResponse, jsonResponse, OAuthError, toOAuthError } from '../shared/errors.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { type AuthorizeRequest, idpAuthorizeUrl, validateAuthorizeRequest } from './authorize.ts';
import { CLEAR_CONSENT_COOKIE, consentPage, deniedPage, newNonce, readConsent } from './consent.ts';
import { parseRegistrationBody, registrationResponse, validateRegistration } from './dcr.ts';
import { buildAsMetadata, discoveryRoute, facadeIssuer, issuerPath } from './metadata.ts';
import type { IdentityProvider } from './providers/types.ts';
import { parseTokenRequest, tokenResponseFromIdp, unavailable } from './token.ts';

export type DiscoveryHandler = (req: Request, opts?: { requestId?: string }) => Promise<Response>;

export interface DiscoveryDeps {
  readonly provider: IdentityProvider;
  /** HTTP client for the IdP token endpoint. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  readonly log?: Logger;
  /** Resolves when the function is configured (secrets loaded); rejects to fail closed. */
  readonly ready?: () => Promise<void>;
  /** Timeout of calls to the IdP token endpoint (ms). @default 10000 */
  readonly idpTimeoutMs?: number;
}

function methodNotAllowed(allow: string): OAuthError {
  return new OAuthError(405, 'method_not_allowed', 'method not allowed', undefined, undefined, { allow });
}

/** Read a body with a hard byte limit (the Function URL already caps it at 6 MB). */
async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) return new Uint8Array(limit + 1);
  return new Uint8Array(await req.arrayBuffer());
}

export function createDiscovery(cfg: Config, deps: DiscoveryDeps): DiscoveryHandler {
  const log = deps.log ?? createLogger('discovery');
  const http = deps.fetch ?? fetch;
  const timeoutMs = deps.idpTimeoutMs ?? 10_000;
  const provider = deps.provider;

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
      if (r.kind === 'none')
        throw new OAuthError(404, 'not_found', 'no such endpoint', `unrouted path ${url.pathname}`);

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
        });
        return finish(jsonResponse(200, doc, { ...PUBLIC_CORS, 'cache-control': 'public, max-age=300' }));
      }

      const browserFacing = r.kind === 'authorize' || r.kind === 'consent';
      if (req.method === 'OPTIONS' && !browserFacing) {
        return finish(
          new Response(null, { status: 204, headers: preflightHeaders(cfg.cors, reqOrigin, origin) }),
        );
      }
      // Browser clients may call /register and /token only from configured origins (the
      // original answered `Access-Control-Allow-Origin: *` on /register).
      if (!browserFacing && !originAllowed(cfg.cors, reqOrigin, origin)) {
        throw new OAuthError(
          403,
          'forbidden',
          'origin not allowed',
          `origin ${reqOrigin} not in cors.allowed_origins`,
        );
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
        const created = await provider.register(reg);
        access.clientId = created.client_id;
        log.info('client registered', {
          requestId: opts.requestId,
          clientId: created.client_id,
          redirectUris: reg.redirect_uris,
        });
        return finish(jsonResponse(201, registrationResponse(reg, created), cors));
      }

      const toIdp = async (ar: AuthorizeRequest, extra: Record<string, string> = {}) => {
        const meta = await provider.metadata();
        const params = await provider.authorizeParams(new URLSearchParams(ar.params));
        const location = idpAuthorizeUrl(meta.authorization_endpoint, params, []);
        return new Response(null, {
          status: 302,
          headers: { location, 'cache-control': 'no-store', ...extra },
        });
      };

      if (r.kind === 'authorize') {
        if (req.method !== 'GET') throw methodNotAllowed('GET');
        const ar = validateAuthorizeRequest(
          url.searchParams,
          cfg.discovery.allowedRedirectSchemes,
          cfg.discovery.allowedRedirectHosts,
        );
        access.clientId = ar.clientId;
        if (cfg.discovery.consent === 'off') return finish(await toIdp(ar));
        // Fail before asking the user when the IdP is unreachable or misconfigured.
        await provider.metadata();
        const page = consentPage(
          {
            action: `${issuerPath(issuer)}/authorize/consent`,
            clientId: ar.clientId,
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
          throw new OAuthError(400, 'invalid_request', 'the consent form must be form-encoded');
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
        const ar = validateAuthorizeRequest(
          new URLSearchParams(decision.query),
          cfg.discovery.allowedRedirectSchemes,
          cfg.discovery.allowedRedirectHosts,
        );
        access.clientId = ar.clientId;
        access.consent = decision.allow ? 'allow' : 'deny';
        log.info('consent', {
          requestId: opts.requestId,
          clientId: ar.clientId,
          redirectUri: ar.redirectUri,
          allow: decision.allow,
        });
        if (!decision.allow) return finish(deniedPage());
        return finish(await toIdp(ar, { 'set-cookie': CLEAR_CONSENT_COOKIE }));
      }

      // token
      if (req.method !== 'POST') throw methodNotAllowed('POST, OPTIONS');
      const params = parseTokenRequest(req.headers.get('content-type'), await readBody(req, 64 * 1024));
      access.grantType = params.get('grant_type');
      const meta = await provider.metadata();
      const body = await provider.tokenParams(params);
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      };
      // RFC 6749 §2.3.1: the client authenticates to the IdP, which issued its credentials.
      const authz = req.headers.get('authorization');
      if (authz && /^Basic [A-Za-z0-9+/=]+$/i.test(authz)) headers.authorization = authz;
      let res: Response;
      let text: string;
      try {
        res = await http(meta.token_endpoint, {
          method: 'POST',
          headers,
          body: body.toString(),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await res.text();
      } catch (e) {
        throw unavailable(
          `IdP token endpoint unreachable: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
        );
      }
      const out = tokenResponseFromIdp(res.status, res.headers.get('content-type'), text);
      for (const [k, v] of Object.entries(cors)) out.headers.set(k, v);
      access.idpStatus = res.status;
      return finish(out);
    } catch (e) {
      const err = toOAuthError(e);
      if (err.reason) access.reason = err.reason;
      const extra =
        r.kind === 'metadata' ? PUBLIC_CORS : r.kind === 'authorize' || r.kind === 'consent' ? {} : cors;
      return finish(errorResponse(err, extra));
    }
  };
}
