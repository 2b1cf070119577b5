/**
 * What the JWKS fault tests share (jwks-outage.test.ts, jwks-flood.test.ts): an issuer, an
 * upstream that counts what reaches it, and proxies of either verifier (oidc: jose; cognito:
 * aws-jwt-verify through the endpoint override) whose keys come from a FaultyJwks.
 */
import * as jose from 'jose';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import type { FaultyJwks } from '../helpers/jwks-server.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

export type Provider = 'oidc' | 'cognito';
const AUD = 'mcp-faults';
const POOL = 'eu-west-1_McpPool1';

export const UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'token verification is temporarily unavailable',
};

export interface JwksFixture {
  readonly upstream: FakeUpstream;
  /** A key no JWKS publishes. */
  readonly stranger: jose.CryptoKey;
  /** A token of `provider`'s shape signed with `key` under `kid` (Cognito: no aud, token_use). */
  tokenFor(provider: Provider, kid: string, key: jose.CryptoKey, sub?: string): Promise<string>;
  /** A proxy whose keys come from `jwks`, warmed up: its first request (kid k1) fetched them. */
  proxyOn(
    provider: Provider,
    jwks: FaultyJwks,
    k1: jose.CryptoKey,
    cooldownSeconds: number,
  ): Promise<ProxyUnderTest>;
  call(proxy: ProxyUnderTest, token: string): Promise<Response>;
}

/** Registers the file's hooks; the fields are usable inside tests and hooks. */
export function jwksFixture(): JwksFixture {
  let idp: TestIssuer;
  const f = {} as { -readonly [K in keyof JwksFixture]: JwksFixture[K] };
  beforeAll(async () => {
    idp = await startTestIssuer();
    f.upstream = await startFakeUpstream();
    f.stranger = (await jose.generateKeyPair('RS256')).privateKey;
  });
  afterAll(async () => {
    await f.upstream?.close();
    await idp?.close();
  });
  afterEach(() => {
    f.upstream.seen.length = 0;
  });

  const configFor = (provider: Provider, jwks: FaultyJwks, cooldownSeconds: number) => {
    const token = { issuer: idp.issuer, jwks_uri: jwks.jwksUri, jwks_cooldown_seconds: cooldownSeconds };
    const common = { provider, base_url: f.upstream.url };
    if (provider === 'oidc') {
      return { ...common, default: { base_url: idp.issuer }, token: { ...token, audience: [AUD] } };
    }
    const scopes = ['openid', 'mcp/tools'];
    return {
      ...common,
      cognito: { user_pool_id: POOL, domain_url: 'https://auth.example.com', scopes, endpoint: idp.issuer },
      token,
    };
  };
  f.tokenFor = (provider, kid, key, sub = 'alice') => {
    if (provider === 'oidc') return idp.sign({ aud: AUD, sub }, { kid }, key);
    const claims = { sub, token_use: 'access', scope: 'openid mcp/tools', username: sub };
    return idp.sign(claims, { kid, typ: undefined }, key);
  };
  f.call = (proxy, token) =>
    fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
  f.proxyOn = async (provider, jwks, k1, cooldownSeconds) => {
    const proxy = await startProxy(configFor(provider, jwks, cooldownSeconds));
    expect((await f.call(proxy, await f.tokenFor(provider, 'k1', k1))).status).toBe(200);
    expect(jwks.requests()).toBe(1);
    f.upstream.seen.length = 0;
    return proxy;
  };
  return f;
}
