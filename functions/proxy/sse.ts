/**
 * Pure SSE handling for the relay: tracks event boundaries (so heartbeats never split an event)
 * and, for the legacy HTTP+SSE transport, rewrites every `endpoint` event so the POST URL is on
 * the proxy's origin.
 *
 * Legacy streams are parsed exactly as a browser's EventSource parses them (WHATWG HTML,
 * "Interpreting an event stream"): lines end with CRLF, LF or CR in any mix; an empty line ends
 * an event; the last `event:` field names it; `data:` lines join with LF; a line without a colon
 * is a field with an empty value; `:` starts a comment. So no event syntax can make the client
 * see an `endpoint` event the proxy did not see (e.g. `event: message` then `event: endpoint`:
 * the last one wins; an event ended by LF CR LF). Every event is framed for the whole stream
 * (a later `endpoint` event is rewritten too), and one event may hold at most
 * `MAX_EVENT_CHARS`: a hostile upstream cannot grow the proxy's memory without bound.
 * Holding an event until its end adds no delay a client can see: EventSource dispatches an event
 * only at its end.
 */

const enc = new TextEncoder();

export const HEARTBEAT = enc.encode(': keepalive\n\n');

/** The most one legacy SSE event may hold while it is framed (characters). */
export const MAX_EVENT_CHARS = 1024 * 1024;

/** Rewrites the data of an `endpoint` event; returns the new URL or undefined to drop it. */
export type EndpointRewriter = (data: string) => string | undefined;

export class SseEventTooLarge extends Error {
  override readonly name = 'SseEventTooLarge';
}

interface PendingEvent {
  /** The event as received (lines and their terminators), re-emitted unchanged unless rewritten. */
  raw: string;
  type: string;
  data: string[];
  /** `id:` and `retry:` lines, kept on a rewritten endpoint event. */
  keep: string[];
}

const emptyEvent = (): PendingEvent => ({ raw: '', type: '', data: [], keep: [] });

export class SseRelay {
  private tail = '';
  private readonly framing: boolean;
  /** Decoded text not yet split into lines. */
  private text = '';
  private event = emptyEvent();
  private readonly decoder = new TextDecoder();
  /** True when everything emitted so far ends at an event boundary. */
  atBoundary = true;

  constructor(
    private readonly rewrite?: EndpointRewriter,
    private readonly maxEventChars = MAX_EVENT_CHARS,
  ) {
    this.framing = rewrite !== undefined;
  }

  /** Feed an upstream chunk; returns the bytes to send now (possibly empty). */
  feed(chunk: Uint8Array): Uint8Array {
    if (!this.framing) {
      this.track(chunk);
      return chunk;
    }
    this.text += this.decoder.decode(chunk, { stream: true });
    return this.emit(this.lines(false));
  }

  /** Bytes still held at upstream end: an unterminated final event is dropped, as EventSource drops it. */
  flush(): Uint8Array {
    if (!this.framing) return new Uint8Array(0);
    this.text += this.decoder.decode();
    const out = this.lines(true);
    this.event = emptyEvent();
    return this.emit(out);
  }

  private emit(out: string): Uint8Array {
    const bytes = enc.encode(out);
    if (bytes.length) this.track(bytes);
    return bytes;
  }

  /** Consume complete lines of `text`; returns the text of every event they completed. */
  private lines(atEnd: boolean): string {
    let out = '';
    let i = 0;
    for (;;) {
      const cr = this.text.indexOf('\r', i);
      const lf = this.text.indexOf('\n', i);
      const at = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (at === -1) break;
      // A CR at the end of the text may be the first half of CRLF: wait for more (unless at end).
      if (at === cr && at === this.text.length - 1 && !atEnd) break;
      const width = at === cr && this.text[at + 1] === '\n' ? 2 : 1;
      out += this.line(this.text.slice(i, at), this.text.slice(at, at + width));
      i = at + width;
    }
    this.text = this.text.slice(i);
    if (this.event.raw.length + this.text.length > this.maxEventChars) {
      throw new SseEventTooLarge(`an SSE event exceeds ${this.maxEventChars} characters`);
    }
    return out;
  }

  /** One line of the stream (WHATWG field parsing); returns an event's text when the line ends it. */
  private line(line: string, terminator: string): string {
    const ev = this.event;
    ev.raw += line + terminator;
    if (line === '') {
      this.event = emptyEvent();
      return this.dispatch(ev);
    }
    if (line.startsWith(':')) return '';
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') ev.type = value;
    else if (field === 'data') ev.data.push(value);
    else if (field === 'id' || field === 'retry') ev.keep.push(line);
    return '';
  }

  private dispatch(ev: PendingEvent): string {
    if (ev.type !== 'endpoint') return ev.raw;
    const next = this.rewrite!(ev.data.join('\n'));
    // A rewritten value is one line, or nothing: never a line break that would start new fields.
    if (next === undefined || /[\r\n]/.test(next)) return '';
    return `${ev.keep.map((l) => `${l}\n`).join('')}event: endpoint\ndata: ${next}\n\n`;
  }

  private track(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const s = this.tail + Buffer.from(bytes.subarray(Math.max(0, bytes.length - 4))).toString('latin1');
    this.tail = s.slice(-4);
    // An event ends at an empty line: two line terminators in a row (CRLF counts as one).
    this.atBoundary = /(?:\n\n|[\r\n]\r\n|[\r\n]\r)$/.test(this.tail);
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
