import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, headerSafe, upstreamRequestHeaders } from '../../functions/proxy/headers.ts';
import { acceptedAudiences, buildPrm, route } from '../../functions/proxy/routes.ts';
import { missingScopes } from '../../functions/proxy/scopes.ts';
import { extractBearer } from '../../functions/proxy/token.ts';
import { parseConfig } from '../../functions/shared/config.ts';
import { bearerChallenge, errorResponse, OAuthError, quote } from '../../functions/shared/errors.ts';

const cfg = parseConfig({ base_url: 'http://up', paths: { messages: '/messages' } });

describe('WWW-Authenticate', () => {
  it('quotes values per RFC 9110 and cannot be split by hostile input', () => {
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('x\r\nSet-Cookie: y')).toBe('"xSet-Cookie: y"');
    expect(
      bearerChallenge({
        includeError: false,
        resourceMetadata: 'https://p/.well-known/oauth-protected-resource/mcp',
      }),
    ).toBe('Bearer resource_metadata="https://p/.well-known/oauth-protected-resource/mcp"');
    expect(
      bearerChallenge(
        { includeError: true, scope: 'a b', resourceMetadata: 'u' },
        'insufficient_scope',
        'need "a"',
      ),
    ).toBe(
      'Bearer error="insufficient_scope", error_description="need \\"a\\"", scope="a b", resource_metadata="u"',
    );
  });

  it('never puts the internal reason on the wire', async () => {
    const res = errorResponse(
      new OAuthError(
        401,
        'invalid_token',
        'the access token is invalid',
        'kid k9 not in JWKS at https://idp/internal',
      ),
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe(
      '{"error":"invalid_token","error_description":"the access token is invalid"}',
    );
  });
});

describe('extractBearer (RFC 6750 §2)', () => {
  const q = (s = '') => new URLSearchParams(s);
  it.each([
    [null, '', { kind: 'missing' }],
    ['', '', { kind: 'missing' }],
    ['Basic abc', '', { kind: 'missing' }],
    ['Bearer abc.def-_~+/=', '', { kind: 'token', token: 'abc.def-_~+/=' }],
    ['bearer   abc', '', { kind: 'token', token: 'abc' }],
    ['Bearer', '', { kind: 'malformed', reason: 'empty bearer token' }],
    ['Bearer a b', '', { kind: 'invalid', reason: 'bearer credentials are not a single token' }],
    ['Bearer a"b', '', { kind: 'invalid', reason: 'bearer token is not b64token syntax' }],
    [null, 'access_token=x', { kind: 'query-only' }],
    [
      'Bearer x',
      'access_token=x',
      { kind: 'malformed', reason: 'token presented in both header and query string' },
    ],
  ])('%j with query %j', (header, query, expected) => {
    expect(extractBearer(header as string | null, q(query))).toEqual(expected);
  });
});

describe('routes and metadata', () => {
  it('routes MCP and PRM paths; /messages belongs to the SSE resource', () => {
    expect(route(cfg, '/mcp')).toEqual({ kind: 'mcp', transport: 'streamable', mcpPath: '/mcp' });
    expect(route(cfg, '/mcp/')).toEqual({ kind: 'mcp', transport: 'streamable', mcpPath: '/mcp' });
    expect(route(cfg, '/messages/')).toEqual({ kind: 'mcp', transport: 'messages', mcpPath: '/sse' });
    expect(route(cfg, '/mcpx')).toEqual({ kind: 'none' });
    expect(route(cfg, '/.well-known/oauth-protected-resource/sse')).toEqual({ kind: 'prm', mcpPath: '/sse' });
    expect(route(cfg, '/.well-known/oauth-protected-resource/nope')).toEqual({ kind: 'none' });
  });

  it('builds PRM without offline_access and with a configured resource identifier', () => {
    const c = parseConfig({
      base_url: 'http://up',
      protected_resource_metadata: {
        resource_identifier: 'https://api.example/mcp',
        scopes_supported: ['mcp:tools', 'offline_access'],
      },
    });
    expect(buildPrm(c, 'https://p', '/mcp')).toEqual({
      resource: 'https://api.example/mcp',
      authorization_servers: ['http://localhost:9000'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
    });
    expect(acceptedAudiences(c, 'https://p', '/mcp')).toEqual(['https://api.example/mcp']);
    expect(acceptedAudiences(cfg, 'https://p', '/sse')).toEqual(['https://p/sse']);
  });
});

describe('header policy', () => {
  const identity = {
    subject: 'ålice\r\nx: y',
    clientId: 'c',
    scopes: ['a', 'b'],
    issuer: 'https://i',
    claims: {},
  };
  it('drops credentials, hop-by-hop and Connection-named headers; encodes unsafe identity values', () => {
    const h = new Headers({
      authorization: 'Bearer t',
      cookie: 'c=1',
      connection: 'x-drop',
      'x-drop': '1',
      te: 'trailers',
      'x-keep': 'k',
      'x-mcp-auth-admin': 'true',
    });
    const out = upstreamRequestHeaders(h, {
      identity,
      identityPrefix: 'x-mcp-auth-',
      publicOrigin: 'https://p.example',
    });
    expect(out).toEqual({
      'x-keep': 'k',
      'x-forwarded-host': 'p.example',
      'x-forwarded-proto': 'https',
      'x-mcp-auth-subject': headerSafe('ålice\r\nx: y'),
      'x-mcp-auth-client-id': 'c',
      'x-mcp-auth-scopes': 'a b',
      'x-mcp-auth-issuer': 'https://i',
    });
    expect(out['x-mcp-auth-subject']).not.toMatch(/[\r\n]/);
  });

  it('keeps repeated upstream response headers and drops hop-by-hop ones', () => {
    const h = clientResponseHeaders({
      'set-cookie': ['a=1', 'b=2'],
      'transfer-encoding': 'chunked',
      'mcp-session-id': 's',
      'content-length': '5',
    });
    expect(h.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(h.get('transfer-encoding')).toBeNull();
    expect(h.get('content-length')).toBeNull();
    expect(h.get('mcp-session-id')).toBe('s');
  });

  it('lists every missing scope', () => {
    expect(missingScopes(['a', 'b', 'c'], ['b'])).toEqual(['a', 'c']);
    expect(missingScopes([], [])).toEqual([]);
  });
});
