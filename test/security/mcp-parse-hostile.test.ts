/**
 * Hostile MCP bodies and headers (issue 11, "parse once, strictly, before any decision"): each is
 * sent with a valid token through the real proxy handler behind the local Function URL emulation,
 * and each must be refused with the exact status and JSON-RPC error, with nothing reaching the
 * upstream. A few cases the front door cannot carry (invalid UTF-8: the Function URL turns a
 * textual body into a string; bodies that never end) go to the same pipeline as Web Requests.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProxy, type ProxyHandler } from '../../functions/proxy/pipeline.ts';
import { createJwtVerifier } from '../../functions/proxy/token.ts';
import { silentLogger } from '../../functions/shared/log.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const LIMIT = 4096;

let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;
let core: ProxyHandler;
let resource: string;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    max_request_bytes: LIMIT,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
  });
  resource = `${proxy.url}/mcp`;
  core = createProxy(proxy.config, { verifier: createJwtVerifier(proxy.config.token), log: silentLogger });
});

afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});

beforeEach(() => {
  upstream.seen.length = 0;
});

const auth = async (aud = resource) => `Bearer ${await idp.sign({ aud })}`;
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(body: string, headers: Record<string, string> = {}, path = '/mcp') {
  const res = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: await auth(`${proxy.url}${path.startsWith('/mcp') ? '/mcp' : '/sse'}`),
      ...JSON_HEADERS,
      ...headers,
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const call = (params: string, id = 7) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`;
const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
const V26 = { 'mcp-protocol-version': '2026-07-28' };

type Case = [name: string, body: string, headers: Record<string, string>, code: number, id: unknown];

const P = -32700;
const R = -32600;
const I = -32602;
const H = -32020;

const cases: Case[] = [
  [
    'Method shadowing method',
    '{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call","params":{"name":"rm"}}',
    {},
    R,
    1,
  ],
  [
    'Method instead of method',
    '{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"rm"}}',
    {},
    R,
    1,
  ],
  ['METHOD upper case', '{"jsonrpc":"2.0","id":1,"METHOD":"tools/call"}', {}, R, 1],
  ['method value in another case', call('{"name":"rm"}').replace('tools/call', 'Tools/Call'), {}, R, 7],
  ['method value with a Kelvin sign', '{"jsonrpc":"2.0","id":1,"method":"tas\u212as/get"}', {}, R, 1],
  ['method with a trailing NUL', call('{"name":"rm"}').replace('tools/call', 'tools/call\\u0000'), {}, R, 7],
  ['method given twice', '{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}', {}, P, 1],
  [
    'method twice, the second escaped',
    '{"jsonrpc":"2.0","id":1,"method":"ping","\\u006dethod":"tools/call"}',
    {},
    P,
    1,
  ],
  ['id given twice', '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', {}, P, null],
  ['params.name given twice', call('{"name":"safe","name":"rm"}'), {}, P, 7],
  [
    'duplicate deep inside params.arguments',
    call('{"name":"t","arguments":{"q":[{"o":{"sql":"a","sql":"b"}}]}}'),
    {},
    P,
    7,
  ],
  [
    'duplicate __proto__ in arguments',
    call('{"name":"t","arguments":{"__proto__":{},"__proto__":{"admin":true}}}'),
    {},
    P,
    7,
  ],
  ['Name beside name in params', call('{"name":"safe","Name":"rm"}'), {}, R, 7],
  [
    'URI instead of uri',
    '{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"URI":"file:///etc/passwd"}}',
    {},
    R,
    3,
  ],
  ['ID beside id', '{"jsonrpc":"2.0","id":1,"ID":"x","method":"ping"}', {}, R, 1],
  ['batch with one bad element', `[${PING},{"jsonrpc":"2.1","id":2,"method":"tools/list"}]`, {}, R, 2],
  [
    'batch with a duplicate deep in one element',
    `[${PING},${call('{"name":"t","arguments":{"a":1,"a":2}}')}]`,
    {},
    P,
    7,
  ],
  ['batch repeating an id', `[${PING},{"jsonrpc":"2.0","id":1,"method":"tools/list"}]`, {}, R, 1],
  ['empty batch', '[]', {}, R, null],
  ['nested arrays', `[[${PING}]]`, {}, R, null],
  ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":1,"method":"ping"}', {}, R, 1],
  ['jsonrpc missing', '{"id":1,"method":"ping"}', {}, R, 1],
  ['a JSON string', '"tools/call"', {}, R, null],
  ['a JSON number', '42', {}, R, null],
  ['a byte order mark', `\ufeff${PING}`, {}, P, null],
  ['malformed JSON', '{"jsonrpc":"2.0","id":1,', {}, P, null],
  ['an empty body', '', {}, P, null],
  ['params by position', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["rm"]}', {}, R, 1],
  ['a request with a null id', '{"jsonrpc":"2.0","id":null,"method":"ping"}', {}, R, null],
  ['tools/call without a name', call('{"arguments":{}}'), {}, I, 7],
  ['tools/call without params', '{"jsonrpc":"2.0","id":7,"method":"tools/call"}', {}, I, 7],
  [
    'nesting deeper than 64',
    call(`{"name":"t","arguments":{"a":${'['.repeat(100)}${']'.repeat(100)}}}`),
    {},
    R,
    7,
  ],
  ['Mcp-Method other than the body', call('{"name":"rm"}'), { 'mcp-method': 'tools/list' }, H, 7],
  [
    'Mcp-Name other than the tool',
    call('{"name":"rm"}'),
    { ...V26, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
    H,
    7,
  ],
  ['Mcp-Name base64 of another tool', call('{"name":"rm"}'), { 'mcp-name': '=?base64?ZWNobw==?=' }, H, 7],
  ['2026-07-28 without Mcp-Name', call('{"name":"rm"}'), { ...V26, 'mcp-method': 'tools/call' }, H, 7],
  ['a batch under 2026-07-28', `[${PING}]`, V26, H, null],
  // A missing, old or unknown MCP-Protocol-Version never switches a check off.
  [
    'Method shadowing under 2024-11-05',
    '{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}',
    { 'mcp-protocol-version': '2024-11-05' },
    R,
    1,
  ],
  [
    'duplicate key under 2025-03-26',
    call('{"name":"safe","name":"rm"}'),
    { 'mcp-protocol-version': '2025-03-26' },
    P,
    7,
  ],
  [
    'Mcp-Method mismatch under 2025-06-18',
    call('{"name":"rm"}'),
    { 'mcp-protocol-version': '2025-06-18', 'mcp-method': 'ping' },
    H,
    7,
  ],
  [
    'batch with a bad element under 1999-01-01',
    `[${PING},{"jsonrpc":"2.0","id":2,"Method":"x"}]`,
    { 'mcp-protocol-version': '1999-01-01' },
    R,
    2,
  ],
  [
    'body _meta version without the header',
    `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
    {},
    H,
    1,
  ],
];

describe('hostile MCP bodies through the real proxy: 400 with a JSON-RPC error, nothing upstream', () => {
  it.each(cases)('%s', async (_name, body, headers, code, id) => {
    const res = await post(body, headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ jsonrpc: '2.0', id, error: { code } });
    expect(upstream.seen).toHaveLength(0);
  });

  it('the legacy /messages endpoint parses the same way', async () => {
    const res = await post(
      '{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}',
      {},
      '/messages?sessionId=abc',
    );
    expect(res).toMatchObject({ status: 400, body: { id: 1, error: { code: R } } });
    expect(upstream.seen).toHaveLength(0);
  });

  it('a garbage MCP-Protocol-Version is refused, not ignored', async () => {
    const res = await post(PING, { 'mcp-protocol-version': 'latest' });
    expect(res).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'invalid MCP-Protocol-Version header' },
    });
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('body size and media type', () => {
  it('a body over max_request_bytes gets 413', async () => {
    const res = await post(call(`{"name":"t","arguments":{"x":"${'a'.repeat(LIMIT)}"}}`));
    expect(res).toEqual({
      status: 413,
      body: { error: 'invalid_request', error_description: `request body larger than ${LIMIT} bytes` },
    });
    expect(upstream.seen).toHaveLength(0);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['JSON in UTF-16', { 'content-type': 'application/json; charset=utf-16' }],
    ['a JSON look-alike', { 'content-type': 'application/jsonx' }],
    // The upstream might decompress what the proxy parsed as it came (body-parser does).
    ['JSON with Content-Encoding br', { 'content-type': 'application/json', 'content-encoding': 'br' }],
    ['JSON with Content-Encoding gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ])('a POST body sent as %s gets 415', async (_name, headers) => {
    const res = await post(PING, headers);
    expect(res).toMatchObject({ status: 415, body: { id: null, error: { code: R } } });
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('through the pipeline as Web Requests', () => {
  const request = async (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request(resource, {
      method: 'POST',
      headers: { authorization: await auth(), ...JSON_HEADERS, ...headers },
      body,
      duplex: 'half',
    } as RequestInit);

  it('invalid UTF-8 is a parse error', async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode(call('{"name":"')),
      0xc3,
      0x28,
      0x22,
      0x7d,
      0x7d,
    ]);
    const res = await core(await request(bytes));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: null, error: { code: P } });
    expect(upstream.seen).toHaveLength(0);
  });

  it('a declared Content-Length over the limit is refused before the body is read', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(1024).fill(0x20));
      },
    });
    const res = await core(await request(endless, { 'content-length': String(10 * LIMIT) }));
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1); // a stream may pull once on its own; nothing was read
    expect(upstream.seen).toHaveLength(0);
  });

  it('a body without Content-Length is cut off just past the limit', async () => {
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += 1024;
        c.enqueue(new Uint8Array(1024).fill(0x20));
      },
    });
    const res = await core(await request(endless));
    expect(res.status).toBe(413);
    expect(sent).toBeLessThanOrEqual(LIMIT + 3 * 1024);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('what is forwarded', () => {
  it('a valid request goes through once, as the very bytes parsed, with Mcp-* headers unchanged', async () => {
    const body = ` {"jsonrpc":"2.0", "id":9,"method":"tools/call","params":{"name":"get_weather","arguments":{"region":"us-west1","x":"\\u00e9"}}}\n`;
    const res = await post(body, {
      ...V26,
      'mcp-method': 'tools/call',
      'mcp-name': 'get_weather',
      'mcp-param-region': 'us-west1',
      'mcp-param-unknown': '=?base64?SGVsbG8sIOS4lueVjA==?=',
    });
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    const seen = upstream.seen[0]!;
    expect(seen.body).toBe(body);
    expect(seen.headers['mcp-param-region']).toBe('us-west1');
    expect(seen.headers['mcp-param-unknown']).toBe('=?base64?SGVsbG8sIOS4lueVjA==?=');
    expect(seen.headers['mcp-name']).toBe('get_weather');
  });

  it('a DELETE is forwarded without the body it came with', async () => {
    const res = await fetch(resource, {
      method: 'DELETE',
      headers: { authorization: await auth(), ...JSON_HEADERS },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}',
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]).toMatchObject({ method: 'DELETE', body: '' });
  });
});
