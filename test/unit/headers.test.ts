/**
 * The header policy (functions/proxy/headers.ts), name by name: what never reaches the upstream
 * (hop-by-hop, credentials, proxy-set, request overrides, anything the client's Connection
 * names, identity spoofing in any spelling) and what never reaches the client (hop-by-hop, what
 * the upstream's Connection names, CORS and challenges the proxy owns, facade cookies).
 */
import { describe, expect, it } from 'vitest';
import {
  clientResponseHeaders,
  FACADE_COOKIE_PREFIXES,
  headerSafe,
  isEventStream,
  normalizeHeaderName,
  upstreamRequestHeaders,
} from '../../functions/proxy/headers.ts';

const ctx = {
  identity: { subject: 'alice', scopes: ['a'], issuer: 'https://i', claims: {} },
  identityPrefix: 'x-mcp-auth-',
  publicOrigin: 'http://127.0.0.1:8081',
};
const SET = {
  'accept-encoding': 'identity',
  'x-forwarded-host': '127.0.0.1:8081',
  'x-forwarded-proto': 'http',
  'x-mcp-auth-subject': 'alice',
  'x-mcp-auth-scopes': 'a',
  'x-mcp-auth-issuer': 'https://i',
};

const NEVER_UPSTREAM = [
  'accept-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'authorization',
  'cookie',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-forwarded-uri',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-envoy-original-path',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-host',
  'x-host',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-middleware-subrequest',
];

describe('upstreamRequestHeaders', () => {
  it.each(NEVER_UPSTREAM)('never forwards %s, in any case or underscore spelling', (name) => {
    for (const spelling of [name, name.toUpperCase(), name.replace(/-/g, '_')]) {
      const out = upstreamRequestHeaders(
        new Headers([
          [spelling, 'v'],
          ['x-keep', 'k'],
        ]),
        ctx,
      );
      // Only what the proxy sets itself may carry such a name, with the proxy's value.
      expect(out).toEqual({ 'x-keep': 'k', ...SET });
    }
  });

  it('drops every header the client’s Connection names, whatever the spelling and spacing', () => {
    const h = new Headers([
      ['connection', ' X-A ,x_b,, x-c'],
      ['x-a', '1'],
      ['x-b', '2'],
      ['x_c', '3'],
      ['x-d', '4'],
    ]);
    expect(upstreamRequestHeaders(h, ctx)).toEqual({ 'x-d': '4', ...SET });
  });

  it('sets the forwarded host and scheme of the public origin and every identity header, and asks for an uncompressed answer', () => {
    const out = upstreamRequestHeaders(new Headers(), {
      identity: { subject: 's', clientId: 'c 1', scopes: ['a', 'b'], issuer: 'https://i', claims: {} },
      identityPrefix: 'x-id-',
      publicOrigin: 'https://p.example',
    });
    expect(out).toEqual({
      'accept-encoding': 'identity',
      'x-forwarded-host': 'p.example',
      'x-forwarded-proto': 'https',
      'x-id-subject': 's',
      'x-id-client-id': 'c 1',
      'x-id-scopes': 'a b',
      'x-id-issuer': 'https://i',
    });
  });
});

describe('normalizeHeaderName and headerSafe', () => {
  it.each([
    ['X_MCP_Auth', 'x-mcp-auth'],
    ['a__b', 'a--b'],
    ['Plain', 'plain'],
  ])('normalizes %s to %s', (name, want) => {
    expect(normalizeHeaderName(name)).toBe(want);
  });

  it.each([
    ['a\u0001b', 'a%01b'],
    ['\u007f', '%7F'],
    [' ', '%20'],
    ['a  b', 'a  b'],
    ['~', '~'],
    ['!', '!'],
  ])('encodes %j as %j', (v, want) => {
    expect(headerSafe(v)).toBe(want);
  });

  it('refuses a lone surrogate', () => {
    expect(() => headerSafe('a\udc00')).toThrow(new TypeError('identity value is not well-formed Unicode'));
  });
});

describe('clientResponseHeaders', () => {
  const names = (h: Headers) => {
    const out: string[] = [];
    h.forEach((_v, k) => {
      out.push(k);
    });
    return out.sort();
  };

  it.each([
    'connection',
    'keep-alive',
    'proxy-connection',
    'proxy-authenticate',
    'proxy-authorization',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'host',
    'content-length',
    'expect',
    'access-control-allow-origin',
    'access-control-max-age',
    'www-authenticate',
  ])('never passes %s back', (name) => {
    expect(names(clientResponseHeaders({ [name]: 'v', 'X-Keep': 'k' }))).toEqual(['x-keep']);
    expect(names(clientResponseHeaders({ [name.toUpperCase()]: 'v', 'x-keep': 'k' }))).toEqual(['x-keep']);
  });

  it('drops what the upstream’s Connection names, and absent values', () => {
    const h = clientResponseHeaders({
      connection: ' X-Secret ,, other',
      'x-secret': 's',
      Other: 'o',
      'x-none': undefined,
      'x-keep': ['a', 'b'],
      vary: 'Accept',
    });
    expect(names(h)).toEqual(['vary', 'x-keep']);
    expect(h.get('x-keep')).toBe('a, b');
    expect(h.get('vary')).toBe('Accept');
    // Only Set-Cookie is read for facade cookie names.
    expect(clientResponseHeaders({ 'x-note': '__Host-mcp-consent=1' }).get('x-note')).toBe(
      '__Host-mcp-consent=1',
    );
  });

  it.each<[string, boolean]>([
    ['__Host-mcp-consent=x; Path=/; Secure', false],
    ['__host-MCP-relay-abc=x; Path=/', false],
    ['__Secure-mcp-x=1', false],
    ['=__Host-mcp-consent=x', false],
    [' = __Host-mcp-consent=x', false],
    ['  __Host-mcp-consent =x', false],
    ['__Host-mcp=1', true],
    ['__Host-other=1; Path=/', true],
    ['session=__Host-mcp-consent', true],
    ['__Host -mcp-x=1', true],
    ['lb=abc; Path=/', true],
  ])('Set-Cookie %j passes: %s', (cookie, passes) => {
    expect(clientResponseHeaders({ 'set-cookie': cookie }).getSetCookie()).toEqual(passes ? [cookie] : []);
    expect(clientResponseHeaders({ 'Set-Cookie': ['a=1', cookie] }).getSetCookie()).toEqual(
      passes ? ['a=1', cookie] : ['a=1'],
    );
  });

  it('names the facade cookie prefixes in lower case', () => {
    expect(FACADE_COOKIE_PREFIXES).toEqual(['__host-mcp-', '__secure-mcp-']);
  });
});

describe('isEventStream', () => {
  it.each<[string | null | undefined, boolean]>([
    ['text/event-stream', true],
    ['text/event-stream; charset=utf-8', true],
    ['TEXT/Event-Stream', true],
    ['text/event-streams', false],
    ['x-text/event-stream', false],
    ['application/json', false],
    [null, false],
    [undefined, false],
  ])('%j → %s', (type, want) => {
    expect(isEventStream(type)).toBe(want);
  });
});
