/**
 * A flood of tokens with random, unknown `kid`s against a healthy JWKS, through the real proxy
 * handler behind the local Function URL emulation, for both verifiers: each is a 401, nothing is
 * forwarded, and the JWKS server (counting its requests) sees at most one re-fetch per
 * `token.jwks_cooldown_seconds` (jose's `cooldownDuration`; aws-jwt-verify's penalty box).
 */
import { randomUUID } from 'node:crypto';
import type * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultyJwks, startFaultyJwks } from '../helpers/jwks-server.ts';
import { sleep } from '../helpers/net.ts';
import type { ProxyUnderTest } from '../helpers/proxy.ts';
import { jwksFixture } from './jwks-fixture.ts';

const fx = jwksFixture();
const { tokenFor, proxyOn, call } = fx;

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
        Array.from({ length: 200 }, () => tokenFor(provider, randomUUID(), fx.stranger)),
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
      expect(fx.upstream.seen).toHaveLength(0);
    });

    it('past the cooldown: exactly one re-fetch per cooldown, and known keys still verify', async () => {
      await sleep(COOLDOWN * 1000 + 100);
      const { refetches, ms } = await flood();
      expect(refetches).toBeGreaterThanOrEqual(1);
      expect(refetches).toBeLessThanOrEqual(1 + Math.floor(ms / (COOLDOWN * 1000)));
      expect(fx.upstream.seen).toHaveLength(0);
      expect((await call(proxy, await tokenFor(provider, 'k1', k1))).status).toBe(200);
    });
  });
