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
 * the IdP on behalf of dynamically registered clients. Each registration creates its own client
 * at the IdP, so the IdP's own consent screen (and its remembered consent) is per client, and a
 * consent given to one client can never be replayed by another.
 */
import type { Config } from '../shared/config.ts';
import { corsHeaders, originAllowed, PUBLIC_CORS, preflightHeaders } from '../shared/cors.ts';
import { errorResponse, jsonResponse, OAuthError, toOAuthError } from '../shared/errors.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { idpAuthorizeUrl, validateAuthorizeRequest } from './authorize.ts';
import { parseRegistrationBody, registrationResponse, validateRegistration } from './dcr.ts';
import { buildAsMetadata, discoveryRoute, facadeIssuer } from './metadata.ts';
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

      if (req.method === 'OPTIONS' && r.kind !== 'authorize') {
        return finish(
          new Response(null, { status: 204, headers: preflightHeaders(cfg.cors, reqOrigin, origin) }),
        );
      }
      // Browser clients may call /register and /token only from configured origins (the
      // original answered `Access-Control-Allow-Origin: *` on /register).
      if (r.kind !== 'authorize' && !originAllowed(cfg.cors, reqOrigin, origin)) {
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
        const reg = validateRegistration(raw, cfg.discovery.allowedRedirectSchemes);
        const created = await provider.register(reg);
        access.clientId = created.client_id;
        log.info('client registered', {
          requestId: opts.requestId,
          clientId: created.client_id,
          redirectUris: reg.redirect_uris,
        });
        return finish(jsonResponse(201, registrationResponse(reg, created), cors));
      }

      if (r.kind === 'authorize') {
        if (req.method !== 'GET') throw methodNotAllowed('GET');
        const ar = validateAuthorizeRequest(url.searchParams, cfg.discovery.allowedRedirectSchemes);
        access.clientId = ar.clientId;
        const meta = await provider.metadata();
        const params = await provider.authorizeParams(new URLSearchParams(ar.params));
        const location = idpAuthorizeUrl(meta.authorization_endpoint, params, []);
        return finish(
          new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } }),
        );
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
      const extra = r.kind === 'metadata' ? PUBLIC_CORS : r.kind === 'authorize' ? {} : cors;
      return finish(errorResponse(err, extra));
    }
  };
}
