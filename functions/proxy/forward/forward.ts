/**
 * Forward step: the request to the upstream, same path and query on `base_url`, with the header
 * policy of headers.ts (no client credentials, the identity headers added). The upstream's
 * failures are ours to report: 504 when it does not answer in time, else 502.
 */
import type { Config } from '../../shared/config/index.ts';
import type { Exchange } from '../../shared/endpoint.ts';
import { OAuthError } from '../../shared/errors.ts';
import { sourceIpOf } from '../../shared/function-url.ts';
import { upstreamRequestHeaders } from '../headers.ts';
import type { SessionBinding } from '../mcp/session-id.ts';
import type { Identity } from '../token.ts';
import { isTimeout, type UpstreamFetch, type UpstreamResponse } from './upstream.ts';

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
  opts: ForwardOptions = {},
): Promise<Forwarded> {
  const { req, url } = x;
  const upstreamUrl = `${cfg.upstream.baseUrl}${url.pathname}${opts.search ?? url.search}`;
  const abort = new AbortController();
  const body =
    req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await req.arrayBuffer());
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
      body,
      signal: abort.signal,
      headersTimeoutMs: cfg.upstream.timeoutSeconds * 1000,
    });
    return { up, abort, upstreamUrl, session: opts.session };
  } catch (e) {
    if (isTimeout(e)) {
      throw new OAuthError({
        status: 504,
        code: 'gateway_timeout',
        description: 'upstream timed out',
        reason: String(e),
      });
    }
    throw new OAuthError({
      status: 502,
      code: 'bad_gateway',
      description: 'upstream unavailable',
      reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    });
  }
}
