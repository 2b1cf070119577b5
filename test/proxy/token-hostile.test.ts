/**
 * Hostile tokens against the real proxy handler behind the local Function URL emulation:
 * each is refused with 401 and the exact challenge, and the upstream never sees a request.
 */
import { createHmac } from 'node:crypto';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { sleep } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;
let resource: string;
let prm: string;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { jwks_cooldown_seconds: 1 },
  });
  resource = `${proxy.url}/mcp`;
  prm = `${proxy.url}/.well-known/oauth-protected-resource/mcp`;
});

afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});

const post = (headers: Record<string, string> = {}, query = '') =>
  fetch(`${proxy.url}/mcp${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });

const invalidChallenge = () =>
  `Bearer error="invalid_token", error_description="the access token is invalid", resource_metadata="${prm}"`;

describe('bearer token verification', () => {
  it('accepts a valid token and forwards the request', async () => {
    const token = await idp.sign({ aud: resource });
    const res = await post({ authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(upstream.seen).toHaveLength(1);
    upstream.seen.length = 0;
  });

  const hostile: [string, () => Promise<Record<string, string>>, string?][] = [
    ['no token at all', async () => ({})],
    [
      'expired',
      async () => ({
        authorization: `Bearer ${await idp.sign({ aud: resource, exp: Math.floor(Date.now() / 1000) - 120 })}`,
      }),
    ],
    [
      'nbf in the future',
      async () => ({
        authorization: `Bearer ${await idp.sign({ aud: resource, nbf: Math.floor(Date.now() / 1000) + 600 })}`,
      }),
    ],
    [
      'iat ten years in the future',
      async () => ({
        authorization: `Bearer ${await idp.sign({ aud: resource, iat: Math.floor(Date.now() / 1000) + 10 * 365 * 86400 })}`,
      }),
    ],
    [
      'wrong iss',
      async () => ({
        authorization: `Bearer ${await idp.sign({ aud: resource, iss: 'https://evil.example' })}`,
      }),
    ],
    [
      'wrong aud',
      async () => ({ authorization: `Bearer ${await idp.sign({ aud: 'https://other.example/mcp' })}` }),
    ],
    ['aud missing', async () => ({ authorization: `Bearer ${await idp.sign({})}` })],
    [
      'aud of another MCP path on this proxy',
      async () => ({ authorization: `Bearer ${await idp.sign({ aud: `${proxy.url}/sse` })}` }),
    ],
    [
      'alg none',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return {
          authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: resource, sub: 'x', exp: now + 300 })}.`,
        };
      },
    ],
    [
      'HS256 signed with the public key',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        const pem = await jose.exportSPKI((await jose.importJWK(idp.publicJwk, 'RS256')) as jose.CryptoKey);
        const input = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64({ iss: idp.issuer, aud: resource, sub: 'x', exp: now + 300 })}`;
        const sig = createHmac('sha256', pem).update(input).digest('base64url');
        return { authorization: `Bearer ${input}.${sig}` };
      },
    ],
    [
      'unknown kid',
      async () => ({
        authorization: `Bearer ${await idp.sign({ aud: resource }, { kid: 'nope' }, idp.strangerKey)}`,
      }),
    ],
    [
      'forged signature (known kid, other key)',
      async () => ({ authorization: `Bearer ${await idp.sign({ aud: resource }, {}, idp.strangerKey)}` }),
    ],
    ['malformed', async () => ({ authorization: 'Bearer not.a.jwt' })],
    ['garbage segments', async () => ({ authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.@@@.###' })],
    [
      'no sub claim',
      async () => ({ authorization: `Bearer ${await idp.sign({ aud: resource, sub: undefined })}` }),
    ],
    ['other scheme (Basic)', async () => ({ authorization: 'Basic YWxpY2U6c2VjcmV0' })],
    // RFC 9068 §4: a JWT of another type from the same issuer is not an access token.
    ...(['logout+jwt', 'secevent+jwt', 'id_token+jwt', 'dpop+jwt', 'JOSE', '', 7] as const).map(
      (typ) =>
        [
          `typ ${JSON.stringify(typ)} (not an access token type)`,
          async () => ({
            authorization: `Bearer ${await idp.sign({ aud: resource }, { typ } as never)}`,
          }),
        ] as [string, () => Promise<Record<string, string>>],
    ),
  ];

  for (const [name, headers] of hostile) {
    it(`refuses ${name} with 401 and nothing reaches the upstream`, async () => {
      const h = await headers();
      const res = await post(h);
      expect(res.status).toBe(401);
      const presented = Boolean(h.authorization?.startsWith('Bearer '));
      expect(res.headers.get('www-authenticate')).toBe(
        presented ? invalidChallenge() : `Bearer resource_metadata="${prm}"`,
      );
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.json();
      expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
      expect(JSON.stringify(body)).not.toMatch(/JWT|JWS|kid|exp|signature/i);
      expect(upstream.seen).toHaveLength(0);
    });
  }

  for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', 'jwt', undefined]) {
    it(`accepts an access token with typ ${JSON.stringify(typ) ?? 'absent'}`, async () => {
      upstream.seen.length = 0;
      const token = await idp.sign({ aud: resource }, { typ });
      const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
      expect(header.typ).toBe(typ); // really signed with that typ (or none)
      const res = await post({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      expect(upstream.seen).toHaveLength(1);
      upstream.seen.length = 0;
    });
  }

  it('refuses a token only in the query string with the bare challenge', async () => {
    const token = await idp.sign({ aud: resource });
    const res = await post({}, `?access_token=${token}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${prm}"`);
    expect(upstream.seen).toHaveLength(0);
  });

  it('refuses a token in both header and query string with 400', async () => {
    const token = await idp.sign({ aud: resource });
    const res = await post({ authorization: `Bearer ${token}` }, `?access_token=${token}`);
    expect(res.status).toBe(400);
    expect(upstream.seen).toHaveLength(0);
  });

  it('re-fetches the JWKS for a rotated key, but not for every unknown kid', async () => {
    await sleep(1100); // past the cooldown since the last fetch
    const before = idp.jwksFetches();
    const { kid, key } = await idp.rotate();
    const res = await post({ authorization: `Bearer ${await idp.sign({ aud: resource }, { kid }, key)}` });
    expect(res.status).toBe(200);
    expect(idp.jwksFetches()).toBe(before + 1);
    // A burst of unknown kids right after a refresh is answered from cache (cooldown).
    for (let i = 0; i < 5; i++) {
      const r = await post({
        authorization: `Bearer ${await idp.sign({ aud: resource }, { kid: `bogus-${i}` }, idp.strangerKey)}`,
      });
      expect(r.status).toBe(401);
    }
    expect(idp.jwksFetches()).toBe(before + 1);
    upstream.seen.length = 0;
  });
});

describe('token.accepted_types', () => {
  it('narrows the accepted typ values (strict RFC 9068: only at+jwt)', async () => {
    const strict = await startProxy({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      token: { accepted_types: ['application/at+jwt'], audience: ['strict'] },
    });
    try {
      const send = async (typ?: string) =>
        (
          await fetch(`${strict.url}/mcp`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${await idp.sign({ aud: 'strict' }, { typ })}`,
              'content-type': 'application/json',
            },
            body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
          })
        ).status;
      expect(await send('at+jwt')).toBe(200);
      expect(await send('JWT')).toBe(401);
      expect(await send(undefined)).toBe(401); // strict: a token without typ could be an ID token
    } finally {
      upstream.seen.length = 0;
      await strict.close();
    }
  });
});
