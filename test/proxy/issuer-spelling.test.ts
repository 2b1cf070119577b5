/**
 * Issue 10: the original's Auth0 configuration (`default.base_url: https://TENANT.auth0.com`, no
 * slash) in front of an issuer whose `iss` ends with a slash. The exact issuer is the one the IdP's
 * metadata names; an issuer written in the config stays exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameIssuer } from '../../functions/shared/issuer-metadata.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;

beforeAll(async () => {
  idp = await startTestIssuer({ trailingSlash: true });
  upstream = await startFakeUpstream();
});

afterAll(async () => {
  await upstream?.close();
  await idp?.close();
});

async function call(
  defaults: Record<string, unknown>,
  iss: string,
  extra: Record<string, unknown> = {},
  aud?: string,
) {
  const proxy = await startProxy({ provider: 'oidc', base_url: upstream.url, default: defaults, ...extra });
  try {
    const before = upstream.seen.length;
    const token = await idp.sign({ aud: aud ?? `${proxy.url}/mcp`, iss });
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    await res.body?.cancel();
    return { status: res.status, reached: upstream.seen.length - before };
  } finally {
    await proxy.close();
  }
}

describe('the issuer of an oidc provider given only as default.base_url', () => {
  const base = () => idp.issuer.replace(/\/$/, '');

  it.each([
    ['with the JWKS discovered', () => ({ base_url: base() })],
    ['with the original’s jwks_url', () => ({ base_url: base(), jwks_url: idp.jwksUri })],
  ])('%s: tokens with the metadata’s spelling (trailing slash) pass', async (_n, defaults) => {
    expect(await call(defaults(), idp.issuer)).toEqual({ status: 200, reached: 1 });
  });

  it('is exact once learned: the other spelling is refused, nothing upstream', async () => {
    expect(await call({ base_url: base(), jwks_url: idp.jwksUri }, base())).toEqual({
      status: 401,
      reached: 0,
    });
  });

  it('the original’s Auth0 config unchanged: protected_resource_metadata.audience is the accepted audience', async () => {
    const original = { base_url: base(), jwks_url: idp.jwksUri };
    const prm = { protected_resource_metadata: { audience: 'https://api.example.com' } };
    expect(await call(original, idp.issuer, prm, 'https://api.example.com')).toEqual({
      status: 200,
      reached: 1,
    });
    expect(await call(original, idp.issuer, prm, 'https://other.example.com')).toEqual({
      status: 401,
      reached: 0,
    });
    // token.audience, ours, wins when both are set.
    const both = { ...prm, token: { audience: ['https://ours.example.com'] } };
    expect(await call(original, idp.issuer, both, 'https://api.example.com')).toEqual({
      status: 401,
      reached: 0,
    });
  });

  it('an issuer written in the config is compared exactly, as written', async () => {
    const written = { base_url: base(), issuer: base(), jwks_url: idp.jwksUri };
    expect(await call(written, idp.issuer)).toEqual({ status: 401, reached: 0 });
  });

  it.each<[unknown, string, boolean, boolean]>([
    ['https://t.auth0.com/', 'https://t.auth0.com', true, true],
    ['https://t.auth0.com', 'https://t.auth0.com/', true, true],
    ['https://t.auth0.com', 'https://t.auth0.com', false, true],
    ['https://t.auth0.com/', 'https://t.auth0.com', false, false],
    ['https://t.auth0.com//', 'https://t.auth0.com', true, false],
    ['https://t.auth0.com/x', 'https://t.auth0.com', true, false],
    ['https://T.auth0.com/', 'https://t.auth0.com', true, false],
    [undefined, 'https://t.auth0.com', true, false],
  ])('sameIssuer(%s, %s, fromBaseUrl=%s) = %s', (documented, issuer, fromBaseUrl, want) => {
    expect(sameIssuer(documented, issuer, fromBaseUrl)).toBe(want);
  });
});

describe('the facade’s view of the same IdP', () => {
  it('discovers the IdP’s endpoints and takes its exact issuer (the /callback `iss` check uses it)', async () => {
    const { serve } = await import('../helpers/net.ts');
    const { createOidcProvider } = await import('../../functions/discovery/providers/oidc.ts');
    const { parseConfig } = await import('../../functions/shared/config/index.ts');
    const server = await serve((_req, res) => {
      const issuer = `${server.url}/`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}authorize`,
          token_endpoint: `${issuer}oauth/token`,
        }),
      );
    });
    try {
      const make = (defaults: Record<string, unknown>) =>
        createOidcProvider(parseConfig({ provider: 'oidc', base_url: upstream.url, default: defaults }), {
          secrets: { resolve: async () => '' },
        });
      const meta = await make({ base_url: server.url, jwks_url: `${server.url}/jwks` }).metadata();
      expect(meta.issuer).toBe(`${server.url}/`);
      expect(meta.token_endpoint).toBe(`${server.url}/oauth/token`);
      // Written as the issuer, the spelling must match exactly (RFC 8414 §3.3).
      await expect(
        make({ base_url: server.url, issuer: server.url, jwks_url: `${server.url}/jwks` }).metadata(),
      ).rejects.toThrow();
    } finally {
      await server.close();
    }
  });
});
