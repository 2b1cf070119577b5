/**
 * The `oidc` provider and the facade against a scriptable IdP speaking the real HTTP protocol on
 * loopback (metadata, registration, token endpoints), through the discovery function's real
 * handler in the local runner: the original's recipe keys (`path_mapping`, `default.path.*`
 * response / addQueryParams / addBodyParams), metadata discovery with the issuer check, the
 * registration initial access token, CORS, and IdP failures mapped to OAuth errors.
 */
import type http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalDiscovery } from '../../bin/local/runner.ts';
import { createDiscovery } from '../../functions/discovery/index.ts';
import { createOidcProvider } from '../../functions/discovery/providers/oidc.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { silentLogger } from '../../functions/shared/log.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';
import { freePort, serve, type TestServer } from '../helpers/net.ts';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = { status: number; body?: unknown; type?: string } | 'hang' | 'reset';

let idp: TestServer;
const seen: Seen[] = [];
let routes: Record<string, (s: Seen) => Reply> = {};
const servers: RunningServer[] = [];

beforeAll(async () => {
  idp = await serve(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const s: Seen = {
      method: req.method ?? '',
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    seen.push(s);
    const r = routes[`${s.method} ${s.path}`]?.(s) ?? { status: 404, body: { error: 'not_found' } };
    if (r === 'hang') return;
    if (r === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(r.status, { 'content-type': r.type ?? 'application/json' });
    res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {}));
  });
});

afterEach(async () => {
  seen.length = 0;
  routes = {};
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await idp?.close();
});

async function start(raw: Record<string, unknown>) {
  const port = await freePort();
  const config = parseConfig({
    base_url: 'http://localhost:1',
    ...raw,
    discovery: { allowed_redirect_hosts: ['*.example'], ...(raw.discovery as object | undefined) },
  });
  const s = await startLocalDiscovery(config, { port });
  servers.push(s);
  return s.url;
}

/** The original Auth0 recipe (docs/integrations/Auth0.md of the Go proxy), pointed at the local IdP. */
function auth0Recipe() {
  return {
    path_mapping: { '/token': '/oauth/token', '/register': '/oidc/register' },
    default: {
      base_url: idp.url,
      jwks_url: `${idp.url}/.well-known/jwks.json`,
      path: {
        '/.well-known/oauth-authorization-server': {
          response: {
            issuer: `${idp.url}/`,
            jwks_uri: `${idp.url}/.well-known/jwks.json`,
            authorization_endpoint: `${idp.url}/authorize?audience=mcp_proxy`,
            response_types_supported: ['code'],
            grant_types_supported: ['authorization_code', 'refresh_token'],
            code_challenge_methods_supported: ['S256', 'plain'],
            scopes_supported: ['openid', 'mcp:tools'],
            service_documentation: 'https://docs.example/mcp',
          },
        },
        '/authorize': { addQueryParams: [{ name: 'prompt', value: 'login' }] },
        '/token': { addBodyParams: [{ name: 'audience', value: 'mcp_proxy' }] },
      },
    },
  };
}

const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const verifier = 'dBjftJeZ4CVP-mJ92K1ubyU4f4dBw7WI13lUjGmkFfr';

describe('original recipe keys (Auth0 shape)', () => {
  it('metadata: facade issuer and endpoints; static response adds documentation members but cannot weaken PKCE or move endpoints', async () => {
    const url = await start(auth0Recipe());
    const doc = await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json();
    expect(doc.issuer).toBe(url);
    expect(doc.authorization_endpoint).toBe(`${url}/authorize`);
    expect(doc.token_endpoint).toBe(`${url}/token`);
    expect(doc.registration_endpoint).toBe(`${url}/register`);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.response_types_supported).toEqual(['code']);
    expect(doc.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    expect(doc.token_endpoint_auth_methods_supported).toEqual([
      'none',
      'client_secret_basic',
      'client_secret_post',
    ]);
    expect(doc.scopes_supported).toEqual(['openid', 'mcp:tools']);
    expect(doc.service_documentation).toBe('https://docs.example/mcp');
    expect(doc.jwks_uri).toBe(`${idp.url}/.well-known/jwks.json`);
    expect(doc).not.toHaveProperty('client_id_metadata_document_supported');
    expect(seen).toEqual([]); // static recipe: no IdP call needed to publish metadata
  });

  it('authorize: 302 to the configured IdP endpoint keeping its query, injected params win over the client', async () => {
    const url = await start(auth0Recipe());
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'c1',
      redirect_uri: 'http://127.0.0.1:5000/cb',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'xyz',
      audience: 'attacker-api',
      prompt: 'none',
      resource: 'https://mcp.example/mcp',
    });
    const res = await authorizeWithConsent(`${url}/authorize?${q}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const loc = new URL(res.headers.get('location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe(`${idp.url}/authorize`);
    expect(loc.searchParams.getAll('audience')).toEqual(['mcp_proxy']);
    expect(loc.searchParams.getAll('prompt')).toEqual(['login']);
    for (const k of [
      'client_id',
      'redirect_uri',
      'code_challenge',
      'code_challenge_method',
      'state',
      'resource',
    ]) {
      expect(loc.searchParams.get(k)).toBe(q.get(k));
    }
  });

  it('token: forwarded to the mapped path with injected body params and the client credentials; response no-store', async () => {
    routes['POST /oauth/token'] = () => ({
      status: 200,
      body: { access_token: 'at', token_type: 'Bearer', expires_in: 60 },
    });
    const url = await start(auth0Recipe());
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'abc',
      redirect_uri: 'http://127.0.0.1:5000/cb',
      code_verifier: verifier,
      audience: 'other',
    });
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('c1:s1').toString('base64')}` },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ access_token: 'at', token_type: 'Bearer', expires_in: 60 });
    expect(seen).toHaveLength(1);
    const sent = new URLSearchParams(seen[0]!.body);
    expect(sent.getAll('audience')).toEqual(['mcp_proxy']);
    expect(sent.get('code_verifier')).toBe(verifier);
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('c1:s1').toString('base64')}`);
  });

  it('register: forwarded as the validated metadata only (unknown members dropped), IdP client returned with 201', async () => {
    routes['POST /oidc/register'] = (s) => ({
      status: 201,
      body: {
        ...JSON.parse(s.body),
        client_id: 'idp-client-1',
        registration_access_token: 'rat',
        registration_client_uri: `${idp.url}/x`,
      },
    });
    const url = await start(auth0Recipe());
    const res = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://localhost:3000/cb'],
        token_endpoint_auth_method: 'none',
        jwks: { keys: [] },
        extra: 1,
      }),
    });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.client_id).toBe('idp-client-1');
    expect(body).not.toHaveProperty('registration_access_token');
    expect(body).not.toHaveProperty('registration_client_uri');
    expect(JSON.parse(seen[0]!.body)).toEqual({
      redirect_uris: ['http://localhost:3000/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });
});

describe('metadata discovery from default.base_url', () => {
  const discovered = () => ({
    issuer: idp.url,
    authorization_endpoint: `${idp.url}/oauth2/auth`,
    token_endpoint: `${idp.url}/oauth2/token`,
    registration_endpoint: `${idp.url}/oauth2/register`,
  });

  it('uses the IdP discovery document (fetched once) for authorize and register', async () => {
    routes['GET /.well-known/openid-configuration'] = () => ({ status: 200, body: discovered() });
    routes['POST /oauth2/register'] = () => ({
      status: 201,
      body: { client_id: 'k1', redirect_uris: ['https://c.example/cb'] },
    });
    const url = await start({ provider: 'oidc', default: { base_url: idp.url } });
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'k1',
      redirect_uri: 'https://c.example/cb',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const a = await authorizeWithConsent(`${url}/authorize?${q}`);
    expect(a.headers.get('location')).toMatch(new RegExp(`^${idp.url}/oauth2/auth\\?`));
    const r = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://c.example/cb'] }),
    });
    expect(r.status).toBe(201);
    expect(seen.filter((s) => s.path === '/.well-known/openid-configuration')).toHaveLength(1);
  });

  it('refuses IdP metadata whose issuer differs (RFC 8414 §3.3): 503, no redirect', async () => {
    routes['GET /.well-known/openid-configuration'] = () => ({
      status: 200,
      body: { ...discovered(), issuer: 'https://attacker.example' },
    });
    const url = await start({ provider: 'oidc', default: { base_url: idp.url } });
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'k1',
      redirect_uri: 'https://c.example/cb',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const a = await authorizeWithConsent(`${url}/authorize?${q}`);
    expect(a.status).toBe(503);
    expect(a.headers.get('location')).toBeNull();
    const body = await a.json();
    expect(body.error).toBe('temporarily_unavailable');
    expect(JSON.stringify(body)).not.toContain('attacker');
  });

  it('an IdP without a registration endpoint: /register answers a JSON error, never a redirect or a crash', async () => {
    const { registration_endpoint: _, ...noReg } = discovered();
    routes['GET /.well-known/openid-configuration'] = () => ({ status: 200, body: noReg });
    const url = await start({ provider: 'oidc', default: { base_url: idp.url } });
    const r = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://c.example/cb'] }),
    });
    expect(r.status).toBe(501);
    expect((await r.json()).error).toBe('server_error');
  });

  it('with default.client_id/client_secret, registration carries a client_credentials bearer token (initial access token)', async () => {
    routes['GET /.well-known/openid-configuration'] = () => ({ status: 200, body: discovered() });
    routes['POST /oauth2/token'] = () => ({
      status: 200,
      body: { access_token: 'iat-123', token_type: 'Bearer', expires_in: 300 },
    });
    routes['POST /oauth2/register'] = () => ({ status: 201, body: { client_id: 'k2' } });
    const url = await start({
      provider: 'oidc',
      default: { base_url: idp.url, client_id: 'registrar', client_secret: 'shh' },
    });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://c.example/cb'] }),
      });
      expect(r.status).toBe(201);
    }
    const tokenCalls = seen.filter((s) => s.path === '/oauth2/token');
    expect(tokenCalls).toHaveLength(1); // cached
    expect(tokenCalls[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('registrar:shh').toString('base64')}`,
    );
    expect(new URLSearchParams(tokenCalls[0]!.body).get('grant_type')).toBe('client_credentials');
    const regs = seen.filter((s) => s.path === '/oauth2/register');
    expect(regs.map((s) => s.headers.authorization)).toEqual(['Bearer iat-123', 'Bearer iat-123']);
  });
});

describe('IdP failures become OAuth errors, never a bare 500', () => {
  const recipe = () => ({
    path_mapping: { '/authorize': '/a', '/token': '/t', '/register': '/r' },
    default: { base_url: idp.url },
  });
  const tokenForm = () =>
    new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: 'http://127.0.0.1:1/cb',
      code_verifier: verifier,
      client_id: 'x',
    });
  const reg = () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['https://c.example/cb'] }),
  });

  const tokenCases: [string, Reply, number, string][] = [
    [
      'IdP 500 HTML',
      { status: 500, body: '<html>oops</html>', type: 'text/html' },
      503,
      'temporarily_unavailable',
    ],
    [
      'IdP 200 HTML',
      { status: 200, body: '<html>login</html>', type: 'text/html' },
      503,
      'temporarily_unavailable',
    ],
    [
      'IdP 200 JSON without access_token',
      { status: 200, body: { hello: 1 } },
      503,
      'temporarily_unavailable',
    ],
    ['IdP connection reset', 'reset', 503, 'temporarily_unavailable'],
    [
      'IdP invalid_grant',
      { status: 400, body: { error: 'invalid_grant', error_description: 'code expired' } },
      400,
      'invalid_grant',
    ],
    ['IdP invalid_client 401', { status: 401, body: { error: 'invalid_client' } }, 401, 'invalid_client'],
  ];
  it.each(tokenCases)('token: %s → %i %s', async (_n, reply, status, error) => {
    routes['POST /t'] = () => reply;
    const url = await start(recipe());
    const res = await fetch(`${url}/token`, { method: 'POST', body: tokenForm() });
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body.error).toBe(error);
    expect(JSON.stringify(body)).not.toMatch(/oops|login|ECONNRESET|localhost/);
  });

  it('token: IdP unreachable (closed port) → 503 temporarily_unavailable with Retry-After', async () => {
    const dead = await freePort();
    const url = await start({
      path_mapping: { '/authorize': '/a', '/token': '/t', '/register': '/r' },
      default: { base_url: `http://127.0.0.1:${dead}` },
    });
    const res = await fetch(`${url}/token`, { method: 'POST', body: tokenForm() });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await res.json()).error).toBe('temporarily_unavailable');
  });

  it('token: IdP never answers → 503 temporarily_unavailable after the IdP timeout', async () => {
    routes['POST /t'] = () => 'hang';
    const config = parseConfig({ base_url: 'http://localhost:1', ...recipe() });
    const core = createDiscovery(config, {
      provider: createOidcProvider(config, { secrets: { resolve: async () => '' } }),
      idpTimeoutMs: 300,
      log: silentLogger,
    });
    const started = Date.now();
    const res = await core(new Request('http://localhost:1/token', { method: 'POST', body: tokenForm() }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(503);
    expect((await res.json()).error).toBe('temporarily_unavailable');
  });

  const regCases: [string, Reply, number, string][] = [
    ['IdP 503', { status: 503, body: 'down', type: 'text/plain' }, 503, 'temporarily_unavailable'],
    ['IdP reset', 'reset', 503, 'temporarily_unavailable'],
    [
      'IdP invalid_redirect_uri',
      { status: 400, body: { error: 'invalid_redirect_uri', error_description: 'no' } },
      400,
      'invalid_redirect_uri',
    ],
    ['IdP odd error code', { status: 400, body: { error: 'weird' } }, 400, 'invalid_client_metadata'],
    [
      'IdP 401 (registration not authorized)',
      { status: 401, body: { error: 'invalid_token' } },
      502,
      'server_error',
    ],
    ['IdP 201 without client_id', { status: 201, body: { redirect_uris: [] } }, 502, 'server_error'],
  ];
  it.each(regCases)('register: %s → %i %s', async (_n, reply, status, error) => {
    routes['POST /r'] = () => reply;
    const url = await start(recipe());
    const res = await fetch(`${url}/register`, reg());
    expect(res.status).toBe(status);
    expect((await res.json()).error).toBe(error);
  });
});

describe('URLs, methods and CORS', () => {
  const cfg = (base?: string) => ({
    path_mapping: { '/authorize': '/a', '/token': '/t', '/register': '/r' },
    default: { base_url: idp.url },
    cors: { allowed_origins: ['https://app.example'] },
    ...(base ? { discovery: { base_url: base } } : {}),
  });

  it('issuer without a path: metadata at both root well-known URLs, nothing elsewhere', async () => {
    const url = await start(cfg());
    for (const p of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const res = await fetch(`${url}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect((await res.json()).issuer).toBe(url);
    }
    for (const p of [
      '/.well-known/oauth-authorization-server/x',
      '/x/.well-known/openid-configuration',
      '/',
      '/mcp',
    ]) {
      expect((await fetch(`${url}${p}`)).status, p).toBe(404);
    }
    expect((await fetch(`${url}/.well-known/openid-configuration`, { method: 'POST' })).status).toBe(405);
    const pre = await fetch(`${url}/.well-known/oauth-authorization-server`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
  });

  it('issuer with a path (discovery.base_url): all three 2025-11-25 URLs; endpoints under the path and at the root (2025-03-26)', async () => {
    const port = await freePort();
    const issuer = `http://localhost:${port}/tenant/a`;
    const config = parseConfig({
      base_url: 'http://localhost:1',
      ...cfg(issuer),
      discovery: { base_url: issuer, allowed_redirect_hosts: ['*.example'] },
    });
    const s = await startLocalDiscovery(config, { port });
    servers.push(s);
    const o = `http://localhost:${port}`;
    for (const p of [
      '/.well-known/oauth-authorization-server/tenant/a',
      '/.well-known/openid-configuration/tenant/a',
      '/tenant/a/.well-known/openid-configuration',
    ]) {
      const doc = await (await fetch(`${o}${p}`)).json();
      expect(doc.issuer, p).toBe(issuer);
      expect(doc.authorization_endpoint).toBe(`${issuer}/authorize`);
    }
    expect((await fetch(`${o}/.well-known/oauth-authorization-server`)).status).toBe(404);
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'k',
      redirect_uri: 'https://c.example/cb',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    for (const p of ['/tenant/a/authorize', '/authorize']) {
      const res = await authorizeWithConsent(`${o}${p}?${q}`);
      expect(res.status, p).toBe(302);
    }
  });

  it('/register and /token: only configured browser origins, never a wildcard', async () => {
    routes['POST /r'] = () => ({ status: 201, body: { client_id: 'k' } });
    const url = await start(cfg());
    const init = (origin: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ redirect_uris: ['https://c.example/cb'] }),
    });
    const bad = await fetch(`${url}/register`, init('https://evil.example'));
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const good = await fetch(`${url}/register`, init('https://app.example'));
    expect(good.status).toBe(201);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const pre = await fetch(`${url}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(seen.filter((s) => s.path === '/r')).toHaveLength(1);
  });
});
