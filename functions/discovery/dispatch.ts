/**
 * The facade's dispatcher: route → endpoint (the table is index.ts's), inside the shared frame
 * (shared/endpoint.ts). Who calls a route decides what happens around its endpoint:
 * - public (metadata): any origin, no secrets needed, errors with the public CORS headers;
 * - client (/register, /token): CORS preflight, then the Origin allow-list, errors with CORS;
 * - browser (/authorize, its consent POST, /callback): a person's browser navigates there, so no
 *   CORS, and a refusal is a page (or JSON for non-browsers), never a redirect.
 */
import { corsHeaders, PUBLIC_CORS } from '../shared/cors.ts';
import {
  type EndpointOptions,
  type Exchange,
  type Handler,
  preflight,
  requireAllowedOrigin,
  serve,
} from '../shared/endpoint.ts';
import { errorResponse, notFound } from '../shared/errors.ts';
import type { Endpoint, Facade, FacadeRoute } from './endpoints/context.ts';
import { type DiscoveryRoute, discoveryRoute, facadeIssuer } from './metadata.ts';
import { errorPage, wantsHtml } from './pages.ts';

type Audience = 'public' | 'client' | 'browser';

const AUDIENCE: Readonly<Record<DiscoveryRoute['kind'], Audience>> = {
  metadata: 'public',
  register: 'client',
  token: 'client',
  none: 'client',
  authorize: 'browser',
  consent: 'browser',
  callback: 'browser',
};

/** A route this configuration does not serve: 404, with the reason in the log. */
export interface Off {
  readonly off: string;
}

export type EndpointTable = Readonly<Record<Exclude<DiscoveryRoute['kind'], 'none'>, Endpoint | Off>>;

export function dispatch(
  f: Facade,
  table: EndpointTable,
  /** Resolves when the function is configured (secrets loaded); rejects to fail closed. */
  ready?: () => Promise<void>,
): Handler<EndpointOptions> {
  const cors = (x: Exchange<FacadeRoute>) =>
    corsHeaders(f.cfg.cors, x.req.headers.get('origin'), x.url.origin);
  return serve<FacadeRoute, EndpointOptions>({
    log: f.log,
    metrics: f.metrics,
    route(_req, url) {
      const issuer = facadeIssuer(f.cfg.discovery.baseUrl, url.origin);
      return { ...discoveryRoute(issuer, url.pathname), issuer };
    },
    routeFields: (r) => ({ route: r.kind }),

    async handle(x) {
      const endpoint = table[x.route.kind];
      if ('off' in endpoint) throw notFound(endpoint.off);
      const audience = AUDIENCE[x.route.kind];
      if (audience === 'client') {
        if (x.req.method === 'OPTIONS') return preflight(f.cfg.cors, x.req, x.url.origin);
        // Browser clients may call /register and /token only from configured origins (the
        // original answered `Access-Control-Allow-Origin: *` on /register).
        requireAllowedOrigin(f.cfg.cors, x.req, x.url.origin);
      }
      if (audience !== 'public') await ready?.();
      return endpoint(f, { ...x, issuer: x.route.issuer, cors: cors(x) });
    },

    failure(err, x) {
      if (err.reason) x.access.reason = err.reason;
      const audience = AUDIENCE[x.route.kind];
      if (audience === 'browser' && wantsHtml(x.req)) return errorPage(err);
      return errorResponse(err, audience === 'public' ? PUBLIC_CORS : audience === 'browser' ? {} : cors(x));
    },
  });
}
