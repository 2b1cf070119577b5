/**
 * Forward step: the request to the upstream, same path and query on `base_url`, with the header
 * policy of headers.ts (no client credentials, the identity headers added). The upstream's
 * failures are ours to report: 504 when it does not answer in time, else 502.
 */
import type { Config } from '../../shared/config/index.ts';
import type { Exchange } from '../../shared/endpoint.ts';
import { sourceIpOf } from '../../shared/function-url.ts';
import { upstreamRequestHeaders } from '../headers.ts';
import type { McpBody } from '../mcp/body.ts';
import type { SessionBinding } from '../mcp/session-id.ts';
import type { Identity } from '../token.ts';
import type { UpstreamFetch, UpstreamResponse } from './upstream.ts';
import { requestIdOf, upstreamError } from './upstream-error.ts';

export interface Forwarded {
  readonly up: UpstreamResponse;
  /** Aborts the upstream request (the stream does when it ends early). */
  readonly abort: AbortController;
  readonly upstreamUrl: string;
  /** The request's session binding, for the response step (mcp/session-id.ts). */
  readonly session?: SessionBinding;
}

/** What upstream-binding.ts changes in the forwarded request. */
export interface ForwardOptions {
  /** The query string sent upstream. @default the request's */
  readonly search?: string;
  /** A last change to the upstream request headers (after the header policy). */
  readonly headers?: (h: Record<string, string>) => void;
  readonly session?: SessionBinding;
}

/** The adapter writes `unknown` when Lambda gave no address (the local runner always gives one). */

export async function forward(
  cfg: Config,
  upstream: UpstreamFetch,
  x: Exchange<unknown>,
  identity: Identity,
  /** The body step's POST body (mcp/body.ts): its bytes are sent, nothing else ever is. */
  body?: McpBody,
  opts: ForwardOptions = {},
): Promise<Forwarded> {
  const { req, url } = x;
  const upstreamUrl = `${cfg.upstream.baseUrl}${url.pathname}${opts.search ?? url.search}`;
  const abort = new AbortController();
  try {
    const headers = upstreamRequestHeaders(req.headers, {
      identity,
      identityPrefix: cfg.identityHeaderPrefix,
      publicOrigin: url.origin,
      sourceIp: sourceIpOf(req),
    });
    opts.headers?.(headers);
    const up = await upstream({
      url: upstreamUrl,
      method: req.method,
      headers,
      body: body?.bytes,
      signal: abort.signal,
      headersTimeoutMs: cfg.upstream.timeoutSeconds * 1000,
    });
    return { up, abort, upstreamUrl, session: opts.session };
  } catch (e) {
    // 502/504 with a JSON-RPC error body carrying the request's id (upstream-error.ts).
    throw upstreamError(e, requestIdOf(body?.parsed));
  }
}
