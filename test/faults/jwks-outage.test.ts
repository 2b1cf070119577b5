/**
 * Faults at the IdP's key set, through the real proxy handler behind the local Function URL
 * emulation, with a real JWKS server on loopback that goes down (503 or connection reset) and
 * counts every request it receives. Key rotation (one re-fetch) is proven in
 * test/proxy/token-hostile.test.ts › re-fetches the JWKS for a rotated key; a JWKS down from the
 * start in test/proxy/scope-and-outage.test.ts › fails closed with 503.
 */
import { randomUUID } from 'node:crypto';
import type * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultyJwks, startFaultyJwks } from '../helpers/jwks-server.ts';
import { sleep } from '../helpers/net.ts';
import type { ProxyUnderTest } from '../helpers/proxy.ts';
import { jwksFixture, UNAVAILABLE } from './jwks-fixture.ts';

const fx = jwksFixture();
const { tokenFor, proxyOn, call } = fx;

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
      expect(fx.upstream.seen).toHaveLength(5);
      expect(jwks.requests()).toBe(1);
    });

    it('answers an unknown kid with 503 (fail closed, nothing forwarded) once past the cooldown', async () => {
      jwks.set(outage);
      await sleep(1100); // past the cooldown (jose) and any hold-back: the verifier tries the JWKS
      const before = jwks.requests();
      const res = await call(proxy, await tokenFor(provider, 'k-unknown', fx.stranger));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual(UNAVAILABLE);
      expect(jwks.requests()).toBe(before + 1);
      expect(fx.upstream.seen).toHaveLength(0);
      // The failed re-fetch dropped nothing: the known key still verifies.
      expect((await call(proxy, await tokenFor(provider, 'k1', k1))).status).toBe(200);
    });

    it('tries a failing JWKS at most once per hold-back, however many unknown kids arrive', async () => {
      jwks.set(outage);
      await sleep(1100);
      const before = jwks.requests();
      const started = Date.now();
      for (let i = 0; i < 40; i++) {
        const res = await call(proxy, await tokenFor(provider, randomUUID(), fx.stranger));
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual(UNAVAILABLE);
      }
      // One attempt per started second of the flood (hold-back = min(cooldown, 5 s) = 1 s).
      const allowed = 1 + Math.floor((Date.now() - started) / 1000);
      expect(jwks.requests() - before).toBeGreaterThanOrEqual(1);
      expect(jwks.requests() - before).toBeLessThanOrEqual(allowed);
      expect(fx.upstream.seen).toHaveLength(0);
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
