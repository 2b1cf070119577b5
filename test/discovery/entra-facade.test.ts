/**
 * One upstream client in front of an Entra ID contract server (test/helpers/entra-contract.ts):
 * the `entra` dialect sends no `resource` (Entra refuses it: AADSTS9010010) and the configured
 * `api://<app>/<scope>` scope; the real MCP SDK client signs in through the facade and calls a
 * tool through the proxy, which verifies Entra's v2 token (issuer `.../<tenant>/v2.0`, `aud` =
 * the app id). The same facade with the `generic` dialect is refused by the contract: the
 * dialect is what makes it work.
 */
import { randomBytes } from 'node:crypto';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { type EntraContract, startEntraContract } from '../helpers/entra-contract.ts';
import { freePort } from '../helpers/net.ts';
import { loginAndGetCode, MemoryOAuthProvider } from '../helpers/oauth-client.ts';

const TENANT = '8f3c1b9e-0d4a-4c55-9a57-2b1e0c7d6a11';
const APP = '3b7a9d2e-5f14-4e8b-a0c3-9d6e1f2a4b7c';
const SECRET = randomBytes(24).toString('base64url');

let entra: EntraContract;
let mcp: DemoMcpServer;
const edges: RunningServer[] = [];

beforeAll(async () => {
  mcp = await startDemoMcpServer();
});
afterAll(async () => {
  await Promise.all(edges.map((e) => e.close()));
  await mcp?.close();
});

/** Proxy + facade on one origin, in front of a fresh contract server, with this dialect. */
async function start(dialect: 'entra' | 'generic') {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  entra = await startEntraContract({
    tenant: TENANT,
    appId: APP,
    clientSecret: SECRET,
    redirectUri: `${origin}/callback`,
    exposedScopes: ['mcp.tools'],
  });
  const edge = await startLocalSingleOrigin(
    parseConfig({
      provider: 'oidc',
      default: { base_url: `${entra.url}/${TENANT}/v2.0` },
      token: { audience: [APP] },
      base_url: mcp.url,
      listen_port: port,
      discovery: {
        base_url: origin,
        signing_key: randomBytes(32).toString('base64url'),
        upstream_client: {
          client_id: APP,
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_post',
          dialect,
          scope: `api://${APP}/mcp.tools openid offline_access`,
        },
      },
      protected_resource_metadata: { scopes_supported: ['mcp.tools'] },
    }),
    { port },
  );
  edges.push(edge);
  return { origin, close: () => Promise.all([edge.close(), entra.close()]) };
}

describe('Entra ID dialect (contract server)', () => {
  it('SDK client: consent → Entra (no resource, api:// scope) → token → proxy verifies the v2 token → tools/call', async () => {
    const { origin, close } = await start('entra');
    try {
      const auth = new MemoryOAuthProvider();
      const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
      await expect(new Client({ name: 'entra', version: '1' }).connect(first)).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
      // The client asked for the resource (RFC 8707) as MCP clients do; Entra must not see it.
      expect(auth.authorizationUrl!.searchParams.get('resource')).toBe(`${origin}/mcp`);
      const { code } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, {
        username: 'n/a',
        password: 'n/a',
      });
      await first.finishAuth(code);
      const claims = JSON.parse(Buffer.from(auth.saved!.access_token.split('.')[1]!, 'base64url').toString());
      expect(claims).toMatchObject({ aud: APP, iss: `${entra.url}/${TENANT}/v2.0`, scp: 'mcp.tools' });

      const client = new Client({ name: 'entra', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth }),
      );
      const result = await client.callTool({ name: 'echo', arguments: { message: 'via entra' } });
      expect(result.content).toEqual([{ type: 'text', text: 'via entra' }]);
      await client.close();

      // A refresh through the facade: Entra gets the configured scope, never `resource`.
      const refreshed = await fetch(`${origin}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: auth.saved!.refresh_token!,
          client_id: auth.info!.client_id,
          resource: `${origin}/mcp`,
        }),
      });
      expect(refreshed.status).toBe(200);

      expect(entra.violations).toEqual([]);
      const oauth = entra.requests.filter((r) => r.path.includes('/oauth2/'));
      expect(oauth.map((r) => r.path.split('/').pop())).toEqual(['authorize', 'token', 'token']);
      for (const r of oauth) {
        expect(r.params.resource).toBeUndefined();
        expect(r.params.scope).toBe(`api://${APP}/mcp.tools openid offline_access`);
        expect(r.params.client_id).toBe(APP);
        if (r.params.redirect_uri) expect(r.params.redirect_uri).toBe(`${origin}/callback`);
      }
      expect(entra.requests.some((r) => r.path.includes('regist'))).toBe(false);
    } finally {
      await close();
    }
  });

  it('the generic dialect sends `resource`: Entra refuses it with AADSTS9010010, relayed to the client', async () => {
    const { origin, close } = await start('generic');
    try {
      const auth = new MemoryOAuthProvider();
      const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
      await expect(new Client({ name: 'entra', version: '1' }).connect(first)).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
      await expect(
        loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, { username: 'n/a', password: 'n/a' }),
      ).rejects.toThrow(/AADSTS9010010/);
      expect(entra.violations).toEqual([expect.stringContaining('AADSTS9010010')]);
    } finally {
      await close();
    }
  });
});
