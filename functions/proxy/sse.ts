/**
 * Pure SSE handling for the response stream: tracks event boundaries (so heartbeats never split an event)
 * and, for the legacy HTTP+SSE transport, rewrites the `endpoint` event so the POST URL is on
 * the proxy's origin. No line-length limit: an event is held only while it may be `endpoint`.
 */

const enc = new TextEncoder();

export const HEARTBEAT = enc.encode(': keepalive\n\n');

/** Rewrites the data of an `endpoint` event; returns the new URL or undefined to drop it. */
export type EndpointRewriter = (data: string) => string | undefined;

export class SseStream {
  private tail = '';
  private framing: boolean;
  private pending = '';
  private readonly decoder = new TextDecoder();
  /** True when everything emitted so far ends at an event boundary. */
  atBoundary = true;

  constructor(private readonly rewrite?: EndpointRewriter) {
    this.framing = rewrite !== undefined;
  }

  /** Feed an upstream chunk; returns the bytes to send now (possibly empty). */
  feed(chunk: Uint8Array): Uint8Array {
    if (!this.framing) {
      this.track(chunk);
      return chunk;
    }
    this.pending += this.decoder.decode(chunk, { stream: true });
    let out = '';
    for (;;) {
      const m = /\r\n\r\n|\n\n|\r\r/.exec(this.pending);
      if (!m) break;
      const end = m.index + m[0].length;
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      out += this.rewriteEvent(event);
    }
    // Once the endpoint event has been seen, stop framing and pass bytes straight through.
    if (!this.framing && this.pending) {
      out += this.pending;
      this.pending = '';
    }
    const bytes = enc.encode(out);
    if (bytes.length) this.track(bytes);
    return bytes;
  }

  /** Bytes still held at upstream end (an unterminated final event). */
  flush(): Uint8Array {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return enc.encode(rest);
  }

  private rewriteEvent(event: string): string {
    const lines = event.split(/\r\n|\n|\r/);
    const name = lines
      .find((l) => l.startsWith('event:'))
      ?.slice(6)
      .trim();
    if (name !== 'endpoint' || !this.rewrite) return event;
    const data = lines
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    const next = this.rewrite(data);
    this.framing = false;
    if (next === undefined) return '';
    const id = lines.find((l) => l.startsWith('id:'));
    return `${id ? `${id}\n` : ''}event: endpoint\ndata: ${next}\n\n`;
  }

  private track(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const s = this.tail + Buffer.from(bytes.subarray(Math.max(0, bytes.length - 4))).toString('latin1');
    this.tail = s.slice(-4);
    this.atBoundary = /(\r\n\r\n|\n\n|\r\r)$/.test(this.tail);
  }
}

/**
 * Build the proxy-origin POST URL for an upstream `endpoint` value. Relative and absolute
 * values are resolved against the upstream SSE URL; the upstream base path is replaced by the
 * proxy's origin. Returns undefined when the URL leaves the upstream (never rewritten onward).
 */
export function rewriteEndpointUrl(
  data: string,
  upstreamSseUrl: string,
  upstreamBase: string,
  publicOrigin: string,
): string | undefined {
  let target: URL;
  try {
    target = new URL(data.trim(), upstreamSseUrl);
  } catch {
    return undefined;
  }
  const base = new URL(upstreamBase);
  if (target.origin !== base.origin) return undefined;
  const prefix = base.pathname.replace(/\/+$/, '');
  let path = target.pathname;
  if (prefix && path.startsWith(`${prefix}/`)) path = path.slice(prefix.length);
  return `${publicOrigin}${path}${target.search}`;
}
