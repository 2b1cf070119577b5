/**
 * Faults at the IdP's key set, through the real proxy handler behind the local Function URL
 * emulation, with a real JWKS server on loopback that goes down (503 or connection reset) and
 * counts every request it receives. Key rotation (one re-fetch) is proven in
 * test/proxy/token-hostile.test.ts › re-fetches the JWKS for a rotated key; a JWKS down from the
 * start in test/proxy/scope-and-outage.test.ts › fails closed with 503.
 */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type FaultyJwks, startFaultyJwks } from '../helpers/jwks-server.ts';
import { sleep } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const AUD = 'mcp-faults';
let idp: TestIssuer;
let upstream: FakeUpstream;
let stranger: jose.CryptoKey;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  stranger = (await jose.generateKeyPair('RS256')).privateKey;
});
afterAll(async () => {
  await upstream?.close();
  await idp?.close();
});
afterEach(() => {
  upstream.seen.length = 0;
});

type Provider = 'oidc' | 'cognito';
const POOL = 'eu-west-1_McpPool1';

/** The proxy's config for `provider`, its keys from `jwks` (Cognito: through the endpoint override). */
function configFor(provider: Provider, jwks: FaultyJwks, cooldownSeconds: number) {
  const token = { issuer: idp.issuer, jwks_uri: jwks.jwksUri, jwks_cooldown_seconds: cooldownSeconds };
  if (provider === 'oidc') {
    return {
      provider,
      base_url: upstream.url,
      default: { base_url: idp.issuer },
      token: { ...token, audience: [AUD] },
    };
  }
  return {
    provider,
    base_url: upstream.url,
    cognito: {
      user_pool_id: POOL,
      domain_url: 'https://auth.example.com',
      scopes: ['openid', 'mcp/tools'],
      endpoint: idp.issuer,
    },
    token,
  };
}

/** A token of `provider`'s shape signed with `key` under `kid` (Cognito: no aud, token_use). */
function tokenFor(provider: Provider, kid: string, key: jose.CryptoKey, sub = 'alice') {
  if (provider === 'oidc') return idp.sign({ aud: AUD, sub }, { kid }, key);
  return idp.sign(
    { sub, token_use: 'access', scope: 'openid mcp/tools', username: sub },
    { kid, typ: undefined },
    key,
  );
}

/** A proxy whose keys come from `jwks`, warmed up: its first request fetched the key set. */
async function proxyOn(provider: Provider, jwks: FaultyJwks, key: jose.CryptoKey, cooldownSeconds: number) {
  const proxy = await startProxy(configFor(provider, jwks, cooldownSeconds));
  expect((await call(proxy, await tokenFor(provider, 'k1', key))).status).toBe(200);
  expect(jwks.requests()).toBe(1);
  upstream.seen.length = 0;
  return proxy;
}

const call = (proxy: ProxyUnderTest, token: string) =>
  fetch(`${proxy.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });

const UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'token verification is temporarily unavailable',
};

for (const [provider, outage] of [
  ['oidc', 'http-503'],
  ['oidc', 'reset'],
  ['cognito', 'http-503'],
  ['cognito', 'reset'],
] as const) {
  describe(`${provider}: JWKS down after warm-up (${outage})`, () => {
    let jwks: FaultyJwks;
    let proxy: ProxyUnderTest;
    let k1: jose.CryptoKey;
    beforeAll(async () => {
      jwks = await startFaultyJwks();
      k1 = await jwks.newKey('k1');
      proxy = await proxyOn(provider, jwks, k1, 1);
    });
    afterAll(async () => {
      await proxy?.close();
      await jwks?.close();
    });

    it('keeps accepting tokens signed with a known key, without asking the JWKS', async () => {
      jwks.set(outage);
      for (let i = 0; i < 5; i++) {
        const res = await call(proxy, await tokenFor(provider, 'k1', k1, `u${i}`));
        expect(res.status).toBe(200);
      }
      expect(upstream.seen).toHaveLength(5);
      expect(jwks.requests()).toBe(1);
    });

    it('answers an unknown kid with 503 (fail closed, nothing forwarded) once past the cooldown', async () => {
      jwks.set(outage);
      await sleep(1100); // past the cooldown (jose) and any hold-back: the verifier tries the JWKS
      const before = jwks.requests();
      const res = await call(proxy, await tokenFor(provider, 'k-unknown', stranger));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual(UNAVAILABLE);
      expect(jwks.requests()).toBe(before + 1);
      expect(upstream.seen).toHaveLength(0);
      // The failed re-fetch dropped nothing: the known key still verifies.
      expect((await call(proxy, await tokenFor(provider, 'k1', k1))).status).toBe(200);
    });

    it('tries a failing JWKS at most once per hold-back, however many unknown kids arrive', async () => {
      jwks.set(outage);
      await sleep(1100);
      const before = jwks.requests();
      const started = Date.now();
      for (let i = 0; i < 40; i++) {
        const res = await call(proxy, await tokenFor(provider, randomUUID(), stranger));
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual(UNAVAILABLE);
      }
      // One attempt per started second of the flood (hold-back = min(cooldown, 5 s) = 1 s).
      const allowed = 1 + Math.floor((Date.now() - started) / 1000);
      expect(jwks.requests() - before).toBeGreaterThanOrEqual(1);
      expect(jwks.requests() - before).toBeLessThanOrEqual(allowed);
      expect(upstream.seen).toHaveLength(0);
    });

    it('recovers when the JWKS is back: a new key is learned with one fetch', async () => {
      jwks.set('up');
      const k2 = await jwks.newKey('k2');
      await sleep(1100); // past the hold-back of the last failed attempt
      const before = jwks.requests();
      expect((await call(proxy, await tokenFor(provider, 'k2', k2))).status).toBe(200);
      expect((await call(proxy, await tokenFor(provider, 'k2', k2))).status).toBe(200);
      expect(jwks.requests()).toBe(before + 1);
    });
  });
}

for (const provider of ['oidc', 'cognito'] as const)
  describe(`${provider}: a flood of unknown kids while the JWKS is up`, () => {
    let jwks: FaultyJwks;
    let proxy: ProxyUnderTest;
    let k1: jose.CryptoKey;
    const COOLDOWN = 2;
    beforeAll(async () => {
      jwks = await startFaultyJwks();
      k1 = await jwks.newKey('k1');
      proxy = await proxyOn(provider, jwks, k1, COOLDOWN);
    });
    afterAll(async () => {
      await proxy?.close();
      await jwks?.close();
    });

    /** 200 requests with random kids, 20 at a time; each 401 and none forwarded. */
    async function flood(): Promise<{ refetches: number; ms: number }> {
      const before = jwks.requests();
      const tokens = await Promise.all(
        Array.from({ length: 200 }, () => tokenFor(provider, randomUUID(), stranger)),
      );
      const started = Date.now();
      for (let i = 0; i < tokens.length; i += 20) {
        const statuses = await Promise.all(
          tokens.slice(i, i + 20).map(async (t) => {
            const res = await call(proxy, t);
            await res.arrayBuffer();
            return res.status;
          }),
        );
        expect(statuses).toEqual(Array(statuses.length).fill(401));
      }
      return { refetches: jwks.requests() - before, ms: Date.now() - started };
    }

    it('within the cooldown after a fetch: at most one re-fetch (none unless the flood outlasts it)', async () => {
      const { refetches, ms } = await flood();
      // The first fetch was under COOLDOWN s ago unless the flood itself took that long.
      expect(refetches).toBeLessThanOrEqual(Math.floor(ms / (COOLDOWN * 1000)) + 1);
      expect(upstream.seen).toHaveLength(0);
    });

    it('past the cooldown: exactly one re-fetch per cooldown, and known keys still verify', async () => {
      await sleep(COOLDOWN * 1000 + 100);
      const { refetches, ms } = await flood();
      expect(refetches).toBeGreaterThanOrEqual(1);
      expect(refetches).toBeLessThanOrEqual(1 + Math.floor(ms / (COOLDOWN * 1000)));
      expect(upstream.seen).toHaveLength(0);
      expect((await call(proxy, await tokenFor(provider, 'k1', k1))).status).toBe(200);
    });
  });
