/**
 * Response step: the upstream's status and headers (policy of headers.ts, the proxy's own CORS),
 * and its body streamed back (stream.ts). SSE responses are marked uncacheable and unbuffered,
 * get heartbeats when idle and, on the legacy transport, the `endpoint` event rewritten onto the
 * proxy's origin.
 */
import type { Config } from '../../shared/config/index.ts';
import { corsHeaders } from '../../shared/cors.ts';
import type { Exchange } from '../../shared/endpoint.ts';
import type { Logger } from '../../shared/log.ts';
import { clientResponseHeaders, isEventStream } from '../headers.ts';
import type { ListingFilter } from '../mcp/types.ts';
import type { Route } from '../routes.ts';
import { MAX_EVENT_CHARS, rewriteEndpointUrl, SseStream } from '../sse.ts';
import type { Forwarded } from './forward.ts';
import { filteredJsonResponse, planListing } from './listing-body.ts';
import { streamBody } from './stream.ts';

type McpRoute = Extract<Route, { kind: 'mcp' }>;

export function respond(
  cfg: Config,
  log: Logger,
  x: Exchange<McpRoute>,
  forwarded: Forwarded,
  /** Milliseconds the host allows for this response. */
  budgetMs = Number.POSITIVE_INFINITY,
  /** Called once when the response body ends, however it ends. */
  onClosed: () => void = () => {},
  /** This token's listing filter (mcp/listing.ts); none: nothing is filtered. */
  listing?: ListingFilter,
): Response | Promise<Response> {
  const { req, url } = x;
  const { up, abort, upstreamUrl } = forwarded;
  const headers = clientResponseHeaders(up.headers);
  for (const [k, v] of Object.entries(corsHeaders(cfg.cors, req.headers.get('origin'), url.origin))) {
    headers.set(k, v);
  }
  // The upstream's session id reaches the client only wrapped (mcp/session-id.ts).
  if (forwarded.session?.wrapResponse(headers) === false) {
    log.warn('dropped an upstream session id that is not visible ASCII of at most 1024 characters', {
      ...x.access,
    });
  }
  const sse = isEventStream(headers.get('content-type'));
  if (sse) {
    headers.set('cache-control', 'no-cache, no-transform');
    headers.set('x-accel-buffering', 'no');
  }
  // The stream's own log lines carry the request's fields, not the access line's `sse`.
  const fields = { ...x.access };
  x.access.sse = sse;
  const rewrite = (data: string) => {
    const moved = rewriteEndpointUrl(data, upstreamUrl, cfg.upstream.baseUrl, url.origin);
    const next = moved && forwarded.session ? forwarded.session.wrapEndpoint(moved) : moved;
    if (moved === undefined) log.warn('dropped endpoint event pointing outside the upstream', fields);
    else if (next === undefined)
      log.warn('dropped endpoint event whose session id cannot be wrapped', fields);
    return next;
  };
  const nullBody = req.method === 'HEAD' || up.status === 204 || up.status === 304;
  const maxMs = Math.min(cfg.stream.maxDurationSeconds * 1000, budgetMs);
  // Listings (listing-body.ts): a JSON body is buffered and filtered, SSE events as they pass.
  const plan = nullBody ? undefined : planListing(listing, req.method, forwarded, headers);
  if (plan?.kind === 'json') return filteredJsonResponse(forwarded, plan, headers, maxMs).finally(onClosed);
  const streamStarted = Date.now();
  const body = streamBody(up, abort, {
    events: sse
      ? new SseStream(x.route.transport === 'sse' ? rewrite : undefined, MAX_EVENT_CHARS, plan?.transform)
      : undefined,
    heartbeatMs: sse ? cfg.stream.heartbeatSeconds * 1000 : 0,
    maxMs,
    onDone: (why, bytes) => {
      onClosed();
      log.info('stream closed', { ...fields, why, ms: Date.now() - streamStarted });
      x.metrics?.stream(Date.now() - streamStarted, bytes, why);
    },
  });
  if (nullBody) body.cancel().catch(() => {});
  return new Response(nullBody ? null : body, { status: up.status, headers });
}
