/**
 * End to end with the real MCP TypeScript SDK client against the demo parts: the embedded
 * oidc-provider IdP, the demo MCP server and the proxy's real Lambda handler behind the local
 * Function URL emulation. The SDK does discovery (401 → PRM → AS metadata), dynamic client
 * registration and authorization code + PKCE; the test plays the user at the login form.
 * Also: the client_credentials path, and @modelcontextprotocol/server-everything as upstream.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import { freePort } from '../helpers/net.ts';
import {
  loginAndGetCode,
  MemoryOAuthProvider,
  clientCredentialsToken as scriptToken,
} from '../helpers/oauth-client.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';

let idp: DemoIdp;
let mcp: DemoMcpServer;
let proxy: ProxyUnderTest;

beforeAll(async () => {
  const idpPort = await freePort();
  const proxyPort = await freePort();
  // No facade here: the SDK registers at the IdP itself, so this IdP models one with open DCR.
  idp = await startDemoIdp({
    port: idpPort,
    resourcePrefixes: [`http://localhost:${proxyPort}`],
    openRegistration: true,
  });
  mcp = await startDemoMcpServer();
  proxy = await startProxy({
    provider: 'embedded',
    embedded: { port: idpPort },
    base_url: mcp.url,
    listen_port: proxyPort,
    protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
  });
});

afterAll(async () => {
  await proxy?.close();
  await mcp?.close();
  await idp?.close();
});

async function authorize(
  transportFor: (p: MemoryOAuthProvider) => StreamableHTTPClientTransport | SSEClientTransport,
) {
  const auth = new MemoryOAuthProvider();
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  const first = transportFor(auth);
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(auth.info?.client_id).toBeTruthy(); // registered dynamically
  expect(auth.authorizationUrl?.origin).toBe(idp.issuer);
  const url = auth.authorizationUrl!;
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  const { code, iss } = await loginAndGetCode(url, auth.redirectUrl, idp.user);
  expect(iss).toBe(idp.issuer);
  await first.finishAuth(code);
  expect(auth.saved?.access_token).toBeTruthy();
  const connected = new Client({ name: 'e2e', version: '1.0.0' });
  await connected.connect(transportFor(auth));
  return { client: connected, auth };
}

describe('MCP SDK client through the proxy', () => {
  it('Streamable HTTP: 401 → PRM → AS metadata → DCR → code + PKCE → token → tools/call echo', async () => {
    const registrationsBefore = idp.registrations();
    const hitsBefore = mcp.hits.get('/mcp') ?? 0;
    const { client, auth } = await authorize(
      (p) => new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), { authProvider: p }),
    );
    expect(idp.registrations()).toBe(registrationsBefore + 1);
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hello through the proxy' } });
    expect(result.content).toEqual([{ type: 'text', text: 'hello through the proxy' }]);
    expect(result._meta).toEqual({ caller: 'demo' }); // the upstream saw the user's identity header
    // The token is bound to this MCP endpoint (RFC 8707) ...
    const [, payload] = auth.saved!.access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims.aud).toBe(`${proxy.url}/mcp`);
    // ... and the upstream only ever saw authenticated requests.
    expect(mcp.lastHeaders()?.authorization).toBeUndefined();
    expect((mcp.hits.get('/mcp') ?? 0) - hitsBefore).toBeGreaterThan(0);
    await client.close();
  });

  it('legacy HTTP+SSE with the same OAuth flow', async () => {
    const { client } = await authorize(
      (p) => new SSEClientTransport(new URL(`${proxy.url}/sse`), { authProvider: p }),
    );
    const result = await client.callTool({ name: 'echo', arguments: { message: 'over sse' } });
    expect(result.content).toEqual([{ type: 'text', text: 'over sse' }]);
    await client.close();
  });

  it('refuses a token minted for the /sse resource on /mcp', async () => {
    const token = await clientCredentialsToken(`${proxy.url}/sse`);
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(401);
  });

  it('client_credentials: a script gets a token for the resource and calls a tool', async () => {
    const token = await clientCredentialsToken(`${proxy.url}/mcp`);
    const client = new Client({ name: 'script', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const result = await client.callTool({ name: 'echo', arguments: { message: 'm2m' } });
    expect(result.content).toEqual([{ type: 'text', text: 'm2m' }]);
    expect(result._meta).toEqual({ caller: idp.cliClient.clientId });
    await client.close();
  });
});

const clientCredentialsToken = (resource: string) => scriptToken(idp.issuer, idp.cliClient, resource);

describe('@modelcontextprotocol/server-everything as the upstream', () => {
  let child: ChildProcess;
  let everything: ProxyUnderTest;

  beforeAll(async () => {
    const port = await freePort();
    const entry = createRequire(import.meta.url).resolve(
      '@modelcontextprotocol/server-everything/dist/index.js',
    );
    child = spawn(process.execPath, [entry, 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server-everything did not start')), 20_000);
      child.stderr!.on('data', (d: Buffer) => {
        if (/listening on port/i.test(d.toString())) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (c) => reject(new Error(`server-everything exited with ${c}`)));
    });
    everything = await startProxy({
      provider: 'embedded',
      embedded: { port: idp.port },
      base_url: `http://localhost:${port}`,
      token: { audience: [`${proxy.url}/mcp`] }, // accept the demo IdP's tokens for this second proxy
    });
  });

  afterAll(async () => {
    await everything?.close();
    child?.kill();
  });

  it('lists tools and streams progress notifications of a long-running tool', async () => {
    const token = await clientCredentialsToken(`${proxy.url}/mcp`);
    const client = new Client({ name: 'everything-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${everything.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['echo', 'trigger-long-running-operation']),
    );
    const progress: { progress: number; at: number }[] = [];
    const t0 = Date.now();
    const result = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 4 } },
      undefined,
      { onprogress: (p) => progress.push({ progress: p.progress, at: Date.now() - t0 }) },
    );
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
    // Progress arrives while the tool runs (about every 500 ms), not all at the end.
    expect(progress[0]!.at).toBeLessThan(1200);
    expect(progress[3]!.at - progress[0]!.at).toBeGreaterThan(1000);
    expect(JSON.stringify(result.content)).toContain('Long running operation completed');
    await client.close();
  });
});
