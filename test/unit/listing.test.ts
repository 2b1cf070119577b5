/**
 * Filtered listings (functions/proxy/mcp/listing.ts), rule by rule: each listing kind keeps only
 * what the token may use (pagination cursor and `_meta` kept), batches, correlation by id and by
 * shape, untouched messages returned as the very same text, errors untouched, malformed listings
 * failing closed; the SSE hook (sse.ts) and the bounded JSON body (forward/listing-body.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  filteredJsonBody,
  isJsonBody,
  listingTransform,
  MAX_LISTING_BYTES,
} from '../../functions/proxy/forward/listing-body.ts';
import type { UpstreamResponse } from '../../functions/proxy/forward/upstream.ts';
import {
  type Correlation,
  filterListingText,
  streamListingFilter,
  UNREADABLE_LISTING,
  UnreadableListing,
} from '../../functions/proxy/mcp/listing.ts';
import type {
  ListingFilter,
  ListMethod,
  OperationKind,
  PolicyView,
} from '../../functions/proxy/mcp/types.ts';
import { SseStream } from '../../functions/proxy/sse.ts';
import { OAuthError } from '../../functions/shared/errors.ts';

const ALLOWED: Record<OperationKind, string[]> = {
  tool: ['echo', 'add'],
  prompt: ['greet'],
  resource: ['file:///a.txt', 'file:///{path}'],
};
const view: PolicyView = { allows: (kind, name) => ALLOWED[kind].includes(name) };

/** A filter whose requests were: id 1 tools/list, 2 prompts/list, 3 resources/list, 4 templates, "s" tools/list, 9 tools/call. */
const METHODS = new Map<unknown, ListMethod>([
  [1, 'tools/list'],
  [2, 'prompts/list'],
  [3, 'resources/list'],
  [4, 'resources/templates/list'],
  ['s', 'tools/list'],
]);
const byId: ListingFilter = { methodOf: (id) => METHODS.get(id), view };

const res = (id: unknown, result: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result });
const names = (list: { name?: string; uri?: string; uriTemplate?: string }[]) =>
  list.map((e) => e.name ?? e.uri ?? e.uriTemplate);
const run = (text: string, by: Correlation = 'id', filter = byId) => filterListingText(filter, text, by);

describe('each listing kind keeps only what the token may use, and its cursor', () => {
  it.each<[string, number, string, Record<string, unknown>[], string[]]>([
    ['tools/list', 1, 'tools', [{ name: 'echo' }, { name: 'rm' }, { name: 'add' }], ['echo', 'add']],
    ['prompts/list', 2, 'prompts', [{ name: 'greet' }, { name: 'leak' }], ['greet']],
    [
      'resources/list',
      3,
      'resources',
      [{ uri: 'file:///b.txt' }, { uri: 'file:///a.txt' }],
      ['file:///a.txt'],
    ],
    [
      'resources/templates/list',
      4,
      'resourceTemplates',
      [{ uriTemplate: 'file:///{path}' }, { uriTemplate: 'db://{table}' }],
      ['file:///{path}'],
    ],
  ])('%s', (_m, id, field, entries, want) => {
    const out = JSON.parse(run(res(id, { [field]: entries, nextCursor: 'page-2', _meta: { m: 1 } })));
    expect(names(out.result[field])).toEqual(want);
    expect(out.result.nextCursor).toBe('page-2');
    expect(out.result._meta).toEqual({ m: 1 });
    expect(out).toMatchObject({ jsonrpc: '2.0', id });
  });

  it('decides tools and prompts by name, resources by uri (a resource named like an allowed tool is dropped)', () => {
    const out = JSON.parse(run(res(3, { resources: [{ uri: 'file:///x', name: 'echo' }] })));
    expect(out.result.resources).toEqual([]);
    const tools = JSON.parse(run(res(1, { tools: [{ name: 'rm', uri: 'file:///a.txt' }] })));
    expect(tools.result.tools).toEqual([]);
  });

  it('keeps every other member of an allowed entry exactly', () => {
    const tool = { name: 'echo', description: 'd', inputSchema: { type: 'object', properties: { a: {} } } };
    const out = JSON.parse(run(res(1, { tools: [tool, { name: 'rm' }] })));
    expect(out.result.tools).toEqual([tool]);
  });

  it('an empty page keeps its cursor (the client asks for the next one)', () => {
    const out = JSON.parse(run(res(1, { tools: [{ name: 'rm' }], nextCursor: 'c3' })));
    expect(out.result).toEqual({ tools: [], nextCursor: 'c3' });
  });

  it.each([
    ['a Unicode look-alike', 'ech\u043e'],
    ['a case variant', 'Echo'],
    ['a trailing space', 'echo '],
    ['a NUL suffix', 'echo\u0000'],
  ])('compares names exactly: %s is dropped', (_n, name) => {
    expect(JSON.parse(run(res(1, { tools: [{ name }] }))).result.tools).toEqual([]);
  });
});

describe('untouched: the very same text', () => {
  it.each<[string, string, Correlation?]>([
    [
      'a listing where everything is allowed (whitespace kept)',
      '{ "jsonrpc":"2.0", "id":1, "result":{"tools":[ {"name":"echo"} ]} }',
    ],
    ['a response to a non-listing request', res(9, { tools: [{ name: 'rm' }], content: [] })],
    ['a response whose id is unknown', res(77, { tools: [{ name: 'rm' }] })],
    ['an id the filter does not know (here "1")', res('1', { tools: [{ name: 'rm' }] })],
    ['a listing answered with an error', '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}'],
    ['a notification', '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}'],
    ['a server request', '{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{}}'],
    ['a JSON value that is no message', '42'],
    ['null', 'null'],
    ['an empty batch', '[]'],
    [
      'a batch with nothing to filter',
      `[${res(9, { content: [] })}, ${res(1, { tools: [{ name: 'add' }] })}]`,
    ],
    [
      'by shape: a result without listing arrays',
      res(5, { content: [{ type: 'text', text: 'x' }] }),
      'shape',
    ],
    ['by shape: a result that is not an object', res(5, 'tools'), 'shape'],
    ['by shape: an allowed listing', res(5, { tools: [{ name: 'echo' }] }), 'shape'],
  ])('%s', (_n, text, by = 'id') => {
    expect(run(text, by)).toBe(text);
  });

  it('keeps unchanged messages of a batch as they were, filtering the listing one', () => {
    const call = { jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'hi' }] } };
    const out = JSON.parse(
      run(JSON.stringify([call, JSON.parse(res(1, { tools: [{ name: 'rm' }, { name: 'add' }] }))])),
    );
    expect(out[0]).toEqual(call);
    expect(names(out[1].result.tools)).toEqual(['add']);
  });
});

describe('batches', () => {
  it('filters every listing response of a batch by its own method', () => {
    const batch = [
      JSON.parse(res(2, { prompts: [{ name: 'greet' }, { name: 'x' }] })),
      JSON.parse(res(1, { tools: [{ name: 'rm' }] })),
      JSON.parse(res(3, { resources: [{ uri: 'file:///a.txt' }], nextCursor: 'r2' })),
      { jsonrpc: '2.0', id: 4, error: { code: -1, message: 'e' } },
    ];
    const out = JSON.parse(run(JSON.stringify(batch)));
    expect(names(out[0].result.prompts)).toEqual(['greet']);
    expect(out[1].result.tools).toEqual([]);
    expect(out[2].result).toEqual(batch[2].result);
    expect(out[3]).toEqual(batch[3]);
  });

  it('replaces only the unreadable listing of a batch', () => {
    const out = JSON.parse(run(`[${res(1, { tools: 'x' })},${res(9, { ok: true })}]`));
    expect(out[0]).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: UNREADABLE_LISTING, message: expect.any(String) },
    });
    expect(out[1].result).toEqual({ ok: true });
  });
});

describe('by shape (streams answering other requests): any result holding a listing array', () => {
  const shape = streamListingFilter(view);
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'tools',
      { tools: [{ name: 'echo' }, { name: 'rm' }], nextCursor: 'n' },
      { tools: [{ name: 'echo' }], nextCursor: 'n' },
    ],
    ['prompts', { prompts: [{ name: 'x' }] }, { prompts: [] }],
    ['resources', { resources: [{ uri: 'file:///b' }] }, { resources: [] }],
    ['templates', { resourceTemplates: [{ uriTemplate: 'x://{y}' }] }, { resourceTemplates: [] }],
    [
      'several arrays in one result, each by its own key',
      {
        tools: [{ name: 'rm' }],
        prompts: [{ name: 'greet' }],
        resources: [{ uri: 'file:///a.txt' }, { uri: 'z:' }],
      },
      { tools: [], prompts: [{ name: 'greet' }], resources: [{ uri: 'file:///a.txt' }] },
    ],
  ])('%s', (_n, result, want) => {
    expect(JSON.parse(run(res('any', result), 'shape', shape)).result).toEqual(want);
  });

  it('a listing field that is not an array fails closed', () => {
    expect(JSON.parse(run(res(8, { tools: { rm: {} } }), 'shape', shape)).error.code).toBe(
      UNREADABLE_LISTING,
    );
  });
});

describe('malformed listings fail closed', () => {
  const err = (id: unknown) => ({
    jsonrpc: '2.0',
    id,
    error: { code: UNREADABLE_LISTING, message: expect.any(String) },
  });
  it.each<[string, unknown]>([
    ['result null', null],
    ['result an array', [{ name: 'echo' }]],
    ['result a string', 'tools'],
    ['the listing field missing', { nextCursor: 'c' }],
    ['the listing field an object', { tools: { echo: {} } }],
    ['the listing field a string', { tools: 'echo' }],
  ])('%s → a JSON-RPC error with the same id', (_n, result) => {
    expect(JSON.parse(run(res(1, result)))).toEqual(err(1));
    expect(JSON.parse(run(res('s', result)))).toEqual(err('s'));
  });

  it.each<[string, unknown]>([
    ['not an object', 'echo'],
    ['null', null],
    ['no name', { description: 'echo' }],
    ['a non-string name', { name: ['echo'] }],
    ['a number name', { name: 1 }],
  ])('an entry that is %s is dropped', (_n, entry) => {
    const out = JSON.parse(run(res(1, { tools: [entry, { name: 'add' }] })));
    expect(names(out.result.tools)).toEqual(['add']);
  });

  it.each(['', '{', '{"id":1,"result":', 'NaN', "{'id':1}", '\uFEFF{}'])(
    'text that is not JSON (%j) throws',
    (text) => {
      expect(() => run(text)).toThrow(UnreadableListing);
    },
  );

  it.each<[string, string]>([
    ['an escaped member name', '{"jsonrpc":"2.0","id":1,"result":{"\\u0074ools":[{"name":"rm"}]}}'],
    ['an escaped entry key', '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"n\\u0061me":"rm"}]}}'],
    ['the id spelled 1.0', '{"jsonrpc":"2.0","id":1.0,"result":{"tools":[{"name":"rm"}]}}'],
    ['the id spelled 1e0', '{"jsonrpc":"2.0","id":1e0,"result":{"tools":[{"name":"rm"}]}}'],
    ['an escaped string id', '{"jsonrpc":"2.0","id":"\\u0073","result":{"tools":[{"name":"rm"}]}}'],
  ])('reads JSON as a client does: %s is still filtered', (_n, text) => {
    expect(JSON.parse(run(text)).result.tools).toEqual([]);
  });

  it('a __proto__ member is data, not a way to hide the listing', () => {
    const text = '{"jsonrpc":"2.0","id":1,"result":{"__proto__":{"tools":[{"name":"rm"}]}}}';
    expect(JSON.parse(run(text)).error.code).toBe(UNREADABLE_LISTING);
    expect(run(text, 'shape', streamListingFilter(view))).toBe(text);
  });

  it('reads duplicate keys as JSON.parse does (the last one) and re-serialises what it changes', () => {
    const text =
      '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo"}]},"result":{"tools":[{"name":"rm"}]}}';
    expect(JSON.parse(run(text))).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
  });
});

describe('the SSE hook: message events filtered, the rest byte for byte', () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const stream = (parts: string[], by: Correlation = 'id', rewrite?: (d: string) => string) => {
    const s = new SseStream(rewrite, undefined, listingTransform(byId, by));
    return parts.map((p) => dec.decode(s.feed(enc.encode(p)))).join('');
  };
  const denied = res(1, { tools: [{ name: 'echo' }, { name: 'rm' }] });
  const kept = res(1, { tools: [{ name: 'echo' }] });

  it.each<[string, string, string]>([
    [
      'keeps the event id and name',
      `id: 7\nevent: message\ndata: ${denied}\n\n`,
      `id: 7\nevent: message\ndata: ${kept}\n\n`,
    ],
    ['an unnamed event stays unnamed', `data: ${denied}\r\n\r\n`, `data: ${kept}\n\n`],
    [
      'joins multi-line data before parsing',
      `data: {"jsonrpc":"2.0","id":1,\ndata: "result":{"tools":[{"name":"rm"}]}}\n\n`,
      `data: ${res(1, { tools: [] })}\n\n`,
    ],
    [
      'keeps retry, drops comments of a changed event',
      `: c\nretry: 5\ndata: ${denied}\n\n`,
      `retry: 5\ndata: ${kept}\n\n`,
    ],
  ])('%s', (_n, input, want) => {
    expect(stream([input])).toBe(want);
  });

  it.each<[string, string]>([
    ['a priming event without data', 'id: 0\n\n'],
    ['an event with empty data', 'id: 1\ndata:\n\n'],
    ['data that is not JSON', 'data: hello\n\n'],
    ['another event name', `event: other\ndata: ${denied}\n\n`],
    [
      'a non-listing message with CRLF and comments',
      `: hi\r\nid: 3\r\ndata: ${res(9, { tools: [{ name: 'rm' }] })}\r\n\r\n`,
    ],
    ['an allowed listing', `id: 4\ndata: ${kept}\n\n`],
  ])('passes %s unchanged', (_n, input) => {
    expect(stream([input])).toBe(input);
  });

  it.each<[string, string, string]>([
    [
      'the last event name wins (message)',
      `event: other\nevent: message\ndata: ${denied}\n\n`,
      `event: message\ndata: ${kept}\n\n`,
    ],
    [
      'the last event name wins (other)',
      `event: message\nevent: other\ndata: ${denied}\n\n`,
      `event: message\nevent: other\ndata: ${denied}\n\n`,
    ],
    ['CR line ends', `data: ${denied}\r\r`, `data: ${kept}\n\n`],
    ['no space after the colon', `data:${denied}\n\n`, `data: ${kept}\n\n`],
  ])('frames as EventSource does: %s', (_n, input, want) => {
    expect(stream([input])).toBe(want);
  });

  it('emits an event as soon as it ends, however it is chunked', () => {
    const s = new SseStream(undefined, undefined, listingTransform(byId, 'id'));
    expect(dec.decode(s.feed(enc.encode(`data: ${denied.slice(0, 10)}`)))).toBe('');
    expect(dec.decode(s.feed(enc.encode(`${denied.slice(10)}\n`)))).toBe('');
    expect(dec.decode(s.feed(enc.encode('\ndata: x\n\n')))).toBe(`data: ${kept}\n\ndata: x\n\n`);
  });

  it('applies with the legacy endpoint rewrite, by shape', () => {
    const out = stream(
      [`event: endpoint\ndata: /m\n\nevent: message\ndata: ${res(42, { tools: [{ name: 'rm' }] })}\n\n`],
      'shape',
      (d) => `https://p${d}`,
    );
    expect(out).toBe(
      `event: endpoint\ndata: https://p/m\n\nevent: message\ndata: ${res(42, { tools: [] })}\n\n`,
    );
  });
});

describe('the buffered JSON body (forward/listing-body.ts)', () => {
  const upstream = (chunks: (string | Uint8Array)[], headers: Record<string, string> = {}, hang = false) => {
    let destroyed = false;
    async function* gen() {
      for (const c of chunks) yield typeof c === 'string' ? new TextEncoder().encode(c) : c;
      if (hang) await new Promise(() => {});
    }
    const up: UpstreamResponse = {
      status: 200,
      headers,
      body: Object.assign(gen(), {
        destroy: () => {
          destroyed = true;
        },
      }),
    };
    return { up, abort: new AbortController(), destroyed: () => destroyed };
  };
  const fail = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(OAuthError);
    return e as OAuthError;
  };

  it('filters a body split across chunks, and returns the upstream bytes when nothing changes', async () => {
    const body = res(1, { tools: [{ name: 'echo' }, { name: 'rm' }] });
    const u = upstream([body.slice(0, 7), body.slice(7)]);
    const out = await filteredJsonBody(u.up, u.abort, byId, 'id', 1000);
    const kept = res(1, { tools: [{ name: 'echo' }] });
    expect(new TextDecoder().decode(out)).toBe(kept);
    expect(u.abort.signal.aborted && u.destroyed()).toBe(true);
    const same = new TextEncoder().encode(`  ${kept}\n`);
    const v = upstream([same]);
    expect(Buffer.from(await filteredJsonBody(v.up, v.abort, byId, 'id', 1000)).equals(same)).toBe(true);
  });

  it('an empty body passes (nothing to show)', async () => {
    const u = upstream([]);
    expect((await filteredJsonBody(u.up, u.abort, byId, 'id', 1000)).length).toBe(0);
  });

  it.each<[string, (string | Uint8Array)[], Record<string, string>]>([
    ['over the limit as declared', ['{}'], { 'content-length': String(MAX_LISTING_BYTES + 1) }],
    ['over the limit as read', ['['.repeat(MAX_LISTING_BYTES), '1'], {}],
    ['not JSON', ['<html>'], {}],
    ['not UTF-8', [new Uint8Array([0x22, 0xff, 0x22])], {}],
  ])('fails closed with 502 and a JSON-RPC error when %s', async (_n, chunks, headers) => {
    const u = upstream(chunks, headers);
    const e = await fail(filteredJsonBody(u.up, u.abort, byId, 'id', 1000));
    expect(e.status).toBe(502);
    expect(e.jsonRpc).toEqual({ id: null, code: UNREADABLE_LISTING, message: expect.any(String) });
    expect(u.abort.signal.aborted).toBe(true);
  });

  it('fails closed with 504 when the body does not end in time, and aborts the upstream', async () => {
    const u = upstream(['{"jsonrpc"'], {}, true);
    const e = await fail(filteredJsonBody(u.up, u.abort, byId, 'id', 50));
    expect(e.status).toBe(504);
    expect(u.abort.signal.aborted && u.destroyed()).toBe(true);
  });

  it.each<[string | null, boolean]>([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/json ;charset=utf-8', true],
    ['application/json-seq', false],
    ['application/jsonx', false],
    ['text/event-stream', false],
    [null, false],
  ])('isJsonBody(%j) = %s', (ct, want) => {
    expect(isJsonBody(ct)).toBe(want);
  });
});

describe('properties (fast-check)', () => {
  const pool = ['echo', 'add', 'rm', 'Echo', 'ech\u043e', 'admin'];
  const entry = fc.oneof(
    fc.record({ name: fc.constantFrom(...pool), description: fc.string({ maxLength: 4 }) }),
    fc.constantFrom(null, 7, 'echo', { title: 'echo' }),
  );
  const page = fc.record({
    tools: fc.array(entry, { maxLength: 12 }),
    nextCursor: fc.option(fc.string(), { nil: undefined }),
  });

  it('a page keeps exactly its allowed entries, in order, with its cursor; unchanged text iff nothing dropped', () => {
    fc.assert(
      fc.property(page, fc.constantFrom<Correlation>('id', 'shape'), (result, by) => {
        const text = res(1, result);
        const out = run(text, by);
        const want = result.tools.filter(
          (e) => typeof e === 'object' && e !== null && 'name' in e && ALLOWED.tool.includes(e.name),
        );
        expect(JSON.parse(out).result).toEqual(JSON.parse(JSON.stringify({ ...result, tools: want })));
        expect(out === text).toBe(want.length === result.tools.length);
      }),
      { numRuns: 300 },
    );
  });

  it('SSE output does not depend on how the stream is chunked', () => {
    const events = fc.array(
      fc.oneof(
        page.map((r) => `id: 1\ndata: ${res(1, r)}\n\n`),
        fc.constantFrom(
          ': c\n\n',
          'data: x\r\n\r\n',
          `event: other\ndata: ${res(1, { tools: [{ name: 'rm' }] })}\n\n`,
        ),
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(events, fc.array(fc.nat(), { maxLength: 8 }), (evs, cuts) => {
        const whole = evs.join('');
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const parts = [...points, whole.length].map((p, i, a) => whole.slice(i ? a[i - 1] : 0, p));
        const feed = (ps: string[]) => {
          const s = new SseStream(undefined, undefined, listingTransform(byId, 'id'));
          return ps.map((p) => new TextDecoder().decode(s.feed(new TextEncoder().encode(p)))).join('');
        };
        // Line ends compared as a client reads them: a CRLF split across chunks at the very end
        // of the stream loses its LF, which ends nothing (sse-rewrite.test.ts).
        const lines = (t: string) => t.replace(/\r\n?/g, '\n');
        expect(lines(feed(parts))).toBe(lines(feed([whole])));
      }),
      { numRuns: 200 },
    );
  });
});
