import { describe, expect, it } from 'vitest';
import { httpsHostAllowed } from '../../functions/discovery/redirect-uri.ts';
import { clientResponseHeaders, headerSafe, upstreamRequestHeaders } from '../../functions/proxy/headers.ts';
import { acceptedAudiences, buildPrm, route } from '../../functions/proxy/routes.ts';
import { missingScopes } from '../../functions/proxy/scopes.ts';
import { extractBearer, identityOf, TokenRejected, typAccepted } from '../../functions/proxy/token.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
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
      new OAuthError({
        status: 401,
        code: 'invalid_token',
        description: 'the access token is invalid',
        reason: 'kid k9 not in JWKS at https://idp/internal',
      }),
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
    expect(route(cfg, '/messages')).toEqual({ kind: 'mcp', transport: 'messages', mcpPath: '/sse' });
    expect(route(cfg, '/sse/')).toEqual({ kind: 'mcp', transport: 'sse', mcpPath: '/sse' });
    expect(route(cfg, '/mcpx')).toEqual({ kind: 'none' });
    expect(route(cfg, '/.well-known/oauth-protected-resource/sse')).toEqual({ kind: 'prm', mcpPath: '/sse' });
    expect(route(cfg, '/.well-known/oauth-protected-resource/nope')).toEqual({ kind: 'none' });
  });

  it.each([
    '/messages/anything',
    '/messages/..%2Fadmin',
    '/messages/%2e%2e/admin',
    '/messages//',
    '/messagesx',
    '/mcp/tools',
    '/mcp//',
    '/mcp/..%2F..%2Fadmin',
    '/sse/x',
    '/MCP',
  ])('does not route %s (only exact MCP paths are forwarded)', (path) => {
    expect(route(cfg, path)).toEqual({ kind: 'none' });
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
      'accept-encoding': 'identity',
      'x-forwarded-host': 'p.example',
      'x-forwarded-proto': 'https',
      'x-mcp-auth-subject': '%C3%A5lice%0D%0Ax: y',
      'x-mcp-auth-client-id': 'c',
      'x-mcp-auth-scopes': 'a b',
      'x-mcp-auth-issuer': 'https://i',
    });
    expect(out['x-mcp-auth-subject']).not.toMatch(/[\r\n]/);
  });

  const forward = (h: Headers) =>
    upstreamRequestHeaders(h, {
      identity: { subject: 'alice', scopes: [], issuer: 'https://i', claims: {} },
      identityPrefix: 'x-mcp-auth-',
      publicOrigin: 'https://p.example',
    });

  it('drops identity-prefixed headers in any case/underscore spelling (CGI/WSGI fold _ into -)', () => {
    const h = new Headers([
      ['x_mcp_auth_subject', 'admin'],
      ['x-mcp-auth_subject', 'root'],
      ['X_MCP-AUTH-SUBJECT', 'eve'],
      ['x-mcp_auth-role', 'admin'],
      ['X_Mcp_Auth_Issuer', 'https://evil'],
      ['x-mcp-authx', 'kept: not the prefix'],
      ['x_custom_thing', 'kept'],
    ]);
    const out = forward(h);
    expect(out).toEqual({
      'x-mcp-authx': 'kept: not the prefix',
      x_custom_thing: 'kept',
      'accept-encoding': 'identity',
      'x-forwarded-host': 'p.example',
      'x-forwarded-proto': 'https',
      'x-mcp-auth-subject': 'alice',
      'x-mcp-auth-scopes': '',
      'x-mcp-auth-issuer': 'https://i',
    });
  });

  it('drops headers whose normalised name is hop-by-hop, a credential, or set by the proxy', () => {
    const h = new Headers([
      ['proxy_authorization', 'Basic x'],
      ['Transfer_Encoding', 'chunked'],
      ['x_forwarded_host', 'evil.example'],
      ['X_Forwarded_Proto', 'http'],
      ['connection', 'x_secret'],
      ['x-secret', 'named by Connection with an underscore'],
      ['x-keep', 'k'],
      ['Accept_Encoding', 'gzip'],
    ]);
    // `authorization`/`cookie` with `_` variants can't exist (no `_` in them); a Headers object
    // keeps `Authorization` under its lowercase name, covered above.
    const out = forward(h);
    expect(Object.keys(out).sort()).toEqual([
      'accept-encoding',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-keep',
      'x-mcp-auth-issuer',
      'x-mcp-auth-scopes',
      'x-mcp-auth-subject',
    ]);
    expect(out['x-forwarded-host']).toBe('p.example');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['accept-encoding']).toBe('identity');
  });

  it('encodes identity values reversibly: distinct claims never give the same header', () => {
    const cases: [string, string][] = [
      ['alice', 'alice'],
      ['a b', 'a b'],
      ['é', '%C3%A9'],
      ['%C3%A9', '%25C3%25A9'],
      ['100%', '100%25'],
      [' alice', '%20alice'],
      ['alice ', 'alice%20'],
      ['a\tb', 'a%09b'],
      ['x\r\nSet-Cookie: y', 'x%0D%0ASet-Cookie: y'],
      ['😀', '%F0%9F%98%80'],
      ['https://i.example/t?x=1&y', 'https://i.example/t?x=1&y'],
    ];
    for (const [claim, header] of cases) {
      expect(headerSafe(claim)).toBe(header);
      expect(decodeURIComponent(header)).toBe(claim);
      expect(header).toMatch(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/);
    }
    expect(() => headerSafe('a\ud800')).toThrow(TypeError);
  });

  it('refuses claims that cannot be carried in a header (lone surrogates)', () => {
    const base = { iss: 'https://i', sub: 'alice' };
    expect(() => identityOf({ ...base, sub: 'a\ud800' }, 60)).toThrow(TokenRejected);
    expect(() => identityOf({ ...base, client_id: '\udc00' }, 60)).toThrow(TokenRejected);
    expect(() => identityOf({ ...base, scope: 'ok \ud800x' }, 60)).toThrow(TokenRejected);
    expect(identityOf({ ...base, sub: '😀' }, 60).subject).toBe('😀');
  });

  it.each([
    ['issued now', 0, true],
    ['issued within the clock skew ahead', 59, true],
    ['issued beyond the clock skew ahead', 61, false],
    ['issued ten years ahead', 10 * 365 * 86400, false],
    ['issued an hour ago', -3600, true],
  ])('iat %s', (_name, ahead, ok) => {
    const now = 1_800_000_000_000;
    const claims = { iss: 'https://i', sub: 'alice', iat: now / 1000 + ahead };
    if (ok) expect(identityOf(claims, 60, now).subject).toBe('alice');
    else expect(() => identityOf(claims, 60, now)).toThrow(/iat/);
  });

  it('iat that is not a number is refused', () => {
    expect(() => identityOf({ iss: 'https://i', sub: 'a', iat: '1' as unknown as number }, 60)).toThrow(
      /iat/,
    );
  });

  it('strips upstream CORS and WWW-Authenticate (the proxy owns both), keeps the rest', () => {
    const h = clientResponseHeaders({
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-secret',
      'access-control-allow-headers': 'authorization',
      'www-authenticate': 'Basic realm="upstream"',
      'content-type': 'application/json',
      vary: 'Accept',
      'x-upstream': 'yes',
    });
    const names: string[] = [];
    h.forEach((_v, k) => {
      names.push(k);
    });
    expect(names.sort()).toEqual(['content-type', 'vary', 'x-upstream']);
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

describe('JWT typ (RFC 9068 §2.1, §4; RFC 7515 §4.1.9)', () => {
  it.each([
    [undefined, true],
    ['at+jwt', true],
    ['AT+JWT', true],
    ['application/at+jwt', true],
    ['Application/AT+JWT', true],
    ['JWT', true],
    ['jwt', true],
    ['application/jwt', true],
    ['logout+jwt', false],
    ['secevent+jwt', false],
    ['id_token+jwt', false],
    ['JOSE', false],
    ['JOSE+JSON', false],
    ['dpop+jwt', false],
    ['at+jwt ', false],
    ['', false],
    [null, false],
    [1, false],
    [['at+jwt'], false],
  ])('typ %j accepted: %s', (typ, ok) => {
    expect(typAccepted(typ)).toBe(ok);
  });
});

describe('https redirect host allow-list', () => {
  it.each([
    ['claude.ai', ['claude.ai'], true],
    ['CLAUDE.ai', ['claude.ai'], true],
    ['evil-claude.ai', ['claude.ai'], false],
    ['claude.ai.evil.com', ['claude.ai'], false],
    ['insiders.vscode.dev', ['*.vscode.dev'], true],
    ['vscode.dev', ['*.vscode.dev'], false],
    ['xvscode.dev', ['*.vscode.dev'], false],
    ['anything.example', ['*'], true],
    ['anything.example', [], false],
  ] as const)('%s with %j → %s', (host, list, ok) => {
    expect(httpsHostAllowed(host, list)).toBe(ok);
  });
});
