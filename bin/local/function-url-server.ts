/**
 * Local emulation of Lambda Function URLs: a `node:http` server that turns each request into a
 * payload-format-2.0 event, invokes the hosted handler the way the Lambda runtime does
 * (buffered, or streamed through `awslambda.streamifyResponse` with the metadata prelude), and
 * maps the result back to HTTP. Faithful where it matters for our code:
 * - lower-cased headers, repeated values joined with commas, `cookies` split out of `Cookie`;
 * - base64 bodies for non-text content types; 6 MB request limit (413);
 * - status/headers only from the prelude before the first write; `end()` without any write
 *   gives 200 with no headers, as the real runtime does;
 * - a request is routed only for this server's own host names (`localhost`, `127.0.0.1`, `[::1]`
 *   with its port, plus `publicHosts`), as a Function URL is reached only at its own domain: the
 *   hosted function learns its origin from the Host (`requestContext.domainName`), so another
 *   Host could choose the audience it accepts, and this is also the DNS-rebinding defence (421);
 * - the handler is told when the client disconnects (the local runner must not pile up abandoned
 *   streams); `propagateDisconnect: false` hides it as Lambda does, for tests of the stream bounds.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import {
  DELIMITER,
  handlerStream,
  installAwsLambdaGlobal,
  PRELUDE_CONTENT_TYPE,
  RuntimeResponseStream,
  STREAMING,
} from './awslambda.ts';

installAwsLambdaGlobal();

// biome-ignore lint/suspicious/noExplicitAny: handlers of both shapes are hosted
export type AnyHandler = (...args: any[]) => unknown;

export interface HostedFunction {
  readonly name: string;
  readonly handler: AnyHandler;
  /** Function timeout (ms). @default 900000 */
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
}

export interface FunctionUrlServerOptions {
  /** One function, or a router choosing one per path (single-origin, CloudFront-like). */
  readonly fn: HostedFunction | ((path: string) => HostedFunction | undefined);
  readonly port?: number;
  readonly host?: string;
  /**
   * Destroy the response stream when the client goes away. @default true; `false` is what Lambda
   * does (it cannot see the client leave), for tests of the stream bounds.
   */
  readonly propagateDisconnect?: boolean;
  /** Host header values (host[:port]) accepted besides the loopback names with this port. */
  readonly publicHosts?: readonly string[];
  /**
   * Headers added to every request, replacing a client's copy: what a CloudFront origin custom
   * header does (the origin secret, origin-secret.ts), for the single-origin emulation.
   */
  readonly originHeaders?: Readonly<Record<string, string>>;
  readonly onLog?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const TEXT = /^(text\/|application\/(json|[^;]*\+json|javascript|xml|[^;]*\+xml|x-www-form-urlencoded))/i;

export function buildEvent(
  req: http.IncomingMessage,
  body: Buffer,
  requestId: string,
  originHeaders: Readonly<Record<string, string>> = {},
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!.toLowerCase();
    const v = req.rawHeaders[i + 1]!;
    if (k === 'cookie') {
      cookies = [...(cookies ?? []), ...v.split(/;\s*/).filter(Boolean)];
      continue;
    }
    headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  }
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(req.socket.localPort);
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
  for (const [k, v] of Object.entries(originHeaders)) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const host = headers.host ?? `localhost:${req.socket.localPort}`;
  const now = new Date();
  const textual = TEXT.test(headers['content-type'] ?? '');
  const rawQuery = (req.url ?? '').includes('?')
    ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1)
    : '';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: rawQuery,
    cookies,
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0]!.split(':')[0]!,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
  };
}

function makeContext(fn: HostedFunction, requestId: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb ?? 512),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
  res.end(JSON.stringify(body));
}

async function invokeBuffered(
  fn: HostedFunction,
  event: APIGatewayProxyEventV2,
  context: Context,
  res: http.ServerResponse,
): Promise<void> {
  const result = (await fn.handler(event, context)) as APIGatewayProxyStructuredResultV2 | string | undefined;
  const requestId = context.awsRequestId;
  if (
    typeof result === 'string' ||
    result === undefined ||
    typeof result !== 'object' ||
    !('statusCode' in result)
  ) {
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
    res.end(typeof result === 'string' ? result : JSON.stringify(result ?? null));
    return;
  }
  const headers: Record<string, string | string[]> = { 'x-amzn-requestid': requestId };
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length > MAX_REQUEST_BYTES) {
    sendJson(res, 502, { message: 'Internal Server Error' }, requestId);
    return;
  }
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

// Long because it is the runtime's streaming contract in one place: prelude, first write, the
// 8 NULs, backpressure, disconnects and the "not finished" case, in the order they happen.
async function invokeStreaming(
  fn: HostedFunction,
  event: APIGatewayProxyEventV2,
  context: Context,
  res: http.ServerResponse,
  propagateDisconnect: boolean,
  onLog?: (line: string) => void,
): Promise<void> {
  const requestId = context.awsRequestId;
  let head: Buffer | undefined = Buffer.alloc(0);
  let clientGone = false;
  const writeHead = (status: number, headers: Record<string, string | string[]>) => {
    if (res.headersSent) return;
    res.writeHead(status, { ...headers, 'x-amzn-requestid': requestId });
    res.flushHeaders(); // the front end answers as soon as the prelude is complete
  };
  const sink = (chunk: Buffer) => {
    if (clientGone) return; // bytes written after the client left go nowhere
    if (head === undefined) {
      res.write(chunk);
      return;
    }
    if (stream.contentType !== PRELUDE_CONTENT_TYPE) {
      head = undefined;
      writeHead(200, { 'content-type': stream.contentType });
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const at = head.indexOf(DELIMITER);
    if (at < 0) return;
    const prelude = JSON.parse(head.subarray(0, at).toString('utf8')) as {
      statusCode?: number;
      headers?: Record<string, string>;
      cookies?: string[];
    };
    const rest = head.subarray(at + DELIMITER.length);
    head = undefined;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(prelude.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (prelude.cookies?.length) headers['set-cookie'] = prelude.cookies;
    writeHead(prelude.statusCode ?? 200, headers);
    if (rest.length) res.write(rest);
  };
  const onEnd = () => {
    if (!clientGone) {
      if (!res.headersSent) writeHead(200, {});
      res.end();
    }
  };
  const stream = new RuntimeResponseStream(sink, onEnd);
  res.on('close', () => {
    if (!res.writableEnded) {
      clientGone = true;
      if (propagateDisconnect) stream.destroy();
    }
  });
  await fn.handler(event, handlerStream(stream), context);
  if (!stream.writableFinished && !stream.destroyed) {
    // The runtime reports "Response stream is not finished"; the client sees a cut response.
    onLog?.(`[${fn.name}] handler resolved before its response stream finished`);
    await new Promise<void>((resolve) => {
      stream.once('finish', resolve);
      stream.once('close', resolve);
    });
  }
}

/** Whether `host` (the Host header) names this server: a loopback name with its port, or a public host. */
export function hostAllowed(
  host: string | undefined,
  port: number | undefined,
  publicHosts: readonly string[],
): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  if (publicHosts.some((p) => p.toLowerCase() === h)) return true;
  return ['localhost', '127.0.0.1', '[::1]'].some((name) => h === `${name}:${port}`);
}

// Long because it is the Function URL front door in order: host check, routing, body limit,
// timeout, invocation and its failure, as one request handler.
export function startFunctionUrlServer(opts: FunctionUrlServerOptions): Promise<RunningServer> {
  const server = http.createServer(async (req, res) => {
    const requestId = randomUUID();
    const hosts = req.rawHeaders.filter(
      (_v, i) => i % 2 === 0 && req.rawHeaders[i]!.toLowerCase() === 'host',
    );
    if (hosts.length > 1) {
      sendJson(res, 400, { message: 'Bad Request' }, requestId); // RFC 9112 §3.2: exactly one Host
      return;
    }
    if (!hostAllowed(req.headers.host, req.socket.localPort, opts.publicHosts ?? [])) {
      sendJson(res, 421, { message: 'Misdirected Request' }, requestId);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const fn = typeof opts.fn === 'function' ? opts.fn(path) : opts.fn;
    if (!fn) {
      sendJson(res, 404, { message: 'Not Found' }, requestId);
      return;
    }
    const body = await readBody(req);
    if (body === 'too-large') {
      sendJson(
        res,
        413,
        {
          message: `Request must be smaller than ${MAX_REQUEST_BYTES + 1} bytes for the InvokeFunction operation`,
        },
        requestId,
      );
      return;
    }
    const timeoutMs = fn.timeoutMs ?? 900_000;
    const deadline = Date.now() + timeoutMs;
    const event = buildEvent(req, body, requestId, opts.originHeaders);
    const context = makeContext(fn, requestId, deadline);
    const timer = setTimeout(() => {
      opts.onLog?.(`[${fn.name}] Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
      if (!res.headersSent) sendJson(res, 502, { message: 'Internal Server Error' }, requestId);
      else res.destroy();
    }, timeoutMs);
    try {
      if ((fn.handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response') {
        await invokeStreaming(fn, event, context, res, opts.propagateDisconnect ?? true, opts.onLog);
      } else {
        await invokeBuffered(fn, event, context, res);
      }
    } catch (e) {
      opts.onLog?.(`[${fn.name}] invocation failed: ${e instanceof Error ? e.stack : String(e)}`);
      sendJson(res, 502, { message: 'Internal Server Error' }, requestId);
    } finally {
      clearTimeout(timer);
    }
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const host =
        opts.host && opts.host !== '0.0.0.0' && opts.host !== '127.0.0.1' ? opts.host : 'localhost';
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
