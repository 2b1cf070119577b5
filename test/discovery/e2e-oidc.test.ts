/**
 * End to end through the local runner, single origin (CloudFront-like): the real MCP SDK client
 * talks only to one origin, where the proxy serves the MCP endpoint and PRM and the discovery
 * function serves the authorization-server facade. The facade forwards DCR to the embedded
 * oidc-provider IdP, redirects /authorize to it, and forwards /token. The test plays the user at
 * the IdP's login form.
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalDiscovery, startLocalProxy, startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';
import { freePort } from '../helpers/net.ts';
import { loginAndGetCode, MemoryOAuthProvider } from '../helpers/oauth-client.ts';

let idp: DemoIdp;
let mcp: DemoMcpServer;
let edge: RunningServer;
let origin: string;

beforeAll(async () => {
  const idpPort = await freePort();
  const port = await freePort();
  origin = `http://localhost:${port}`;
  idp = await startDemoIdp({ port: idpPort, resourcePrefixes: [origin] });
  mcp = await startDemoMcpServer();
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idpPort, registration_token: idp.registrationToken },
    base_url: mcp.url,
    listen_port: port,
    discovery: { base_url: origin },
    protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
  });
  edge = await startLocalSingleOrigin(config, { port });
});

afterAll(async () => {
  await edge?.close();
  await mcp?.close();
  await idp?.close();
});

describe('SDK client through the facade (embedded oidc-provider, real DCR)', () => {
  it('401 → PRM → AS metadata (facade) → DCR → authorize + PKCE → token → tools/call echo', async () => {
    const started = Date.now();
    const before = idp.registrations();

    // The proxy's PRM names the facade, and the facade's issuer is byte-equal to it.
    const prm = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm.authorization_servers).toEqual([origin]);
    const as = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json();
    expect(as.issuer).toBe(prm.authorization_servers[0]);
    expect(as.registration_endpoint).toBe(`${origin}/register`);

    const auth = new MemoryOAuthProvider();
    const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
    await expect(new Client({ name: 'e2e', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );

    // DCR went through the facade to the IdP: one new client there, its id handed back.
    expect(idp.registrations()).toBe(before + 1);
    expect(auth.info?.client_id).toMatch(/\S{8,}/);
    expect((auth.info as { redirect_uris?: string[] }).redirect_uris).toEqual([auth.redirectUrl]);
    expect((auth.info as { token_endpoint_auth_method?: string }).token_endpoint_auth_method).toBe('none');

    // The SDK was sent to the facade's /authorize, with PKCE S256 and the RFC 8707 resource.
    const url = auth.authorizationUrl!;
    expect(`${url.origin}${url.pathname}`).toBe(`${origin}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(`${origin}/mcp`);

    // After the user's consent, the facade redirects to the IdP with the same parameters.
    const hop = await authorizeWithConsent(url);
    expect(hop.status).toBe(302);
    const idpUrl = new URL(hop.headers.get('location')!);
    expect(idpUrl.origin).toBe(idp.issuer);
    for (const k of [
      'client_id',
      'redirect_uri',
      'code_challenge',
      'code_challenge_method',
      'state',
      'resource',
    ]) {
      expect(idpUrl.searchParams.get(k), k).toBe(url.searchParams.get(k));
    }

    const { code } = await loginAndGetCode(url, auth.redirectUrl, idp.user);
    await first.finishAuth(code); // POST /token on the facade → IdP
    expect(auth.saved?.access_token).toBeTruthy();
    expect(auth.saved?.token_type?.toLowerCase()).toBe('bearer');
    const claims = JSON.parse(Buffer.from(auth.saved!.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims.aud).toBe(`${origin}/mcp`);
    expect(claims.iss).toBe(idp.issuer);

    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hello via the facade' } });
    expect(result.content).toEqual([{ type: 'text', text: 'hello via the facade' }]);
    await client.close();
    console.info(`[e2e-oidc] full SDK flow through the facade: ${Date.now() - started} ms`);
  });

  it('refresh_token grant through the facade returns a new access token (no-store)', async () => {
    const auth = new MemoryOAuthProvider();
    const t = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
    await expect(new Client({ name: 'e2e', version: '1.0.0' }).connect(t)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const { code } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user);
    await t.finishAuth(code);
    const refresh = auth.saved?.refresh_token;
    expect(refresh).toBeTruthy();
    const res = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refresh!,
        client_id: auth.info!.client_id,
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(typeof body.access_token).toBe('string');
    expect(body.access_token).not.toBe(auth.saved!.access_token);
  });

  it('IdP OAuth errors pass through the token facade (invalid_grant for a reused code)', async () => {
    const auth = new MemoryOAuthProvider();
    const t = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
    await expect(new Client({ name: 'e2e', version: '1.0.0' }).connect(t)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const { code } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user);
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: auth.redirectUrl,
      code_verifier: auth.codeVerifier(),
      client_id: auth.info!.client_id,
    };
    const ok = await fetch(`${origin}/token`, { method: 'POST', body: new URLSearchParams(form) });
    expect(ok.status).toBe(200);
    const again = await fetch(`${origin}/token`, { method: 'POST', body: new URLSearchParams(form) });
    expect(again.status).toBe(400);
    expect(again.headers.get('cache-control')).toBe('no-store');
    expect((await again.json()).error).toBe('invalid_grant');
  });
});

describe('two Function URLs (no CloudFront): proxy and discovery function on separate origins', () => {
  it('PRM names the discovery origin; the SDK registers, authorizes and calls a tool', async () => {
    const idpPort = await freePort();
    const proxyPort = await freePort();
    const discPort = await freePort();
    const proxyOrigin = `http://localhost:${proxyPort}`;
    const discOrigin = `http://127.0.0.1:${discPort}`;
    const idp2 = await startDemoIdp({ port: idpPort, resourcePrefixes: [proxyOrigin] });
    const config = parseConfig({
      provider: 'embedded',
      embedded: { port: idpPort, registration_token: idp2.registrationToken },
      base_url: mcp.url,
      listen_port: proxyPort,
      discovery: { base_url: discOrigin },
      protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
    });
    const proxy = await startLocalProxy(config, { port: proxyPort });
    const disc = await startLocalDiscovery(config, { port: discPort });
    try {
      const prm = await (await fetch(`${proxyOrigin}/.well-known/oauth-protected-resource/mcp`)).json();
      expect(prm.authorization_servers).toEqual([discOrigin]);
      const auth = new MemoryOAuthProvider();
      const t = new StreamableHTTPClientTransport(new URL(`${proxyOrigin}/mcp`), { authProvider: auth });
      await expect(new Client({ name: 'e2e', version: '1.0.0' }).connect(t)).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
      expect(idp2.registrations()).toBe(1);
      expect(auth.authorizationUrl!.origin).toBe(discOrigin);
      const { code } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp2.user);
      await t.finishAuth(code);
      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${proxyOrigin}/mcp`), { authProvider: auth }),
      );
      const result = await client.callTool({ name: 'echo', arguments: { message: 'two origins' } });
      expect(result.content).toEqual([{ type: 'text', text: 'two origins' }]);
      await client.close();
    } finally {
      await Promise.all([proxy.close(), disc.close()]);
      await idp2.close();
    }
  });
});
