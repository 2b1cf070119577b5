/**
 * The legacy SSE `endpoint` rewrite (functions/proxy/sse.ts), rule by rule: which upstream POST
 * URLs become proxy URLs (and how the upstream base path is removed), which are dropped, and how
 * a framed stream re-emits, rewrites or drops each event.
 */
import { describe, expect, it } from 'vitest';
import {
  HEARTBEAT,
  MAX_EVENT_CHARS,
  rewriteEndpointUrl,
  SseEventTooLarge,
  SseStream,
} from '../../functions/proxy/sse.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('rewriteEndpointUrl: the upstream base path and origin', () => {
  const P = 'https://p';
  it.each<[string, string, string, string | undefined]>([
    ['/base/messages?s=1', 'http://up:8000/base/sse', 'http://up:8000/base', `${P}/messages?s=1`],
    ['/base/messages', 'http://up:8000/base/sse', 'http://up:8000/base/', `${P}/messages`],
    ['/base/messages', 'http://up:8000/base/sse', 'http://up:8000/base//', `${P}/messages`],
    // Only a whole leading segment is the prefix.
    ['/basex/messages', 'http://up:8000/base/sse', 'http://up:8000/base', `${P}/basex/messages`],
    ['/base', 'http://up:8000/base/sse', 'http://up:8000/base', `${P}/base`],
    ['/other/base/messages', 'http://up:8000/base/sse', 'http://up:8000/base', `${P}/other/base/messages`],
    ['/messages', 'http://up:8000/sse', 'http://up:8000', `${P}/messages`],
    ['/messages', 'http://up:8000/sse', 'http://up:8000//', `${P}/messages`],
    ['//messages', 'http://up:8000/sse', 'http://up:8000', undefined],
    ['  /messages?x=1  ', 'http://up:8000/sse', 'http://up:8000', `${P}/messages?x=1`],
    ['/messages#frag', 'http://up:8000/sse', 'http://up:8000', `${P}/messages`],
    ['http://up:8001/messages', 'http://up:8000/sse', 'http://up:8000', undefined],
    ['https://up:8000/messages', 'http://up:8000/sse', 'http://up:8000', undefined],
    ['http://[', 'http://up:8000/sse', 'http://up:8000', undefined],
    ['\u00a0/messages\u00a0', 'http://up:8000/sse', 'http://up:8000', `${P}/messages`],
  ])('%j (SSE %s, base %s) → %s', (data, sse, base, want) => {
    expect(rewriteEndpointUrl(data, sse, base, P)).toBe(want);
  });
});

describe('SseStream framing', () => {
  const all = (r: SseStream, parts: string[]) =>
    parts.map((p) => dec.decode(r.feed(enc.encode(p)))).join('') + dec.decode(r.flush());
  const seen: string[] = [];
  const rw = (d: string) => {
    seen.push(d);
    return d === 'drop' ? undefined : d === 'nl' ? 'a\nb' : d === 'cr' ? 'a\rb' : `https://p${d}`;
  };

  it.each<[string, string, string]>([
    [
      'keeps id and retry lines',
      'id: 7\nretry: 10\nevent: endpoint\ndata: /m\n\n',
      'id: 7\nretry: 10\nevent: endpoint\ndata: https://p/m\n\n',
    ],
    [
      'reads a field without a space after the colon',
      'event:endpoint\ndata:/m\n\n',
      'event: endpoint\ndata: https://p/m\n\n',
    ],
    [
      'a second space is part of the value',
      'event:  endpoint\ndata: /m\n\n',
      'event:  endpoint\ndata: /m\n\n',
    ],
    [
      'a bare field name has an empty value',
      'event: endpoint\nevent\ndata: /m\n\n',
      'event: endpoint\nevent\ndata: /m\n\n',
    ],
    [
      'a field named with a colon-less line',
      'event: endpoint\ndata\n\n',
      'event: endpoint\ndata: https://p\n\n',
    ],
    [
      'ignores comments and unknown fields',
      ': hi\nfoo: bar\nevent: endpoint\ndata: /m\n\n',
      'event: endpoint\ndata: https://p/m\n\n',
    ],
    ['drops an endpoint the rewriter refuses', 'event: endpoint\ndata: drop\n\ndata: x\n\n', 'data: x\n\n'],
    ['drops a rewritten value with LF', 'event: endpoint\ndata: nl\n\n', ''],
    ['drops a rewritten value with CR', 'event: endpoint\ndata: cr\n\n', ''],
    [
      'passes other events byte for byte',
      'event: message\r\ndata: a\r\n\r\n',
      'event: message\r\ndata: a\r\n\r\n',
    ],
  ])('%s', (_n, stream, want) => {
    expect(all(new SseStream(rw), [stream])).toBe(want);
  });

  it('joins multi-line data with LF before rewriting', () => {
    seen.length = 0;
    all(new SseStream(rw), ['event: endpoint\ndata: /a\ndata: b\n\n']);
    expect(seen).toEqual(['/a\nb']);
  });

  it('joins a CR at the end of one chunk and an LF at the start of the next into one line end', () => {
    // The CR ends the event; the LF that completes it goes out with the next event.
    expect(all(new SseStream(rw), ['event: message\r', '\ndata: a\r', '\n\r', '\ndata: b\n\n'])).toBe(
      'event: message\r\ndata: a\r\n\r\ndata: b\n\n',
    );
    // A lone CR ends a line too: CR CR is an empty line.
    expect(all(new SseStream(rw), ['data: a\r', '\r'])).toBe('data: a\r\r');
    // An LF after a CR that did not end a chunk is a line of its own (an empty line: the event ends).
    expect(all(new SseStream(rw), ['data: a\r\n', '\n'])).toBe('data: a\r\n\n');
  });

  it.each<[string, string[], string]>([
    [
      'an endpoint event whose CRLF is split',
      ['event: endpoint\r', '\ndata: /m\n\n'],
      'event: endpoint\ndata: https://p/m\n\n',
    ],
    [
      'the split kept across an empty chunk',
      ['event: endpoint\r', '', '\ndata: /m\n\n'],
      'event: endpoint\ndata: https://p/m\n\n',
    ],
    // LF LF is an empty line: the endpoint event ends without data; the next is another event.
    [
      'an LF at a chunk end, then LF',
      ['event: endpoint\n', '\ndata: /m\n\n'],
      'event: endpoint\ndata: https://p\n\ndata: /m\n\n',
    ],
    // Only a CR that ended the previous chunk can pair with an LF that starts this one.
    [
      'a CR inside a chunk, LF at the next',
      ['event: endpoint\rdata: /m', '\n\ndata: x\n\n'],
      'event: endpoint\ndata: https://p/m\n\ndata: x\n\n',
    ],
    [
      'a CR two chunks back',
      ['event: endpoint\r', 'data: /m\n', '\ndata: x\n\n'],
      'event: endpoint\ndata: https://p/m\n\ndata: x\n\n',
    ],
    [
      'a stream that starts with an empty line',
      ['\n', 'event: endpoint\ndata: /m\n\n'],
      '\nevent: endpoint\ndata: https://p/m\n\n',
    ],
  ])('%s', (_n, parts, want) => {
    expect(all(new SseStream(rw), parts)).toBe(want);
  });

  it('sends an empty line at the start of a stream at once', () => {
    expect(dec.decode(new SseStream(rw).feed(enc.encode('\n')))).toBe('\n');
  });

  it('counts only the unterminated rest of a line towards the bound', () => {
    expect(dec.decode(new SseStream(rw, 20).feed(enc.encode('data: a\ndata: b')))).toBe('');
  });

  it('names its error', () => {
    expect(new SseEventTooLarge('x').name).toBe('SseEventTooLarge');
  });

  it('leads with a BOM of its own when the first text out starts with one', () => {
    const raw = new TextDecoder('utf-8', { ignoreBOM: true });
    const r = new SseStream(rw);
    const bom = [0xef, 0xbb, 0xbf];
    const out = r.feed(new Uint8Array([...bom, ...bom, ...enc.encode('data: x\n\n')]));
    expect(raw.decode(out)).toBe('\uFEFF\uFEFFdata: x\n\n');
  });

  it('holds an event up to the limit, and refuses one character more', () => {
    const ok = new SseStream(rw, 10);
    expect(dec.decode(ok.feed(enc.encode('data: abc\n')))).toBe(''); // 10 characters held
    const over = new SseStream(rw, 10);
    expect(() => over.feed(enc.encode('data: abcd\n'))).toThrow(SseEventTooLarge);
    const partial = new SseStream(rw, 10);
    expect(() => partial.feed(enc.encode('data: abcde'))).toThrow('an SSE event exceeds 10 characters');
    expect(MAX_EVENT_CHARS).toBe(1024 * 1024);
  });

  it('an unframed stream passes chunks as they are and has nothing to flush', () => {
    const r = new SseStream();
    const chunk = enc.encode('event: endpoint\ndata: /m\n\n');
    expect(r.feed(chunk)).toBe(chunk);
    expect(r.flush()).toEqual(new Uint8Array(0));
    expect(dec.decode(HEARTBEAT)).toBe(': keepalive\n\n');
  });

  it.each<[string, boolean]>([
    ['data: a\n\n', true],
    ['data: a\r\n\r\n', true],
    ['data: a\r\r', true],
    ['data: a\n\r\n', true],
    ['data: a\r\n\r', true],
    ['data: a\n', false],
    ['data: a\r\n', false],
    ['data: a\r', false],
    ['data: a', false],
    ['x\n\nd', false],
  ])('after %j the stream is at a boundary: %s', (text, want) => {
    const r = new SseStream();
    r.feed(enc.encode(text));
    expect(r.atBoundary).toBe(want);
  });

  it('an empty chunk leaves the boundary as it was', () => {
    const fresh = new SseStream();
    fresh.feed(new Uint8Array(0));
    expect(fresh.atBoundary).toBe(true);
    const r = new SseStream();
    r.feed(enc.encode('data: a'));
    r.feed(new Uint8Array(0));
    expect(r.atBoundary).toBe(false);
    r.feed(enc.encode('\n\n'));
    r.feed(new Uint8Array(0));
    expect(r.atBoundary).toBe(true);
  });

  it('only the first output of a stream is guarded against a leading BOM', () => {
    const r = new SseStream(rw);
    const raw = new TextDecoder('utf-8', { ignoreBOM: true });
    expect(raw.decode(r.feed(enc.encode('data: a\n\n')))).toBe('data: a\n\n');
    expect(raw.decode(r.feed(enc.encode('\uFEFFdata: b\n\n')))).toBe('\uFEFFdata: b\n\n');
  });
});
