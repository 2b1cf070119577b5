/**
 * The proxy core: Web `Request` in, Web `Response` out, runtime-neutral. Orchestrates the pure
 * policy modules (routes, token extraction, scopes, headers, SSE) and the two edges (JWKS via
 * the verifier, the upstream via `UpstreamFetch`). Nothing reaches the upstream before the
 * token has been verified; the client's credentials are never forwarded.
 */
import type { Config } from '../shared/config/index.ts';
import { corsHeaders, originAllowed, PUBLIC_CORS, preflightHeaders } from '../shared/cors.ts';
import {
  badRequest,
  errorResponse,
  forbidden,
  jsonResponse,
  methodNotAllowed,
  notFound,
  OAuthError,
  toOAuthError,
} from '../shared/errors.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { clientResponseHeaders, isEventStream, upstreamRequestHeaders } from './headers.ts';
import { acceptedAudiences, buildPrm, prmUrl, route } from './routes.ts';
import { missingScopes } from './scopes.ts';
import { HEARTBEAT, rewriteEndpointUrl, SseRelay } from './sse.ts';
import { extractBearer, TokenRejected, type TokenVerifier, tokenError } from './token.ts';
import { isTimeout, type UpstreamFetch, type UpstreamResponse, undiciUpstream } from './upstream.ts';

export interface ProxyDeps {
  readonly verifier: TokenVerifier;
  readonly upstream?: UpstreamFetch;
  readonly log?: Logger;
}

export interface RequestOptions {
  /** Milliseconds the host allows for this response (Lambda: remaining time minus a margin). */
  readonly budgetMs?: number;
  readonly requestId?: string;
}

export type ProxyHandler = (req: Request, opts?: RequestOptions) => Promise<Response>;

const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

export function createProxy(cfg: Config, deps: ProxyDeps): ProxyHandler {
  const upstream = deps.upstream ?? undiciUpstream;
  const log = deps.log ?? createLogger('proxy');

  return async (req, opts = {}) => {
    const started = Date.now();
    const url = new URL(req.url);
    const origin = url.origin;
    const r = route(cfg, url.pathname);
    const reqOrigin = req.headers.get('origin');
    const access: Record<string, unknown> = {
      requestId: opts.requestId,
      method: req.method,
      path: url.pathname,
    };
    const finish = (res: Response, extra: Record<string, unknown> = {}) => {
      log.info('request', { ...access, status: res.status, ms: Date.now() - started, ...extra });
      return res;
    };

    try {
      if (r.kind === 'none') throw notFound(`unrouted path ${url.pathname}`);

      if (r.kind === 'prm') {
        if (req.method === 'OPTIONS')
          return finish(new Response(null, { status: 204, headers: PUBLIC_CORS }));
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          throw methodNotAllowed('GET, OPTIONS');
        }
        return finish(
          jsonResponse(200, buildPrm(cfg, origin, r.mcpPath), {
            ...PUBLIC_CORS,
            'cache-control': 'public, max-age=300',
          }),
        );
      }

      // MCP endpoints.
      const cors = corsHeaders(cfg.cors, reqOrigin, origin);
      if (!originAllowed(cfg.cors, reqOrigin, origin)) {
        throw forbidden('origin not allowed', `origin ${reqOrigin} not in cors.allowed_origins`);
      }
      if (req.method === 'OPTIONS') {
        return finish(
          new Response(null, { status: 204, headers: preflightHeaders(cfg.cors, reqOrigin, origin) }),
        );
      }

      const resourceMetadata = prmUrl(origin, r.mcpPath);
      const challengeScope = cfg.token.requiredScopes.length ? cfg.token.requiredScopes.join(' ') : undefined;
      const bearer = extractBearer(req.headers.get('authorization'), url.searchParams);
      if (bearer.kind === 'missing' || bearer.kind === 'query-only') {
        throw new OAuthError({
          status: 401,
          code: 'invalid_token',
          description: 'authorization required',
          reason: `no bearer token (${bearer.kind})`,
          challenge: {
            resourceMetadata,
            scope: challengeScope,
            includeError: false,
          },
        });
      }
      if (bearer.kind === 'malformed') {
        throw new OAuthError({
          status: 400,
          code: 'invalid_request',
          description: 'malformed authorization',
          reason: bearer.reason,
          challenge: {
            resourceMetadata,
            includeError: true,
          },
        });
      }
      let identity: Awaited<ReturnType<TokenVerifier['verify']>>;
      try {
        if (bearer.kind === 'invalid') throw new TokenRejected(bearer.reason);
        identity = await deps.verifier.verify(bearer.token, acceptedAudiences(cfg, origin, r.mcpPath));
      } catch (e) {
        throw tokenError(e, { resourceMetadata });
      }
      access.sub = identity.subject;
      access.clientId = identity.clientId;

      const missing = missingScopes(cfg.token.requiredScopes, identity.scopes);
      if (missing.length) {
        throw new OAuthError({
          status: 403,
          code: 'insufficient_scope',
          description: 'insufficient scope',
          reason: `missing scopes: ${missing.join(' ')}`,
          challenge: {
            resourceMetadata,
            scope: cfg.token.requiredScopes.join(' '),
            includeError: true,
          },
        });
      }

      const pv = req.headers.get('mcp-protocol-version');
      if (pv !== null && !PROTOCOL_VERSION.test(pv)) {
        throw badRequest(
          'invalid_request',
          'invalid MCP-Protocol-Version header',
          `bad protocol version ${pv}`,
        );
      }

      // Forward.
      const upstreamUrl = `${cfg.upstream.baseUrl}${url.pathname}${url.search}`;
      const abort = new AbortController();
      const body =
        req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await req.arrayBuffer());
      let up: UpstreamResponse;
      try {
        up = await upstream({
          url: upstreamUrl,
          method: req.method,
          headers: upstreamRequestHeaders(req.headers, {
            identity,
            identityPrefix: cfg.identityHeaderPrefix,
            publicOrigin: origin,
          }),
          body,
          signal: abort.signal,
          headersTimeoutMs: cfg.upstream.timeoutSeconds * 1000,
        });
      } catch (e) {
        if (isTimeout(e))
          throw new OAuthError({
            status: 504,
            code: 'gateway_timeout',
            description: 'upstream timed out',
            reason: String(e),
          });
        throw new OAuthError({
          status: 502,
          code: 'bad_gateway',
          description: 'upstream unavailable',
          reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
      }

      const headers = clientResponseHeaders(up.headers);
      for (const [k, v] of Object.entries(cors)) headers.set(k, v);
      const sse = isEventStream(headers.get('content-type'));
      if (sse) {
        headers.set('cache-control', 'no-cache, no-transform');
        headers.set('x-accel-buffering', 'no');
      }
      const maxMs = Math.min(cfg.stream.maxDurationSeconds * 1000, opts.budgetMs ?? Number.POSITIVE_INFINITY);
      const relay = sse
        ? new SseRelay(
            r.transport === 'sse'
              ? (data) => {
                  const next = rewriteEndpointUrl(data, upstreamUrl, cfg.upstream.baseUrl, origin);
                  if (next === undefined)
                    log.warn('dropped endpoint event pointing outside the upstream', access);
                  return next;
                }
              : undefined,
          )
        : undefined;
      const started2 = Date.now();
      const stream = relayBody(up, abort, {
        relay,
        heartbeatMs: sse ? cfg.stream.heartbeatSeconds * 1000 : 0,
        maxMs,
        onDone: (why) => log.info('stream closed', { ...access, why, ms: Date.now() - started2 }),
      });
      const nullBody = req.method === 'HEAD' || up.status === 204 || up.status === 304;
      if (nullBody) stream.cancel().catch(() => {});
      return finish(new Response(nullBody ? null : stream, { status: up.status, headers }), { sse });
    } catch (e) {
      const err = toOAuthError(e);
      const cors = r.kind === 'mcp' ? corsHeaders(cfg.cors, reqOrigin, origin) : {};
      if (err.status >= 500) log.error('request failed', { ...access, reason: err.reason ?? err.message });
      return finish(errorResponse(err, cors), { reason: err.reason ?? err.message });
    }
  };
}

export type CloseReason = 'upstream-end' | 'client-cancel' | 'max-duration' | 'upstream-error';

/**
 * Relay an upstream body as a Web stream, chunk by chunk, with backpressure (pull-based).
 * Bounded: after `maxMs` it ends cleanly and aborts the upstream; cancelling it (the client is
 * gone, or the host finished) aborts the upstream too. An upstream body that breaks errors the
 * stream (it is not ended as if complete). Idle SSE streams get heartbeats, only
 * between events.
 */
function relayBody(
  up: UpstreamResponse,
  abort: AbortController,
  opts: { relay?: SseRelay; heartbeatMs: number; maxMs: number; onDone: (why: CloseReason) => void },
): ReadableStream<Uint8Array> {
  const it = up.body[Symbol.asyncIterator]();
  let done = false;
  let lastWrite = Date.now();
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;

  const stop = (why: CloseReason, close: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    clearInterval(heartbeat);
    abort.abort();
    up.body.destroy();
    if (close) {
      try {
        ctrl.close();
      } catch {
        // already closed or errored
      }
    }
    opts.onDone(why);
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        ctrl = c;
        if (Number.isFinite(opts.maxMs)) {
          deadline = setTimeout(() => stop('max-duration', true), Math.max(0, opts.maxMs));
          deadline.unref?.();
        }
        if (opts.heartbeatMs > 0 && opts.relay) {
          const relay = opts.relay;
          heartbeat = setInterval(
            () => {
              if (!done && relay.atBoundary && Date.now() - lastWrite >= opts.heartbeatMs) {
                lastWrite = Date.now();
                c.enqueue(HEARTBEAT);
              }
            },
            Math.max(50, Math.floor(opts.heartbeatMs / 2)),
          );
          heartbeat.unref?.();
        }
      },
      async pull(c) {
        for (;;) {
          if (done) return;
          let next: IteratorResult<Uint8Array>;
          try {
            next = await it.next();
          } catch {
            if (!done) {
              // Upstream broke mid-body (reset, short Content-Length): error the stream, never
              // end it, so the host aborts the response and the client cannot take a truncated
              // body for a complete one. The cause stays in the log (`why`), not on the wire.
              stop('upstream-error', false);
              c.error(new Error('upstream response body failed'));
            }
            return;
          }
          if (done) return;
          let chunk: Uint8Array;
          try {
            if (next.done) {
              const rest = opts.relay?.flush();
              if (rest?.length) c.enqueue(rest);
              stop('upstream-end', true);
              return;
            }
            chunk = opts.relay ? opts.relay.feed(next.value) : next.value;
          } catch {
            // An SSE event over the framing bound (sse.ts): fail the stream, as for a broken body.
            stop('upstream-error', false);
            c.error(new Error('upstream SSE event too large'));
            return;
          }
          if (chunk.length) {
            lastWrite = Date.now();
            c.enqueue(chunk);
            return;
          }
        }
      },
      cancel() {
        stop('client-cancel', false);
      },
    },
    { highWaterMark: 0 },
  );
}
