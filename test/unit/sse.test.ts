import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteEndpointUrl, SseEventTooLarge, SseStream } from '../../functions/proxy/sse.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const feedAll = (r: SseStream, parts: string[]) =>
  parts.map((p) => dec.decode(r.feed(enc.encode(p)))).join('') + dec.decode(r.flush());

describe('rewriteEndpointUrl', () => {
  const up = 'http://up:8000';
  it.each([
    ['/messages?sessionId=1', 'http://up:8000/sse', up, 'https://p/messages?sessionId=1'],
    ['messages?sessionId=1', 'http://up:8000/sse', up, 'https://p/messages?sessionId=1'],
    ['http://up:8000/messages?sessionId=1', 'http://up:8000/sse', up, 'https://p/messages?sessionId=1'],
    [
      '/base/messages/?session_id=1',
      'http://up:8000/base/sse',
      'http://up:8000/base',
      'https://p/messages/?session_id=1',
    ],
    ['http://elsewhere/messages', 'http://up:8000/sse', up, undefined],
    ['//evil.example/messages', 'http://up:8000/sse', up, undefined],
  ])('%s', (data, sseUrl, base, expected) => {
    expect(rewriteEndpointUrl(data, sseUrl, base, 'https://p')).toBe(expected);
  });
});

describe('SseStream', () => {
  const rw = (d: string) => `https://p${d}`;
  it('rewrites an endpoint event split across chunks, and keeps framing the stream after it', () => {
    const r = new SseStream(rw);
    const out: string[] = [];
    out.push(dec.decode(r.feed(enc.encode('event: end'))));
    expect(out[0]).toBe(''); // held: it may be the endpoint event
    out.push(dec.decode(r.feed(enc.encode('point\ndata: /messages?s=1\n\ndata: x'))));
    expect(out[1]).toBe('event: endpoint\ndata: https://p/messages?s=1\n\n');
    // Every later event is framed too (a second endpoint event must not pass unrewritten);
    // EventSource dispatches an event only at its end, so holding it costs the client nothing.
    expect(dec.decode(r.feed(enc.encode('yz\n\n')))).toBe('data: xyz\n\n');
  });

  it('handles CRLF framing and keeps the event id', () => {
    const r = new SseStream(rw);
    expect(feedAll(r, ['id: 3\r\nevent: endpoint\r\ndata: /m\r\n\r\n'])).toBe(
      'id: 3\nevent: endpoint\ndata: https://p/m\n\n',
    );
  });

  it('passes other events untouched before the endpoint event', () => {
    const r = new SseStream(rw);
    expect(feedAll(r, [': comment\n\n', 'event: endpoint\ndata: /m\n\n'])).toBe(
      ': comment\n\nevent: endpoint\ndata: https://p/m\n\n',
    );
  });

  it('tracks event boundaries for heartbeats', () => {
    const r = new SseStream();
    expect(r.atBoundary).toBe(true);
    r.feed(enc.encode('data: a\n'));
    expect(r.atBoundary).toBe(false);
    r.feed(enc.encode('\n'));
    expect(r.atBoundary).toBe(true);
    r.feed(enc.encode('data: b\r\n\r\n'));
    expect(r.atBoundary).toBe(true);
    r.feed(enc.encode('data: é'));
    expect(r.atBoundary).toBe(false);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const r = new SseStream(rw);
    const bytes = enc.encode('event: message\ndata: héllo\n\n');
    const a = r.feed(bytes.subarray(0, 23));
    const b = r.feed(bytes.subarray(23));
    expect(dec.decode(new Uint8Array([...a, ...b]))).toBe('event: message\ndata: héllo\n\n');
  });
});

describe('SseStream parses events as EventSource does (red-team finding 5)', () => {
  const rw = (d: string) => (d.startsWith('/') ? `https://p${d}` : undefined);
  it.each([
    ['the last event field wins', 'event: message\nevent: endpoint\ndata: https://evil.example/m\n\n', ''],
    ['an event ended by LF CR LF', 'event: endpoint\ndata: https://evil.example/m\n\r\n', ''],
    ['an event ended by CR CR', 'event: endpoint\rdata: https://evil.example/m\r\r', ''],
    [
      'a second endpoint event later in the stream',
      'event: endpoint\ndata: /ok\n\nevent: endpoint\ndata: https://evil.example/m\n\n',
      'event: endpoint\ndata: https://p/ok\n\n',
    ],
    ['event field without a space', 'event:endpoint\ndata:https://evil.example/m\n\n', ''],
    ['multi-line data joined with LF', 'event: endpoint\ndata: /a\ndata: b\n\n', ''],
    ['a field without a colon does not end the event', 'event: endpoint\ndata\ndata: /m\n\n', ''],
  ])('%s', (_name, stream, expected) => {
    // An endpoint the rewriter refuses (off-origin) is dropped, never passed on.
    expect(feedAll(new SseStream(rw), [stream])).toBe(expected);
  });

  it('an unterminated final event is dropped at the end (EventSource drops it too)', () => {
    expect(feedAll(new SseStream(rw), ['event: endpoint\ndata: https://evil.example/m'])).toBe('');
  });

  it('bounds the bytes held for one event', () => {
    const r = new SseStream(rw, 1000);
    expect(() => r.feed(enc.encode(`data: ${'x'.repeat(2000)}`))).toThrow(SseEventTooLarge);
    const ok = new SseStream(rw, 1000);
    expect(dec.decode(ok.feed(enc.encode(`data: ${'x'.repeat(900)}\n\n`)))).toBe(
      `data: ${'x'.repeat(900)}\n\n`,
    );
  });
});

/** A reference parser straight from the WHATWG algorithm, to compare the relay against. */
function reference(stream: string): { type: string; data: string }[] {
  const events: { type: string; data: string }[] = [];
  let type = '';
  let data = '';
  for (const line of stream.split(/\r\n|\n|\r/).slice(0, -1)) {
    if (line === '') {
      if (data !== '') events.push({ type: type || 'message', data: data.slice(0, -1) });
      type = '';
      data = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const c = line.indexOf(':');
    const field = c === -1 ? line : line.slice(0, c);
    let value = c === -1 ? '' : line.slice(c + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    if (field === 'data') data += `${value}\n`;
  }
  return events;
}

describe('SseStream properties (fast-check)', () => {
  const piece = fc.oneof(
    fc.constantFrom(
      'event: endpoint',
      'event: message',
      'event:endpoint',
      'data: /m',
      'data: https://evil.example/x',
      'data',
      'id: 7',
      ': c',
      '',
    ),
    fc.string({ maxLength: 8 }),
  );
  const eol = fc.constantFrom('\n', '\r', '\r\n');
  const streamArb = fc
    .array(fc.tuple(piece, eol), { maxLength: 30 })
    .map((ls) => ls.map(([l, e]) => l + e).join(''));

  it('no chunking or line-ending mix lets an unrewritten endpoint event through, and other events are kept', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 6 }), (stream, cuts) => {
        const bytes = enc.encode(stream);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let last = 0;
        for (const p of [...points, bytes.length]) {
          parts.push(bytes.subarray(last, p));
          last = p;
        }
        const r = new SseStream((d) => (d === '/m' ? 'https://p/m' : undefined));
        let out = '';
        for (const p of parts) out += dec.decode(r.feed(p), { stream: true });
        out += dec.decode(r.flush());
        const before = reference(stream);
        const after = reference(out);
        // What a client sees: every endpoint event is the rewritten one …
        for (const e of after) if (e.type === 'endpoint') expect(e.data).toBe('https://p/m');
        // … and every other event arrives unchanged, in order.
        expect(after.filter((e) => e.type !== 'endpoint')).toEqual(
          before.filter((e) => e.type !== 'endpoint'),
        );
        expect(after.filter((e) => e.type === 'endpoint').length).toBe(
          before.filter((e) => e.type === 'endpoint' && e.data === '/m').length,
        );
      }),
      { numRuns: 500 },
    );
  });

  it('huge lines pass through unframed streams unchanged and keep boundary tracking right', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), eol, (n, e) => {
        const r = new SseStream();
        const chunk = enc.encode(`data: ${'y'.repeat(n)}${e}`);
        expect(r.feed(chunk)).toBe(chunk);
        expect(r.atBoundary).toBe(false);
        r.feed(enc.encode(e === '\r' ? '\r' : e));
        expect(r.atBoundary).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe('SseStream review fixes', () => {
  const rw = (d: string) => (d.startsWith('/') ? `https://p${d}` : undefined);
  it('a second BOM at the start cannot turn an unnamed event into an endpoint event for the client', () => {
    const r = new SseStream(rw);
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      0xef,
      0xbb,
      0xbf,
      ...enc.encode('event: endpoint\ndata: https://evil.example/x\n\n'),
    ]);
    const out = r.feed(bytes);
    // What a client decodes (it strips one BOM, as EventSource does) is what the proxy parsed.
    const seen = new TextDecoder().decode(out);
    expect(seen.startsWith('event: endpoint')).toBe(false);
    expect(reference(seen).some((e) => e.type === 'endpoint')).toBe(false);
  });

  it('scans a long line once, however it is chunked (no quadratic work)', () => {
    const r = new SseStream(rw);
    const chunk = enc.encode('x'.repeat(1024));
    const t0 = performance.now();
    r.feed(enc.encode('data: '));
    for (let i = 0; i < 1000; i++) r.feed(chunk); // a 1 MB line in 1 KiB chunks
    const perLine = performance.now() - t0;
    const flood = new SseStream(rw);
    const t1 = performance.now();
    flood.feed(enc.encode('\n'.repeat(256 * 1024)));
    const perFlood = performance.now() - t1;
    // Reported, never asserted by timing alone: the work is linear, so both stay far below a second.
    expect(perLine + perFlood).toBeLessThan(5000);
  });
});
