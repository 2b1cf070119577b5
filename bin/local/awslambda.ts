/**
 * A faithful stand-in for the `awslambda` global of the Lambda Node.js runtime, so handlers run
 * unchanged in the local runner and tests:
 * - `streamifyResponse(fn)` marks the handler as streaming (as the runtime does) and returns it;
 * - `HttpResponseStream.from(stream, metadata)` sets the http-integration content type and, on
 *   the first write, emits the JSON metadata prelude followed by 8 NUL bytes. Status and
 *   headers therefore cannot change after the first write.
 * The Function URL side (function-url-server.ts) parses that prelude exactly as AWS does.
 */
import { Writable } from 'node:stream';

export const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
export const DELIMITER = Buffer.alloc(8);

/** The runtime's response stream: a Writable whose bytes go to the Function URL front end. */
export class RuntimeResponseStream extends Writable {
  contentType = 'application/octet-stream';
  /** Set by HttpResponseStream.from; called with a raw writer before the first write. */
  _onBeforeFirstWrite?: (write: (chunk: Uint8Array | string) => void) => void;
  private first = true;

  constructor(
    private readonly sink: (chunk: Buffer) => void,
    private readonly onEnd: () => void,
  ) {
    super({ decodeStrings: true });
  }

  setContentType(ct: string): void {
    this.contentType = ct;
  }

  override write(chunk: unknown, enc?: unknown, cb?: unknown): boolean {
    if (this.first) {
      this.first = false;
      this._onBeforeFirstWrite?.((c) => this.sink(Buffer.from(c as Uint8Array)));
    }
    return super.write(chunk as Buffer, enc as BufferEncoding, cb as (e?: Error | null) => void);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (chunk.length) this.sink(chunk);
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.onEnd();
    cb();
  }

  /** True once anything (prelude included) has been written. */
  get started(): boolean {
    return !this.first;
  }
}

/**
 * What the runtime hands a streaming handler is not a `Writable` but an object with only these
 * members of its request stream (methods bound to it, the properties read through): no `pipe`, no
 * `_writableState`, no Writable prototype. Code that works here therefore uses nothing Lambda
 * lacks. The lists are what aws-lambda-ric 4 exposes (test/cdk/runtime-client.test.ts compares).
 */
const HANDLER_METHODS = [
  'addListener',
  'cork',
  'destroy',
  'emit',
  'end',
  'eventNames',
  'getMaxListeners',
  'listenerCount',
  'listeners',
  'off',
  'on',
  'once',
  'prependListener',
  'prependOnceListener',
  'rawListeners',
  'removeAllListeners',
  'removeListener',
  'setContentType',
  'setMaxListeners',
  'uncork',
  'write',
] as const;
const HANDLER_SETTABLE = ['destroyed', '_onBeforeFirstWrite'] as const;
const HANDLER_READABLE = [
  'writable',
  'writableCorked',
  'writableEnded',
  'writableFinished',
  'writableHighWaterMark',
  'writableLength',
  'writableNeedDrain',
  'writableObjectMode',
] as const;

/** The response stream as a streaming handler receives it (see HANDLER_METHODS). */
export function handlerStream(inner: RuntimeResponseStream): awslambda.HttpResponseStream {
  const view: Record<string, unknown> = {};
  const src = inner as unknown as Record<string, unknown>;
  for (const m of HANDLER_METHODS) view[m] = (src[m] as (...a: unknown[]) => unknown).bind(inner);
  for (const p of HANDLER_SETTABLE) {
    Object.defineProperty(view, p, {
      get: () => src[p],
      set: (v) => {
        src[p] = v;
      },
    });
  }
  for (const p of HANDLER_READABLE) Object.defineProperty(view, p, { get: () => src[p] });
  return view as unknown as awslambda.HttpResponseStream;
}

/** The part of a response stream `HttpResponseStream.from` uses. */
interface PreludeTarget {
  setContentType(ct: string): void;
  _onBeforeFirstWrite?: (write: (chunk: Uint8Array | string) => void) => void;
}

// biome-ignore lint/complexity/noStaticOnlyClass: mirrors the runtime's `awslambda.HttpResponseStream` class
class HttpResponseStream {
  static from<T extends PreludeTarget>(underlying: T, prelude: Record<string, unknown>): T {
    underlying.setContentType(PRELUDE_CONTENT_TYPE);
    // The runtime refuses NUL bytes inside the prelude: JSON.stringify never produces them.
    const json = JSON.stringify(prelude);
    underlying._onBeforeFirstWrite = (write) => {
      write(Buffer.from(json));
      write(DELIMITER);
    };
    return underlying;
  }
}

export function installAwsLambdaGlobal(): void {
  const g = globalThis as unknown as { awslambda?: unknown };
  if (g.awslambda) return;
  g.awslambda = {
    streamifyResponse<T extends object>(fn: T): T {
      (fn as Record<symbol, unknown>)[STREAMING] = 'response';
      return fn;
    },
    HttpResponseStream,
  };
}
