/**
 * Pure SSE handling for the response stream: tracks event boundaries (so heartbeats never split an event),
 * for the legacy HTTP+SSE transport rewrites every `endpoint` event so the POST URL is on
 * the proxy's origin, and hands each message event's data to an optional transform (the listing
 * filter); an event neither changes is re-emitted exactly as received.
 *
 * Framed streams (legacy, or any stream with a transform) are parsed exactly as a browser's
 * EventSource parses them (WHATWG HTML, "Interpreting an event stream"): lines end with CRLF, LF or CR in any mix; an empty line ends
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

/**
 * Transforms the data of a message event (no `event:` name, or `message`): returns the new data,
 * or undefined to pass the event on exactly as received (the listing filter, mcp/listing.ts).
 */
export type MessageTransform = (data: string) => string | undefined;

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

export class SseStream {
  private tail = '';
  private readonly framing: boolean;
  /** The pieces of the current, unterminated line. */
  private partial: string[] = [];
  private partialLength = 0;
  /** The last piece ended with CR (an LF next completes a CRLF). */
  private afterCr = false;
  private event = emptyEvent();
  private started = false;
  private readonly decoder = new TextDecoder();
  /** True when everything emitted so far ends at an event boundary. */
  atBoundary = true;

  constructor(
    private readonly rewrite?: EndpointRewriter,
    private readonly maxEventChars = MAX_EVENT_CHARS,
    private readonly transform?: MessageTransform,
  ) {
    this.framing = rewrite !== undefined || transform !== undefined;
  }

  /** Feed an upstream chunk; returns the bytes to send now (possibly empty). */
  feed(chunk: Uint8Array): Uint8Array {
    if (!this.framing) {
      this.track(chunk);
      return chunk;
    }
    return this.emit(this.consume(this.decoder.decode(chunk, { stream: true })));
  }

  /**
   * At upstream end: nothing more to send. An unterminated final event is dropped, as EventSource
   * drops it, and what the decoder still holds (an incomplete character) cannot end a line.
   */
  flush(): Uint8Array {
    return new Uint8Array(0);
  }

  private emit(out: string): Uint8Array {
    // The decoder took the stream's BOM, as EventSource does. Text that still starts with U+FEFF
    // (a second BOM) must not be the first thing a client decodes, or the client would strip it
    // and read a field the proxy read as something else (`\uFEFFevent`): lead with a BOM of ours.
    if (!this.started && out) {
      this.started = true;
      if (out.startsWith('\uFEFF')) out = `\uFEFF${out}`;
    }
    // Framed output is whole events only, so it always ends at a boundary (`atBoundary` stays true).
    return enc.encode(out);
  }

  /**
   * Split newly decoded text into lines; returns the text of every event they completed. Each
   * piece is searched once and a line's earlier pieces are kept as a list, so a long line or a
   * flood of line ends costs linear time however it is chunked.
   */
  private consume(piece: string): string {
    let out = '';
    let start = 0;
    // A CR that ended the previous piece and an LF that starts this one are one CRLF.
    if (this.afterCr && piece.startsWith('\n')) {
      this.event.raw += '\n';
      start = 1;
    }
    if (piece.length) this.afterCr = false;
    const eol = /\r\n|\r|\n/g;
    eol.lastIndex = start;
    for (let m = eol.exec(piece); m; m = eol.exec(piece)) {
      const head = this.partialLength ? this.partial.join('') : '';
      this.partial = [];
      this.partialLength = 0;
      out += this.line(head + piece.slice(start, m.index), m[0]);
      start = m.index + m[0].length;
      if (m[0] === '\r' && start === piece.length) this.afterCr = true;
    }
    this.partial.push(piece.slice(start));
    this.partialLength += piece.length - start;
    if (this.event.raw.length + this.partialLength > this.maxEventChars) {
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
    // A comment (`:` first) is a field with an empty name, ignored like any unknown field.
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
    if (ev.type === '' || ev.type === 'message') return this.message(ev);
    if (ev.type !== 'endpoint' || !this.rewrite) return ev.raw;
    const next = this.rewrite(ev.data.join('\n'));
    // A rewritten value is one line, or nothing: never a line break that would start new fields.
    if (next === undefined || /[\r\n]/.test(next)) return '';
    return `${ev.keep.map((l) => `${l}\n`).join('')}event: endpoint\ndata: ${next}\n\n`;
  }

  /** A message event, transformed: its `id:`/`retry:` lines and name kept, the data replaced. */
  private message(ev: PendingEvent): string {
    // An event without data is never dispatched by EventSource (a resumption priming event).
    const next = this.transform && ev.data.length ? this.transform(ev.data.join('\n')) : undefined;
    if (next === undefined) return ev.raw;
    const name = ev.type ? `event: ${ev.type}\n` : '';
    const data = next.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`);
    return `${ev.keep.map((l) => `${l}\n`).join('')}${name}${data.join('')}\n`;
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
