/**
 * The proxy's request pipeline: Web `Request` in, Web `Response` out, runtime-neutral, inside
 * the shared frame (shared/endpoint.ts: access log, 404, errors). Each step is a small function
 * of its own; nothing reaches the upstream before the token has been verified, and the client's
 * credentials are never forwarded.
 */
import type { Config } from '../shared/config/index.ts';
import { corsHeaders } from '../shared/cors.ts';
import {
  type EndpointOptions,
  type Handler,
  preflight,
  publicDocument,
  requireAllowedOrigin,
  serve,
} from '../shared/endpoint.ts';
import { errorResponse, tooManyRequests } from '../shared/errors.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import type { Metrics } from '../shared/metrics.ts';
import { authenticate } from './auth/authenticate.ts';
import { authorizeBody, requireScopes } from './auth/authorize.ts';
import { forward } from './forward/forward.ts';
import { respond } from './forward/respond.ts';
import { type UpstreamFetch, undiciUpstream } from './forward/upstream.ts';
import { type McpBody, readMcpBody } from './mcp/body.ts';
import { streamListingFilter } from './mcp/listing.ts';
import { compilePolicy, listingFilter, type Policy, policyView } from './mcp/policy.ts';
import type { ListingFilter } from './mcp/types.ts';
import { checkProtocolVersion } from './protocol-version.ts';
import { keyringFor, type ProxyKeys } from './proxy-keys.ts';
import { buildPrm, prmUrl, type Route, route } from './routes.ts';
import { createStreamSlots, type StreamSlots } from './stream-slots.ts';
import type { Identity, TokenVerifier } from './token.ts';
import { upstreamBinding } from './upstream-binding.ts';
import { identityJwks } from './upstream-identity.ts';

export interface ProxyDeps {
  readonly verifier: TokenVerifier;
  readonly upstream?: UpstreamFetch;
  readonly log?: Logger;
  /** EMF metrics (shared/metrics.ts). @default none */
  readonly metrics?: Metrics;
  /** The proxy's keys (proxy-keys.ts). @default from `proxy_secret`, else a random one per process */
  readonly keys?: () => Promise<ProxyKeys>;
}

export interface RequestOptions extends EndpointOptions {
  /** Milliseconds the host allows for this response (Lambda: remaining time minus a margin). */
  readonly budgetMs?: number;
}

export type ProxyHandler = Handler<RequestOptions>;

/**
 * How long the response may last on this token: a stream ends cleanly when the token expires
 * (with the clock skew it was accepted under), so a stream cannot outlive its authorization —
 * the client reconnects (or resumes with Last-Event-ID) with a fresh token.
 */
export function tokenLifetimeMs(cfg: Config, identity: Identity, now = Date.now()): number {
  const exp = identity.claims.exp;
  if (typeof exp !== 'number') return Number.POSITIVE_INFINITY;
  return Math.max(0, (exp + cfg.token.clockSkewSeconds) * 1000 - now);
}

/**
 * What the response's listings may show (mcp/listing.ts): a POST's own listing responses by id; a
 * request without a body (a GET stream: legacy `/sse`, a resumed Streamable HTTP stream) carries
 * answers to other requests, so any listing on it, by shape. None when the policy hides nothing.
 */
function listingOf(policy: Policy, body: McpBody | undefined, identity: Identity): ListingFilter | undefined {
  if (body) return listingFilter(policy, body.parsed, identity.scopes);
  return policy.filtersListings ? streamListingFilter(policyView(policy, identity.scopes)) : undefined;
}

/** A stream slot of this subject (stream-slots.ts), else 429 before anything reaches the upstream. */
function takeStreamSlot(streams: StreamSlots, identity: Identity): () => void {
  const release = streams.acquire(`${identity.issuer} ${identity.subject}`);
  if (release) return release;
  throw tooManyRequests(
    'too many open streams for this user; close one or try again later',
    `stream limit for subject ${identity.subject}`,
    5,
  );
}

export function createProxy(cfg: Config, deps: ProxyDeps): ProxyHandler {
  const upstream = deps.upstream ?? undiciUpstream;
  const log = deps.log ?? createLogger('proxy');
  const streams = createStreamSlots(cfg.stream.maxPerSubject);
  const policy = compilePolicy(cfg);
  const keys = deps.keys ?? keyringFor(cfg, log);

  return serve<Route, RequestOptions>({
    log,
    metrics: deps.metrics,
    // 1. Route (routes.ts): the PRM, an MCP endpoint, else 404.
    route: (_req, url) => route(cfg, url.pathname),

    async handle(x, opts) {
      const r = x.route;
      const origin = x.url.origin;
      if (r.kind === 'prm') return publicDocument(x.req, () => buildPrm(cfg, origin, r.mcpPath));
      if (r.kind === 'jwks') {
        const jwks = await identityJwks(await keys());
        return publicDocument(x.req, () => jwks);
      }
      // 2. Origin (absent, same origin or allowed; else 403), then the CORS preflight.
      requireAllowedOrigin(cfg.cors, x.req, origin);
      if (x.req.method === 'OPTIONS') return preflight(cfg.cors, x.req, origin);
      // 3. Authenticate: bearer token, verified.
      const resourceMetadata = prmUrl(origin, r.mcpPath);
      const identity = await authenticate(cfg, deps.verifier, x, { mcpPath: r.mcpPath, resourceMetadata });
      // 4. MCP-Protocol-Version syntax.
      checkProtocolVersion(x.req);
      // 5. The POST body, read once (bounded), parsed strictly, agreeing with its MCP headers;
      // later steps decide on `body.parsed`, forward sends `body.bytes` (mcp/body.ts).
      const body = await readMcpBody(cfg, x.req);
      // 5b. Authorize: the required scopes, and for a body those of every message (mcp/policy.ts),
      // all in one challenge; one audit line per message.
      if (body)
        authorizeBody(policy, body.parsed, identity, { resourceMetadata, log, requestId: x.requestId });
      else requireScopes(cfg.token.requiredScopes, identity, resourceMetadata, cfg.mcpPolicy.hierarchy);
      // 5c. Session ids bound to this token's subject (else 404), the identity JWT (upstream-binding.ts).
      const binding = await upstreamBinding(cfg, keys, x, identity);
      // 6. A long-lived stream takes one of the subject's slots on this instance.
      const release = x.req.method === 'GET' ? takeStreamSlot(streams, identity) : () => {};
      try {
        // 7. Forward to the upstream; 8. stream its response back, no longer than the token is
        // valid, its listings filtered to what the token may use.
        const sent = Date.now();
        const forwarded = await forward(cfg, upstream, x, identity, body, binding);
        deps.metrics?.upstreamLatency(Date.now() - sent);
        const budgetMs = Math.min(opts.budgetMs ?? Number.POSITIVE_INFINITY, tokenLifetimeMs(cfg, identity));
        const listing = listingOf(policy, body, identity);
        return respond(cfg, log, { ...x, route: r }, forwarded, budgetMs, release, listing);
      } catch (e) {
        release();
        throw e;
      }
    },

    failure(err, x) {
      x.access.reason = err.reason ?? err.message;
      if (err.status >= 500) log.error('request failed', { ...x.access });
      const cors =
        x.route.kind === 'mcp' ? corsHeaders(cfg.cors, x.req.headers.get('origin'), x.url.origin) : {};
      return errorResponse(err, cors);
    },
  });
}
