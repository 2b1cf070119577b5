/**
 * Step-up authorization end to end (MCP 2025-11-25): the real MCP TypeScript SDK client signs
 * in with the scope the proxy's 401 asks for (`mcp:tools`), calls `echo`, which the policy says
 * needs `mcp:echo` too, gets 403 `insufficient_scope` naming both, re-authorizes with the
 * challenged scopes (the SDK's StreamableHTTPClientTransport does this itself, the test plays the
 * user at the login form) and the same call then succeeds. Embedded oidc-provider IdP, demo MCP
 * server, the proxy's real Lambda handler behind the local Function URL emulation.
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import { freePort } from '../helpers/net.ts';
import { loginAndGetCode, MemoryOAuthProvider } from '../helpers/oauth-client.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';

let idp: DemoIdp;
let mcp: DemoMcpServer;
let proxy: ProxyUnderTest;

beforeAll(async () => {
  const idpPort = await freePort();
  const proxyPort = await freePort();
  idp = await startDemoIdp({
    port: idpPort,
    resourcePrefixes: [`http://localhost:${proxyPort}`],
    openRegistration: true,
    scopes: ['mcp:tools', 'mcp:echo'],
  });
  mcp = await startDemoMcpServer();
  proxy = await startProxy({
    provider: 'embedded',
    embedded: { port: idpPort },
    base_url: mcp.url,
    listen_port: proxyPort,
    token: { required_scopes: ['mcp:tools'] },
    mcp_policy: { tools: { echo: 'mcp:echo' } },
    protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
  });
});

afterAll(async () => {
  await proxy?.close();
  await mcp?.close();
  await idp?.close();
});

const scopesOf = (token: string) =>
  String(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).scope)
    .split(' ')
    .sort();

describe('step-up with the real SDK client', () => {
  it('403 insufficient_scope for echo → re-authorization with the challenged scopes → echo succeeds', async () => {
    const auth = new MemoryOAuthProvider();
    // A client registered for both scopes (an IdP's client may be allowed more than it asks for),
    // without refresh tokens: SDK 1.x answers a 403 by refreshing when it holds a refresh token,
    // and a refresh cannot widen the scope (docs/security.md, step-up).
    auth.saveClientInformation(await register(['mcp:tools', 'mcp:echo'], auth));
    const seen: { status: number; challenge: string | null }[] = [];
    const fetchSeen: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).startsWith(`${proxy.url}/mcp`))
        seen.push({ status: res.status, challenge: res.headers.get('www-authenticate') });
      return res;
    };
    const url = new URL(`${proxy.url}/mcp`);
    const transport = new StreamableHTTPClientTransport(url, { authProvider: auth, fetch: fetchSeen });
    const client = new Client({ name: 'step-up', version: '1.0.0' });

    // 1. First sign-in: the 401 asks for token.required_scopes only.
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(auth.authorizationUrl!.searchParams.get('scope')).toBe('mcp:tools');
    await transport.finishAuth(
      (await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user)).code,
    );
    expect(scopesOf(auth.saved!.access_token)).toEqual(['mcp:tools']);

    const stepUp = new StreamableHTTPClientTransport(url, { authProvider: auth, fetch: fetchSeen });
    await client.connect(stepUp);
    // The listing shows only what this token may use (echo needs mcp:echo): the client knows echo
    // by name, as a client that listed with another token or was told of it would.
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['countdown']);

    // 2. The narrow token may not call echo: 403 with every scope echo needs; the SDK starts the
    // re-authorization with exactly those scopes.
    const hitsBefore = mcp.hits.get('/mcp') ?? 0;
    auth.authorizationUrl = undefined;
    await expect(client.callTool({ name: 'echo', arguments: { message: 'x' } })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(seen.at(-1)).toEqual({
      status: 403,
      challenge: `Bearer error="insufficient_scope", error_description="insufficient scope", scope="mcp:tools mcp:echo", resource_metadata="${proxy.url}/.well-known/oauth-protected-resource/mcp"`,
    });
    expect(mcp.hits.get('/mcp') ?? 0).toBe(hitsBefore); // the refused call never reached the server
    expect(auth.authorizationUrl!.searchParams.get('scope')).toBe('mcp:tools mcp:echo');

    // 3. The user signs in again; the same call now succeeds.
    await stepUp.finishAuth((await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user)).code);
    expect(scopesOf(auth.saved!.access_token)).toEqual(['mcp:echo', 'mcp:tools']);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'after step-up' } });
    expect(result.content).toEqual([{ type: 'text', text: 'after step-up' }]);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'countdown']);
    await client.close();
  });
});

/** Dynamic registration at the demo IdP (open DCR here), as an admin pre-registering the client would. */
async function register(scopes: string[], auth: MemoryOAuthProvider) {
  const res = await fetch(`${idp.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...auth.clientMetadata,
      grant_types: ['authorization_code'],
      scope: scopes.join(' '),
    }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`registration: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}
