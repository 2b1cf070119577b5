/**
 * The verified-token cache (functions/proxy/verified-cache.ts) in front of the real JWT verifier
 * and a real issuer on loopback: a hit needs the same token bytes and the same audiences, lasts
 * no longer than the token (exp + skew) nor than maxAgeMs, holds no refusals and no more entries
 * than its bound. `calls` counts what reached the real verifier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtVerifier, TokenRejected, type TokenVerifier } from '../../functions/proxy/token.ts';
import { cachingVerifier } from '../../functions/proxy/verified-cache.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';

let idp: TestIssuer;
let real: TokenVerifier;
beforeAll(async () => {
  idp = await startTestIssuer();
  real = createJwtVerifier({
    issuer: idp.issuer,
    jwksUri: idp.jwksUri,
    algorithms: ['RS256'],
    clockSkewSeconds: 30,
  });
});
afterAll(() => idp.close());

/** The cache over the real verifier, with a clock the test moves and a count of real verifications. */
function setup(opts: { maxAgeMs?: number; maxEntries?: number } = {}) {
  let clock = Date.now();
  let calls = 0;
  const counted: TokenVerifier = {
    verify: (t, a) => {
      calls++;
      return real.verify(t, a);
    },
  };
  const v = cachingVerifier(counted, { clockSkewSeconds: 30, now: () => clock, ...opts });
  return {
    v,
    calls: () => calls,
    set: (ms: number) => {
      clock = ms;
      return ms;
    },
  };
}

describe('cachingVerifier', () => {
  it('verifies a token once, then answers the same identity from the cache', async () => {
    const { v, calls } = setup();
    const token = await idp.sign({ aud: 'A' });
    const first = await v.verify(token, ['A']);
    const second = await v.verify(token, ['A']);
    expect(second).toBe(first);
    expect(first.subject).toBe('alice');
    expect(calls()).toBe(1);
  });

  it('never answers for other audiences: the same token for another resource is verified, and refused', async () => {
    const { v, calls } = setup();
    const token = await idp.sign({ aud: 'A' });
    await v.verify(token, ['A']);
    await expect(v.verify(token, ['B'])).rejects.toBeInstanceOf(TokenRejected);
    await expect(v.verify(token, ['A', 'B'])).resolves.toMatchObject({ subject: 'alice' });
    expect(calls()).toBe(3);
  });

  it('keeps no refusals: a bad token is checked every time', async () => {
    const { v, calls } = setup();
    const forged = await idp.sign({ aud: 'A' }, {}, idp.strangerKey);
    for (let i = 0; i < 3; i++) await expect(v.verify(forged, ['A'])).rejects.toBeInstanceOf(TokenRejected);
    expect(calls()).toBe(3);
  });

  it.each<[string, number, (exp: number, verifiedAt: number) => number]>([
    // [case, seconds until exp, the last instant (ms) the cached answer may be used]
    ['past exp + skew (30 s)', 10, (exp) => (exp + 30) * 1000 - 1],
    ['past maxAgeMs (60 s), the token still valid', 3600, (_exp, at) => at + 60_000 - 1],
  ])('verifies again %s', async (_case, expIn, lastValid) => {
    const { v, calls, set } = setup();
    const exp = Math.floor(Date.now() / 1000) + expIn;
    const token = await idp.sign({ aud: 'A', exp });
    const at = set(Date.now());
    await v.verify(token, ['A']);
    set(lastValid(exp, at));
    await v.verify(token, ['A']);
    expect(calls()).toBe(1);
    set(lastValid(exp, at) + 1);
    await v.verify(token, ['A']).catch(() => {});
    expect(calls()).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const { v, calls } = setup({ maxEntries: 2 });
    const [t1, t2, t3] = await Promise.all(['1', '2', '3'].map((jti) => idp.sign({ aud: 'A', jti })));
    for (const t of [t1!, t2!, t3!]) await v.verify(t, ['A']);
    expect(calls()).toBe(3);
    await v.verify(t3!, ['A']);
    await v.verify(t2!, ['A']);
    expect(calls()).toBe(3);
    await v.verify(t1!, ['A']);
    expect(calls()).toBe(4);
  });

  it('keeps the verifier’s other methods (warm)', async () => {
    const inner = createJwtVerifier({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      algorithms: ['RS256'],
      clockSkewSeconds: 0,
    });
    const v = cachingVerifier(inner, { clockSkewSeconds: 0 });
    await expect(v.warm()).resolves.toBeUndefined();
  });
});
