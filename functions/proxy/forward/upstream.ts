/**
 * The upstream edge: one keep-alive undici Agent per process (module scope), no response
 * decompression (bytes pass through as sent), no body timeout (streams are bounded by their
 * maximum duration instead, stream.ts). Only the undici modules it uses are imported (the
 * dispatcher, the `request` API, the errors): the package index would also load fetch,
 * WebSocket, the cache and the mocks into every cold start (docs/performance.md).
 */

import request from 'undici/lib/api/api-request.js';
import errors from 'undici/lib/core/errors.js';
import Agent from 'undici/lib/dispatcher/agent.js';

export interface UpstreamRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
  readonly signal: AbortSignal;
  readonly headersTimeoutMs: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: AsyncIterable<Uint8Array> & { destroy(err?: Error): void };
}

export type UpstreamFetch = (req: UpstreamRequest) => Promise<UpstreamResponse>;

let agent: InstanceType<typeof Agent> | undefined;
function sharedAgent(): InstanceType<typeof Agent> {
  // One Lambda instance serves one request at a time; the bound matters to the local runner,
  // where each open stream holds a connection: the 65th stream used to wait for ever.
  agent ??= new Agent({ keepAliveTimeout: 10_000, connections: 256, bodyTimeout: 0 });
  return agent;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

function isStaleSocket(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return (
    e instanceof errors.SocketError || code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET'
  );
}

export const undiciUpstream: UpstreamFetch = async (req) => {
  const url = new URL(req.url);
  const attempt = () =>
    request.call(sharedAgent(), {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method as 'GET',
      headers: req.headers,
      body: req.body?.length ? Buffer.from(req.body) : undefined,
      signal: req.signal,
      headersTimeout: req.headersTimeoutMs,
      bodyTimeout: 0,
    });
  let res: Awaited<ReturnType<typeof attempt>>;
  try {
    res = await attempt();
  } catch (e) {
    // A pooled socket may have been reset while the Lambda sandbox was frozen: retry once.
    if (!IDEMPOTENT.has(req.method) || !isStaleSocket(e) || req.signal.aborted) throw e;
    res = await attempt();
  }
  return { status: res.statusCode, headers: res.headers, body: res.body };
};

export function isTimeout(e: unknown): boolean {
  return e instanceof errors.HeadersTimeoutError || e instanceof errors.ConnectTimeoutError;
}
