/**
 * Step-up (403 insufficient_scope) and fail-closed behaviour when the IdP's keys cannot be
 * fetched, through the real handler behind the Function URL emulation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { serve } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream?.close();
  await idp?.close();
});

describe('required scopes', () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await startProxy({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      token: { audience: ['aud-1'], required_scopes: ['mcp:tools', 'mcp:write'] },
    });
  });
  afterAll(() => proxy?.close());

  it('answers 403 insufficient_scope listing every needed scope, and forwards nothing', async () => {
    const token = await idp.sign({ aud: 'aud-1', scope: 'mcp:tools' });
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp:tools mcp:write", resource_metadata="${proxy.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(upstream.seen).toHaveLength(0);
  });

  it('puts the needed scopes into the 401 challenge too', async () => {
    const res = await fetch(`${proxy.url}/mcp`, { method: 'POST' });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer scope="mcp:tools mcp:write", resource_metadata="${proxy.url}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('accepts scopes given as an `scp` array', async () => {
    const token = await idp.sign({ aud: 'aud-1', scope: undefined, scp: ['mcp:write', 'mcp:tools'] });
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(200);
    upstream.seen.length = 0;
  });
});

describe('IdP keys unavailable', () => {
  it('fails closed with 503 (not 401, not forwarded) when the JWKS cannot be fetched', async () => {
    const broken = await serve((_req, res) => res.writeHead(500).end('down'));
    const proxy = await startProxy({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer, jwks_url: `${broken.url}/jwks` },
      token: { audience: ['aud-1'] },
    });
    try {
      const token = await idp.sign({ aud: 'aud-1' });
      const res = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'token verification is temporarily unavailable',
      });
      expect(upstream.seen).toHaveLength(0);
    } finally {
      await proxy.close();
      await broken.close();
    }
  });

  it('discovers the JWKS from the issuer metadata when no jwks_uri is configured', async () => {
    const proxy = await startProxy({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer },
      token: { audience: ['aud-1'] },
    });
    try {
      const token = await idp.sign({ aud: 'aud-1' });
      const res = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(200);
    } finally {
      upstream.seen.length = 0;
      await proxy.close();
    }
  });
});
