/**
 * Thin adapters between Lambda Function URL events (payload format 2.0) and the runtime-neutral
 * cores, which speak Web `Request`/`Response`. Used by both functions' `index.ts`.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { errorResponse, methodNotAllowed } from './errors.ts';
import { isLoopbackAuthority } from './http-bits.ts';
import { ORIGIN_SECRET_HEADER } from './origin-secret.ts';

/**
 * The public origin of this function: configured, else the Function URL host of the event
 * (plain http only on loopback, where the local runner serves; Lambda itself is always https).
 */
export function originOf(event: APIGatewayProxyEventV2, configured?: string): string {
  if (configured) return configured;
  const host = event.requestContext.domainName;
  return `${isLoopbackAuthority(host) ? 'http' : 'https'}://${host}`;
}

/** Methods a Web `Request` cannot carry (Fetch: forbidden methods) or that are not HTTP tokens. */
const UNREPRESENTABLE = /^(CONNECT|TRACE|TRACK)$|[^!#$%&'*+.^_`|~0-9A-Z-]/;

/**
 * Header carrying the caller's address as Lambda saw it (`requestContext.http.sourceIp`) to the
 * core, always overwritten, so a client cannot choose it: the discovery function limits
 * registrations by it, the proxy sends it upstream as `X-Forwarded-For` (headers.ts). Behind
 * CloudFront it is the address of the CloudFront edge.
 */
export const SOURCE_IP_HEADER = 'x-mcp-auth-source-ip';

/** The address Lambda saw the request come from (set by `eventToRequest`; a client cannot), if known. */
export function sourceIpOf(req: Request): string | undefined {
  const v = req.headers.get(SOURCE_IP_HEADER);
  return v && v !== 'unknown' ? v : undefined;
}

/**
 * The Web `Request` of an event; for a method no endpoint can serve and a `Request` cannot even
 * carry (TRACE, CONNECT, …), the 405 answer instead — never a crash (a 5xx for the client's
 * request shape).
 */
export function eventToRequest(
  event: APIGatewayProxyEventV2,
  origin: string,
  signal?: AbortSignal,
  opts: { readonly sourceIp?: boolean } = {},
): Request | Response {
  const method = event.requestContext.http.method.toUpperCase();
  if (UNREPRESENTABLE.test(method))
    return errorResponse(methodNotAllowed('GET, HEAD, POST, DELETE, OPTIONS'));
  const qs = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const url = `${origin}${event.rawPath || '/'}${qs}`;
  const headers = new Headers();
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (v !== undefined) headers.set(k, v);
  }
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
  headers.delete(SOURCE_IP_HEADER);
  // Checked by the adapter before this (origin-secret.ts); no core and no upstream ever sees it.
  headers.delete(ORIGIN_SECRET_HEADER);
  if (opts.sourceIp) headers.set(SOURCE_IP_HEADER, event.requestContext.http.sourceIp ?? 'unknown');
  let body: Buffer | undefined;
  if (event.body !== undefined && event.body !== null && method !== 'GET' && method !== 'HEAD') {
    body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  }
  return new Request(url, { method, headers, body: body as unknown as BodyInit | undefined, signal });
}

/** Split a `Response`'s headers into the Function URL shape (Set-Cookie goes in `cookies`). */
export function responseMetadata(res: Response): {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'set-cookie') headers[k] = v;
  });
  return { statusCode: res.status, headers, cookies: res.headers.getSetCookie() };
}

const TEXTUAL = /^(text\/|application\/(json|.*\+json|javascript|xml|.*\+xml|x-www-form-urlencoded))/i;

/** Buffered (non-streaming) Function URL result, for the discovery function. */
export async function toBufferedResult(res: Response): Promise<APIGatewayProxyStructuredResultV2> {
  const { statusCode, headers, cookies } = responseMetadata(res);
  const buf = Buffer.from(await res.arrayBuffer());
  const textual = TEXTUAL.test(headers['content-type'] ?? 'text/plain');
  return {
    statusCode,
    headers,
    cookies: cookies.length ? cookies : undefined,
    body: textual ? buf.toString('utf8') : buf.toString('base64'),
    isBase64Encoded: !textual,
  };
}

export interface StreamOptions {
  /** Called once when the response is finished for any reason (ended, bounded, failed). */
  readonly onDone?: (why: 'end' | 'error' | 'stream-closed') => void;
}

/**
 * Write a `Response` to a Lambda response stream without buffering: the metadata prelude first
 * (an empty write makes the runtime emit it even for empty bodies), then each body chunk as it
 * arrives, honouring backpressure. Resolves when the stream is finished. If the body errors, the
 * stream is NOT ended: the error is rethrown so the handler rejects and the runtime fails the
 * response stream (error trailers), and the client sees an aborted response, not a complete one.
 */
export async function writeStreamingResponse(
  res: Response,
  responseStream: Writable,
  opts: StreamOptions = {},
): Promise<void> {
  const out = awslambda.HttpResponseStream.from(responseStream, responseMetadata(res)) as unknown as Writable;
  let why: 'end' | 'error' | 'stream-closed' = 'end';
  const reader = res.body?.getReader();
  let closed = false;
  let failure: unknown;
  const onClose = () => {
    closed = true;
    why = 'stream-closed';
    reader?.cancel().catch(() => {});
  };
  out.once('close', onClose);
  out.once('error', onClose);
  try {
    out.write('');
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || closed) break;
        if (!out.write(value)) {
          await new Promise<void>((resolve) => {
            const go = () => {
              out.off('drain', go);
              out.off('close', go);
              resolve();
            };
            out.on('drain', go);
            out.on('close', go);
          });
        }
      }
    }
  } catch (e) {
    if (closed) why = 'stream-closed';
    else {
      why = 'error';
      failure = e;
    }
  } finally {
    out.off('close', onClose);
    out.off('error', onClose);
    reader?.cancel().catch(() => {});
    if (!closed && why !== 'error') {
      await new Promise<void>((resolve) => {
        out.once('error', () => resolve());
        out.end(() => resolve());
      });
    }
    opts.onDone?.(why);
  }
  if (why === 'error') throw new Error('response body failed', { cause: failure });
}
