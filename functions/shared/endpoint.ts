/**
 * The frame every request of both functions runs in (Web `Request` in, Web `Response` out): route
 * it, answer an unrouted path with 404, turn anything thrown into the one error response
 * (`toOAuthError`, then the function's own error shape), and write one access log line per
 * request: `requestId`, `method`, `path`, the route's fields, what the handler added (client id,
 * subject, ...), `status` and `ms`. Plus the answers both functions give alike: public metadata
 * documents, CORS preflights and the Origin check.
 */
import { type CorsConfig, originAllowed, PUBLIC_CORS, preflightHeaders } from './cors.ts';
import {
  DependencyError,
  forbidden,
  jsonResponse,
  methodNotAllowed,
  notFound,
  type OAuthError,
  toOAuthError,
} from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** Fields of a request's access log line. */
export type AccessLog = Record<string, unknown>;

export interface EndpointOptions {
  readonly requestId?: string;
}

export interface Exchange<R> {
  readonly req: Request;
  readonly url: URL;
  readonly route: R;
  readonly requestId?: string;
  /** The access log line's fields; handlers add to it. */
  readonly access: AccessLog;
  /** The function's metrics (metrics.ts), for events inside a request. */
  readonly metrics?: Metrics;
}

type Routed = { readonly kind: string };
/** A route the frame hands to the handler (an unrouted path never gets there). */
export type Found<R extends Routed> = Exclude<R, { kind: 'none' }>;

export interface Frame<R extends Routed, O extends EndpointOptions> {
  readonly log: Logger;
  /** Requests by status and decision, dependency failures (metrics.ts). @default none */
  readonly metrics?: Metrics;
  /** Which route the request is for; `kind: 'none'` is a 404. */
  route(req: Request, url: URL): R;
  /** Access log fields naming the route (after requestId, method, path). */
  routeFields?(route: R): AccessLog;
  handle(x: Exchange<Found<R>>, opts: O): Promise<Response>;
  /** The response for a failed request (headers, page or JSON); may add to the access log. */
  failure(err: OAuthError, x: Exchange<R>): Response;
}

export type Handler<O extends EndpointOptions> = (req: Request, opts?: O) => Promise<Response>;

export function serve<R extends Routed, O extends EndpointOptions>(frame: Frame<R, O>): Handler<O> {
  return async (req, opts = {} as O) => {
    const started = Date.now();
    const url = new URL(req.url);
    const route = frame.route(req, url);
    const access: AccessLog = {
      requestId: opts.requestId,
      method: req.method,
      path: url.pathname,
      ...frame.routeFields?.(route),
    };
    const x: Exchange<R> = { req, url, route, requestId: opts.requestId, access, metrics: frame.metrics };
    let decision = 'ok';
    let res: Response;
    try {
      if (route.kind === 'none') throw notFound(`unrouted path ${url.pathname}`);
      res = await frame.handle(x as Exchange<Found<R>>, opts);
    } catch (e) {
      const err = toOAuthError(e);
      decision = err.code;
      if (e instanceof DependencyError) frame.metrics?.dependencyError(e.dependency);
      res = frame.failure(err, x);
    }
    frame.log.info('request', { ...access, status: res.status, ms: Date.now() - started });
    frame.metrics?.request(res.status, decision);
    return res;
  };
}

/** A public metadata document (PRM, AS metadata): readable from any origin, cacheable, GET only. */
export function publicDocument(req: Request, doc: () => unknown): Response {
  if (req.method === 'OPTIONS') return new Response(null, { status: 204, headers: PUBLIC_CORS });
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET, OPTIONS');
  return jsonResponse(200, doc(), { ...PUBLIC_CORS, 'cache-control': 'public, max-age=300' });
}

/** The answer to a CORS preflight (its headers only for an allowed origin). */
export function preflight(cors: CorsConfig, req: Request, selfOrigin: string): Response {
  const headers = preflightHeaders(cors, req.headers.get('origin'), selfOrigin);
  return new Response(null, { status: 204, headers });
}

/** 403 unless the request's `Origin` may use the endpoint (absent, same origin or allowed). */
export function requireAllowedOrigin(cors: CorsConfig, req: Request, selfOrigin: string): void {
  const origin = req.headers.get('origin');
  if (!originAllowed(cors, origin, selfOrigin)) {
    throw forbidden('origin not allowed', `origin ${origin} not in cors.allowed_origins`);
  }
}
