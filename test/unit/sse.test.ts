import { describe, expect, it } from 'vitest';
import { rewriteEndpointUrl, SseStream } from '../../functions/proxy/sse.ts';

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
  it('rewrites an endpoint event split across chunks, then passes bytes straight through', () => {
    const r = new SseStream(rw);
    const out: string[] = [];
    out.push(dec.decode(r.feed(enc.encode('event: end'))));
    expect(out[0]).toBe(''); // held: it may be the endpoint event
    out.push(dec.decode(r.feed(enc.encode('point\ndata: /messages?s=1\n\ndata: x'))));
    expect(out[1]).toBe('event: endpoint\ndata: https://p/messages?s=1\n\ndata: x');
    expect(dec.decode(r.feed(enc.encode('yz\n\n')))).toBe('yz\n\n');
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
