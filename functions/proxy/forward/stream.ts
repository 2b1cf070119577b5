/**
 * The upstream body as the client's response stream: a pull-based Web stream written chunk by
 * chunk, with backpressure. Bounded: after `maxMs` it ends cleanly and aborts the upstream;
 * cancelling it (the client is gone, or the host finished) aborts the upstream too. An upstream
 * body that breaks errors the stream (it is not ended as if complete). Idle SSE streams get
 * heartbeats, only between events.
 */
import { HEARTBEAT, type SseStream } from '../sse.ts';
import type { UpstreamResponse } from './upstream.ts';

export type CloseReason = 'upstream-end' | 'client-cancel' | 'max-duration' | 'upstream-error';

export interface StreamOptions {
  /** The SSE event tracker (heartbeats, the legacy `endpoint` rewrite); none for other bodies. */
  readonly events?: SseStream;
  /** Idle time before a heartbeat (0: none). */
  readonly heartbeatMs: number;
  readonly maxMs: number;
  /** Called once, however the stream ends. */
  readonly onDone: (why: CloseReason) => void;
}

export function streamBody(
  up: UpstreamResponse,
  abort: AbortController,
  opts: StreamOptions,
): ReadableStream<Uint8Array> {
  const body = new UpstreamBody(up, abort, opts);
  return new ReadableStream<Uint8Array>(
    {
      start: (c) => body.start(c),
      pull: (c) => body.pull(c),
      cancel: () => body.stop('client-cancel', false),
    },
    { highWaterMark: 0 },
  );
}

/** The state of one streamed body: where the upstream iterator is, its timers, whether it ended. */
class UpstreamBody {
  private readonly it: AsyncIterator<Uint8Array>;
  private done = false;
  private lastWrite = Date.now();
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private ctrl!: ReadableStreamDefaultController<Uint8Array>;

  constructor(
    private readonly up: UpstreamResponse,
    private readonly abort: AbortController,
    private readonly opts: StreamOptions,
  ) {
    this.it = up.body[Symbol.asyncIterator]();
  }

  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.ctrl = c;
    const { maxMs, heartbeatMs, events } = this.opts;
    if (Number.isFinite(maxMs)) {
      this.deadline = setTimeout(() => this.stop('max-duration', true), Math.max(0, maxMs));
      this.deadline.unref?.();
    }
    if (heartbeatMs > 0 && events) {
      this.heartbeat = setInterval(
        () => {
          if (!this.done && events.atBoundary && Date.now() - this.lastWrite >= heartbeatMs) {
            this.lastWrite = Date.now();
            c.enqueue(HEARTBEAT);
          }
        },
        Math.max(50, Math.floor(heartbeatMs / 2)),
      );
      this.heartbeat.unref?.();
    }
  }

  /** The next non-empty chunk (the SSE tracker may hold bytes back), the end, or an error. */
  async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const events = this.opts.events;
    for (;;) {
      if (this.done) return;
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.it.next();
      } catch {
        if (!this.done) {
          // Upstream broke mid-body (reset, short Content-Length): error the stream, never
          // end it, so the host aborts the response and the client cannot take a truncated
          // body for a complete one. The cause stays in the log (`why`), not on the wire.
          this.stop('upstream-error', false);
          c.error(new Error('upstream response body failed'));
        }
        return;
      }
      if (this.done) return;
      let chunk: Uint8Array;
      try {
        if (next.done) {
          const rest = events?.flush();
          if (rest?.length) c.enqueue(rest);
          this.stop('upstream-end', true);
          return;
        }
        chunk = events ? events.feed(next.value) : next.value;
      } catch {
        // An SSE event over the framing bound (sse.ts): fail the stream, as for a broken body.
        this.stop('upstream-error', false);
        c.error(new Error('upstream SSE event too large'));
        return;
      }
      if (chunk.length) {
        this.lastWrite = Date.now();
        c.enqueue(chunk);
        return;
      }
    }
  }

  stop(why: CloseReason, close: boolean): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.deadline);
    clearInterval(this.heartbeat);
    // A body read to its end has nothing left to abort; aborting anyway costs a DOMException
    // (with its stack) and an abort event per request (docs/performance.md).
    if (why !== 'upstream-end') this.abort.abort();
    this.up.body.destroy();
    if (close) {
      try {
        this.ctrl.close();
      } catch {
        // already closed or errored
      }
    }
    this.opts.onDone(why);
  }
}
