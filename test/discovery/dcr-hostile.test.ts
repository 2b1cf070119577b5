/**
 * Hostile registration and authorization input against the discovery function in the local
 * runner, in front of the embedded oidc-provider IdP: every refusal is the exact RFC error, and
 * nothing is created at the IdP (its registration counter does not move).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalDiscovery } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';
import { freePort } from '../helpers/net.ts';

let idp: DemoIdp;
let disc: RunningServer;

beforeAll(async () => {
  const idpPort = await freePort();
  idp = await startDemoIdp({ port: idpPort, resourcePrefixes: ['http://localhost:8080'] });
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idpPort, registration_token: idp.registrationToken },
    base_url: 'http://localhost:1',
    discovery: {
      allowed_redirect_schemes: ['cursor'],
      allowed_redirect_hosts: ['*.example', 'client.example'],
      registration_rate_per_minute: 0, // this file registers far more than a caller would
    },
  });
  disc = await startLocalDiscovery(config);
});

afterAll(async () => {
  await disc?.close();
  await idp?.close();
});

const good = {
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  token_endpoint_auth_method: 'none',
  client_name: 'ok',
};

async function register(
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await fetch(`${disc.url}/register`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /register refuses hostile metadata with the RFC 7591 §3.2.2 error, creating nothing', () => {
  const cases: [string, unknown, number, string][] = [
    ['no redirect_uris', { client_name: 'x' }, 400, 'invalid_redirect_uri'],
    ['empty redirect_uris', { redirect_uris: [] }, 400, 'invalid_redirect_uri'],
    // Codes go to the redirect host: only hosts in discovery.allowed_redirect_hosts.
    ['https host not allowed', { redirect_uris: ['https://attacker.net/cb'] }, 400, 'invalid_redirect_uri'],
    [
      'lookalike of an allowed host',
      { redirect_uris: ['https://client.example.attacker.net/cb'] },
      400,
      'invalid_redirect_uri',
    ],
    ['bare domain of a *. pattern', { redirect_uris: ['https://example/cb'] }, 400, 'invalid_redirect_uri'],
    ['redirect_uris not an array', { redirect_uris: 'https://a.example/cb' }, 400, 'invalid_redirect_uri'],
    ['javascript: scheme', { redirect_uris: ['javascript:alert(1)'] }, 400, 'invalid_redirect_uri'],
    [
      'data: scheme',
      { redirect_uris: ['data:text/html,<script>alert(1)</script>'] },
      400,
      'invalid_redirect_uri',
    ],
    ['unlisted custom scheme', { redirect_uris: ['evilapp://callback'] }, 400, 'invalid_redirect_uri'],
    ['file: scheme', { redirect_uris: ['file:///etc/passwd'] }, 400, 'invalid_redirect_uri'],
    ['fragment', { redirect_uris: ['https://client.example/cb#frag'] }, 400, 'invalid_redirect_uri'],
    ['empty fragment', { redirect_uris: ['https://client.example/cb#'] }, 400, 'invalid_redirect_uri'],
    ['http on a public host', { redirect_uris: ['http://client.example/cb'] }, 400, 'invalid_redirect_uri'],
    [
      'http on a host that only starts like loopback',
      { redirect_uris: ['http://127.0.0.1.evil.example/cb'] },
      400,
      'invalid_redirect_uri',
    ],
    [
      'http localhost lookalike',
      { redirect_uris: ['http://localhost.evil.example/cb'] },
      400,
      'invalid_redirect_uri',
    ],
    ['userinfo', { redirect_uris: ['https://user:pw@client.example/cb'] }, 400, 'invalid_redirect_uri'],
    ['relative', { redirect_uris: ['/cb'] }, 400, 'invalid_redirect_uri'],
    ['whitespace', { redirect_uris: ['https://client.example/c b'] }, 400, 'invalid_redirect_uri'],
    [
      'oversized redirect URI',
      { redirect_uris: [`https://client.example/${'a'.repeat(2100)}`] },
      400,
      'invalid_redirect_uri',
    ],
    [
      'too many redirect URIs',
      { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://c.example/${i}`) },
      400,
      'invalid_redirect_uri',
    ],
    [
      'one bad among good',
      { redirect_uris: ['https://c.example/cb', 'javascript:x'] },
      400,
      'invalid_redirect_uri',
    ],
    ['implicit grant', { ...good, grant_types: ['implicit'] }, 400, 'invalid_client_metadata'],
    [
      'client_credentials grant',
      { ...good, grant_types: ['authorization_code', 'client_credentials'] },
      400,
      'invalid_client_metadata',
    ],
    ['password grant', { ...good, grant_types: ['password'] }, 400, 'invalid_client_metadata'],
    ['refresh_token only', { ...good, grant_types: ['refresh_token'] }, 400, 'invalid_client_metadata'],
    ['response_type token', { ...good, response_types: ['token'] }, 400, 'invalid_client_metadata'],
    [
      'private_key_jwt',
      { ...good, token_endpoint_auth_method: 'private_key_jwt' },
      400,
      'invalid_client_metadata',
    ],
    ['unknown auth method', { ...good, token_endpoint_auth_method: 'magic' }, 400, 'invalid_client_metadata'],
    ['bad application_type', { ...good, application_type: 'browser' }, 400, 'invalid_client_metadata'],
    ['oversized client_name', { ...good, client_name: 'n'.repeat(201) }, 400, 'invalid_client_metadata'],
    [
      'client_name with control characters',
      { ...good, client_name: 'a\u0000b' },
      400,
      'invalid_client_metadata',
    ],
    ['non-string client_name', { ...good, client_name: { x: 1 } }, 400, 'invalid_client_metadata'],
    ['javascript: logo_uri', { ...good, logo_uri: 'javascript:alert(1)' }, 400, 'invalid_client_metadata'],
    ['malformed scope', { ...good, scope: 'a  b' }, 400, 'invalid_client_metadata'],
    [
      'too many contacts',
      { ...good, contacts: ['a@x', 'b@x', 'c@x', 'd@x', 'e@x', 'f@x'] },
      400,
      'invalid_client_metadata',
    ],
    ['array body', [good], 400, 'invalid_client_metadata'],
  ];
  it.each(cases)('%s → %i %s', async (_name, body, status, error) => {
    const before = idp.registrations();
    const r = await register(body);
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(error);
    expect(typeof r.body.error_description).toBe('string');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(idp.registrations()).toBe(before);
  });

  it('not JSON, wrong content type, oversized body → invalid_client_metadata, nothing created', async () => {
    const before = idp.registrations();
    expect((await register('{not json')).body.error).toBe('invalid_client_metadata');
    const form = await register(new URLSearchParams({ redirect_uris: 'https://c.example/cb' }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect([form.status, form.body.error]).toEqual([400, 'invalid_client_metadata']);
    const big = await register({ ...good, software_statement: 'x'.repeat(20_000) });
    expect([big.status, big.body.error]).toEqual([413, 'invalid_client_metadata']);
    expect(idp.registrations()).toBe(before);
  });

  it('GET /register → 405 with Allow', async () => {
    const res = await fetch(`${disc.url}/register`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('accepts https, loopback http on any port, [::1], a configured custom scheme and application_type; 201 echoes the metadata', async () => {
    const before = idp.registrations();
    const body = {
      redirect_uris: [
        'https://client.example/cb',
        'http://localhost:51234/cb',
        'http://[::1]:7/cb',
        'cursor://anysphere.cursor-retrieval/oauth/cb',
      ],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      client_name: 'Good client',
      scope: 'mcp:tools',
      unknown_member: 'ignored',
    };
    const r = await register(body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(idp.registrations()).toBe(before + 1);
    expect(r.body.client_id).toEqual(expect.any(String));
    expect(r.body.client_secret).toBeUndefined(); // public client
    expect(r.body.redirect_uris).toEqual(body.redirect_uris);
    expect(r.body.grant_types).toEqual(body.grant_types);
    expect(r.body.token_endpoint_auth_method).toBe('none');
    expect(r.body.application_type).toBe('native');
    expect(r.body.client_name).toBe('Good client');
    expect(r.body.unknown_member).toBeUndefined();
    expect(r.body.registration_access_token).toBeUndefined(); // IdP management handle not leaked
    expect(r.headers.get('cache-control')).toBe('no-store');
  });

  it('__proto__/constructor members are ignored (no prototype pollution), unicode names kept', async () => {
    const raw = `{"redirect_uris":["https://client.example/cb"],"token_endpoint_auth_method":"none","client_name":"Клиент ✓","__proto__":{"polluted":true,"grant_types":["implicit"]},"constructor":{"prototype":{"polluted":true}}}`;
    const r = await register(raw);
    expect(r.status).toBe(201);
    expect(r.body.client_name).toBe('Клиент ✓');
    expect(r.body.grant_types).toEqual(['authorization_code']);
    expect(r.body).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a confidential client (client_secret_basic, the RFC 7591 default) gets its IdP secret', async () => {
    const r = await register({ redirect_uris: ['https://client.example/cb'] });
    expect(r.status).toBe(201);
    expect(r.body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(r.body.client_secret).toEqual(expect.any(String));
    expect(r.body.client_secret_expires_at).toEqual(expect.any(Number));
  });
});

describe('POST /register refuses redirect URIs whose scheme or host is not in normalised form', () => {
  // Validated in parsed (WHATWG) form but registered at the IdP as the raw string: the raw text
  // must name the same host as the parsed form, or the IdP / browser may read another one.
  const cases: [string, string, string][] = [
    ['hex IPv4 loopback', 'http://0x7f000001/cb', 'http://127.0.0.1'],
    ['decimal IPv4 loopback', 'http://2130706433/cb', 'http://127.0.0.1'],
    ['short IPv4 loopback', 'http://127.1:8080/cb', 'http://127.0.0.1:8080'],
    ['octal IPv4 loopback', 'http://0177.0.0.1/cb', 'http://127.0.0.1'],
    [
      'fullwidth localhost',
      'http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/cb',
      'http://localhost',
    ],
    ['uncompressed IPv6 loopback', 'http://[0:0:0:0:0:0:0:1]/cb', 'http://[::1]'],
    ['upper-case scheme and host', 'HTTP://LOCALHOST:3000/cb', 'http://localhost:3000'],
    ['percent-encoded dot in the host', 'https://client%2eexample/cb', 'https://client.example'],
    ['explicit default port', 'https://client.example:443/cb', 'https://client.example'],
    ['IDN in Unicode', 'https://b\u00fccher.example/cb', 'https://xn--bcher-kva.example'],
    [
      'upper-case custom scheme',
      'CURSOR://anysphere.cursor-retrieval/cb',
      'cursor://anysphere.cursor-retrieval',
    ],
  ];
  it.each(cases)(
    '%s (%s) → 400 invalid_redirect_uri naming %s, nothing created',
    async (_n, uri, canonical) => {
      const before = idp.registrations();
      const r = await register({ ...good, redirect_uris: [uri] });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        error: 'invalid_redirect_uri',
        error_description: `redirect URI scheme and host must be written in normalised form ("${canonical}")`,
      });
      expect(idp.registrations()).toBe(before);
    },
  );

  it('the normalised spellings are accepted and registered unchanged', async () => {
    const uris = [
      'http://127.0.0.1/cb',
      'http://localhost:3000/cb',
      'http://[::1]/cb',
      'https://xn--bcher-kva.example/cb',
    ];
    const r = await register({ ...good, redirect_uris: uris });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.redirect_uris).toEqual(uris);
  });
});

describe('GET /authorize refuses without redirecting (400 JSON); PKCE S256 mandatory', () => {
  let clientId: string;
  const redirect = 'http://127.0.0.1:33418/callback';
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const base = () => ({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirect,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
  });

  beforeAll(async () => {
    const r = await register(good);
    clientId = r.body.client_id as string;
  });

  async function authorize(params: Record<string, string | undefined> | URLSearchParams) {
    const q =
      params instanceof URLSearchParams
        ? params
        : new URLSearchParams(
            Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
          );
    const res = await fetch(`${disc.url}/authorize?${q}`, { redirect: 'manual' });
    const text = await res.text();
    return {
      status: res.status,
      location: res.headers.get('location'),
      body: text ? JSON.parse(text) : undefined,
    };
  }

  const cases: [string, (b: Record<string, string>) => Record<string, string | undefined>, string][] = [
    [
      'missing code_challenge',
      (b) => ({ ...b, code_challenge: undefined, code_challenge_method: undefined }),
      'invalid_request',
    ],
    [
      'plain PKCE',
      (b) => ({ ...b, code_challenge: verifier, code_challenge_method: 'plain' }),
      'invalid_request',
    ],
    [
      'challenge without method (= plain)',
      (b) => ({ ...b, code_challenge_method: undefined }),
      'invalid_request',
    ],
    ['malformed challenge', (b) => ({ ...b, code_challenge: 'short' }), 'invalid_request'],
    ['response_type token', (b) => ({ ...b, response_type: 'token' }), 'unsupported_response_type'],
    ['missing response_type', (b) => ({ ...b, response_type: undefined }), 'invalid_request'],
    ['missing client_id', (b) => ({ ...b, client_id: undefined }), 'invalid_request'],
    ['missing redirect_uri', (b) => ({ ...b, redirect_uri: undefined }), 'invalid_request'],
    ['javascript: redirect_uri', (b) => ({ ...b, redirect_uri: 'javascript:alert(1)' }), 'invalid_request'],
    ['redirect_uri with fragment', (b) => ({ ...b, redirect_uri: `${redirect}#x` }), 'invalid_request'],
    [
      'http redirect_uri on a public host',
      (b) => ({ ...b, redirect_uri: 'http://evil.example/cb' }),
      'invalid_request',
    ],
    ['oversized state', (b) => ({ ...b, state: 's'.repeat(1100) }), 'invalid_request'],
    ['resource with fragment', (b) => ({ ...b, resource: 'http://localhost:8080/mcp#x' }), 'invalid_target'],
    ['malformed scope', (b) => ({ ...b, scope: 'a\u0000b' }), 'invalid_request'],
  ];
  it.each(cases)('%s → 400 %s, no redirect', async (_n, mutate, error) => {
    const r = await authorize(mutate(base()));
    expect(r.status).toBe(400);
    expect(r.location).toBeNull();
    expect(r.body.error).toBe(error);
  });

  it('a repeated parameter → 400 invalid_request (RFC 6749 §3.1)', async () => {
    const q = new URLSearchParams(base());
    q.append('redirect_uri', 'https://evil.example/cb');
    const r = await authorize(q);
    expect([r.status, r.body.error, r.location]).toEqual([400, 'invalid_request', null]);
  });

  const approved = async (params: Record<string, string>) => {
    const res = await authorizeWithConsent(`${disc.url}/authorize?${new URLSearchParams(params)}`);
    return { status: res.status, location: res.headers.get('location') };
  };

  it('a valid request → (consent) → 302 to the IdP with the parameters unchanged', async () => {
    const r = await approved({ ...base(), resource: 'http://localhost:8080/mcp', scope: 'mcp:tools' });
    expect(r.status).toBe(302);
    const u = new URL(r.location!);
    expect(u.origin).toBe(idp.issuer);
    expect(u.searchParams.get('client_id')).toBe(clientId);
    expect(u.searchParams.get('code_challenge')).toBe(challenge);
    expect(u.searchParams.get('resource')).toBe('http://localhost:8080/mcp');
  });

  it('a redirect URI that passes the facade but was not registered: the IdP refuses without redirecting', async () => {
    const r = await approved({ ...base(), redirect_uri: 'http://127.0.0.1:9/other' });
    expect(r.status).toBe(302); // the facade cannot know the registration; the IdP checks it exactly
    const res = await fetch(r.location!, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('invalid_redirect_uri');
  });
});

describe('POST /token validation before anything reaches the IdP', () => {
  const post = async (body: string, ct = 'application/x-www-form-urlencoded') => {
    const res = await fetch(`${disc.url}/token`, { method: 'POST', headers: { 'content-type': ct }, body });
    return { status: res.status, cc: res.headers.get('cache-control'), body: await res.json() };
  };
  const ok = {
    grant_type: 'authorization_code',
    code: 'c',
    redirect_uri: 'http://127.0.0.1:1/cb',
    client_id: 'x',
    code_verifier: 'v'.repeat(43),
  };
  const cases: [string, string, string, number, string][] = [
    ['JSON body', JSON.stringify(ok), 'application/json', 400, 'invalid_request'],
    ['no grant_type', new URLSearchParams({ code: 'c' }).toString(), '', 400, 'invalid_request'],
    [
      'password grant',
      new URLSearchParams({ grant_type: 'password', username: 'a', password: 'b' }).toString(),
      '',
      400,
      'unsupported_grant_type',
    ],
    [
      'client_credentials grant from a public client',
      new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      '',
      401,
      'invalid_client',
    ],
    [
      'no code_verifier',
      new URLSearchParams({ ...ok, code_verifier: '' }).toString(),
      '',
      400,
      'invalid_request',
    ],
    [
      'short code_verifier',
      new URLSearchParams({ ...ok, code_verifier: 'abc' }).toString(),
      '',
      400,
      'invalid_request',
    ],
    ['repeated code', `${new URLSearchParams(ok)}&code=d`, '', 400, 'invalid_request'],
    [
      'refresh without token',
      new URLSearchParams({ grant_type: 'refresh_token' }).toString(),
      '',
      400,
      'invalid_request',
    ],
    [
      'oversized body',
      new URLSearchParams({ ...ok, pad: 'x'.repeat(17_000) }).toString(),
      '',
      413,
      'invalid_request',
    ],
  ];
  it.each(cases)('%s → %i %s', async (_n, body, ct, status, error) => {
    const r = await post(body, ct || 'application/x-www-form-urlencoded');
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(error);
    expect(r.cc).toBe('no-store');
  });
});
