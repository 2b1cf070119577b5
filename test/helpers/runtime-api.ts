/**
 * A small Lambda Runtime API on loopback, for running handlers under AWS's own runtime interface
 * client (`aws-lambda-ric`) as Lambda does: the client long-polls `GET
 * /2018-06-01/runtime/invocation/next`, then answers with `POST …/<id>/response` (buffered JSON, or
 * `Lambda-Runtime-Function-Response-Mode: streaming`: chunked, with the error trailers
 * `Lambda-Runtime-Function-Error-Type`/`-Body`), `POST …/<id>/error` or, when the handler cannot be
 * loaded, `POST /2018-06-01/runtime/init/error`. Each invocation is recorded as it arrives: every
 * body chunk with its arrival time, so a test can tell streamed bytes from buffered ones.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Context } from 'aws-lambda';
import {
  handlerStream,
  installAwsLambdaGlobal,
  RuntimeResponseStream,
  STREAMING,
} from '../../bin/local/awslambda.ts';
import { serve } from './net.ts';

/** One received body chunk and when it arrived (`performance.now()`). */
export interface Chunk {
  readonly at: number;
  readonly data: Buffer;
}

/** What the runtime client sent back for one invocation. */
export interface RuntimeRecording {
  /** `streaming`, `buffered` (a JSON result) or `error` (POST …/error). */
  mode: 'streaming' | 'buffered' | 'error';
  /** The response's Content-Type (streaming: the prelude type when HttpResponseStream.from was used). */
  contentType?: string;
  readonly chunks: Chunk[];
  /** Streaming: the two error trailers, when the handler failed mid-stream. */
  error?: { readonly type: string; readonly body: { errorType?: string; errorMessage?: string } };
  /** Buffered: the handler's result (parsed JSON). */
  result?: unknown;
}

export interface RuntimeApi {
  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  readonly address: string;
  /** Queue an event; resolves with the recording once the response (or error) is complete. */
  invoke(
    event: unknown,
    opts?: { readonly timeoutMs?: number; readonly requestId?: string },
  ): Promise<RuntimeRecording>;
  /** The live recording of the invocation in progress (chunks appear as they arrive). */
  current(): RuntimeRecording | undefined;
  /** The init error the client reported, if any. */
  initError(): unknown;
  close(): Promise<void>;
}

interface Pending {
  readonly id: string;
  readonly event: unknown;
  readonly deadline: number;
  readonly recording: RuntimeRecording;
  readonly done: (r: RuntimeRecording) => void;
}

const PREFIX = '/2018-06-01/runtime';

async function readAll(req: http.IncomingMessage, chunks: Chunk[]): Promise<Buffer> {
  for await (const c of req) chunks.push({ at: performance.now(), data: c as Buffer });
  return Buffer.concat(chunks.map((c) => c.data));
}

function decodeErrorBody(b64: string | undefined): { errorType?: string; errorMessage?: string } {
  try {
    return JSON.parse(Buffer.from(b64 ?? '', 'base64').toString('utf8'));
  } catch {
    return {};
  }
}

export async function startRuntimeApi(): Promise<RuntimeApi> {
  const queue: Pending[] = [];
  const waiting: ((p: Pending) => void)[] = [];
  const open = new Map<string, Pending>();
  let inProgress: Pending | undefined;
  let initError: unknown;

  const nextInvocation = (res: http.ServerResponse) => {
    const send = (p: Pending) => {
      inProgress = p;
      open.set(p.id, p);
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': p.id,
        'lambda-runtime-deadline-ms': String(p.deadline),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:eu-west-1:123456789012:function:under-ric',
        'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      });
      res.end(JSON.stringify(p.event));
    };
    const p = queue.shift();
    if (p) send(p);
    else waiting.push(send);
  };

  const respond = async (req: http.IncomingMessage, res: http.ServerResponse, p: Pending, kind: string) => {
    const r = p.recording;
    const body = await readAll(req, r.chunks);
    if (kind === 'error') {
      r.mode = 'error';
      r.error = {
        type: String(req.headers['lambda-runtime-function-error-type']),
        body: JSON.parse(`${body}`),
      };
    } else if (req.headers['lambda-runtime-function-response-mode'] === 'streaming') {
      r.mode = 'streaming';
      r.contentType = req.headers['content-type'];
      const type = req.trailers['lambda-runtime-function-error-type'];
      if (type) r.error = { type, body: decodeErrorBody(req.trailers['lambda-runtime-function-error-body']) };
    } else {
      r.mode = 'buffered';
      r.contentType = req.headers['content-type'];
      r.result = JSON.parse(`${body}`);
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
    open.delete(p.id);
    if (inProgress === p) inProgress = undefined;
    p.done(r);
  };

  const server = await serve(async (req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) return nextInvocation(res);
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
      initError = JSON.parse(`${await readAll(req, [])}`);
      res.writeHead(202).end();
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    const p = m && open.get(decodeURIComponent(m[1]!));
    if (req.method !== 'POST' || !m || !p) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errorType":"InvalidRequestID"}');
      return;
    }
    await respond(req, res, p, m[2]!);
  });

  return {
    address: `127.0.0.1:${server.port}`,
    invoke(event, opts = {}) {
      return new Promise((resolve) => {
        const p: Pending = {
          id: opts.requestId ?? randomUUID(),
          event,
          deadline: Date.now() + (opts.timeoutMs ?? 30_000),
          recording: { mode: 'streaming', chunks: [] },
          done: resolve,
        };
        const w = waiting.shift();
        if (w) w(p);
        else queue.push(p);
      });
    },
    current: () => inProgress?.recording,
    initError: () => initError,
    close: server.close,
  };
}

/** The Lambda context our emulation hands a handler (bundles.test.ts and the local runner alike). */
export function emulatedContext(requestId: string, name: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'emulated',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const errorOf = (e: unknown): RuntimeRecording['error'] => {
  const err = e instanceof Error ? e : new Error(String(e));
  return { type: err.name, body: { errorType: err.name, errorMessage: err.message } };
};

/**
 * The same invocation under our emulation (bin/local/awslambda.ts, in this process), recorded in
 * the same shape: what the runtime would have sent to the Runtime API.
 */
export async function invokeEmulated(
  // biome-ignore lint/suspicious/noExplicitAny: handlers of both shapes
  handler: (...args: any[]) => Promise<unknown>,
  event: unknown,
  context: Context,
): Promise<RuntimeRecording> {
  installAwsLambdaGlobal();
  const streaming = (handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response';
  const rec: RuntimeRecording = { mode: streaming ? 'streaming' : 'buffered', chunks: [] };
  if (!streaming) {
    try {
      rec.result = JSON.parse(JSON.stringify((await handler(event, context)) ?? null));
    } catch (e) {
      rec.mode = 'error';
      rec.error = errorOf(e);
    }
    return rec;
  }
  let ended!: () => void;
  const done = new Promise<void>((r) => {
    ended = r;
  });
  const stream = new RuntimeResponseStream(
    (data) => rec.chunks.push({ at: performance.now(), data }),
    () => ended(),
  );
  try {
    await handler(event, handlerStream(stream), context);
    await done;
  } catch (e) {
    rec.error = errorOf(e);
  }
  rec.contentType = stream.contentType;
  return rec;
}
