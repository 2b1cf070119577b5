/**
 * The MCP SDK client identified by a Client ID Metadata Document (`clientMetadataUrl`), with a
 * person in Chromium: no registration; the consent page names the document's verified host; the
 * person allows and signs in at the IdP; the client's loopback redirect URI gets the code; tools
 * work. Proxy and facade on one origin, the document over https on loopback (test seam only).
 */
import { randomBytes } from 'node:crypto';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { BrowserUser, launchChromium } from '../helpers/browser.ts';
import { type DocumentHost, json, startDocumentHost } from '../helpers/document-host.ts';
import { freePort, serve, type TestServer } from '../helpers/net.ts';
import { MemoryOAuthProvider } from '../helpers/oauth-client.ts';
import { recordTiming } from '../helpers/timings.ts';

let browser: Browser;
let callback: TestServer;
let docs: DocumentHost;
let idp: DemoIdp;
let mcp: DemoMcpServer;
let edge: RunningServer;
let origin: string;

class DocumentClientProvider extends MemoryOAuthProvider {
  constructor(
    readonly clientMetadataUrl: string,
    redirect: string,
  ) {
    super(redirect);
  }
}

beforeAll(async () => {
  browser = await launchChromium();
  callback = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Signed in. You can close this window.</h1>');
  });
  const redirect = `http://127.0.0.1:${callback.port}/callback`;
  docs = await startDocumentHost({
    '/mcp-client.json': json((o) => ({
      client_id: `${o}/mcp-client.json`,
      client_name: 'Chromium document client',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    })),
  });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  idp = await startDemoIdp({
    port: await freePort(),
    resourcePrefixes: [origin],
    cimdClient: { clientId: 'facade-cimd', redirectUri: `${origin}/callback` },
  });
  mcp = await startDemoMcpServer();
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idp.port, registration_token: idp.registrationToken },
    base_url: mcp.url,
    listen_port: port,
    discovery: {
      base_url: origin,
      signing_key: randomBytes(32).toString('base64url'),
      cimd_idp_client_id: 'facade-cimd',
    },
    protected_resource_metadata: { scopes_supported: ['mcp:tools', 'mcp:resources'] },
  });
  const documentFetch = { allowLoopback: true, ca: docs.ca };
  edge = await startLocalSingleOrigin(config, { port, discovery: { handler: { documentFetch } } });
});

afterAll(async () => {
  await browser?.close();
  await edge?.close();
  await mcp?.close();
  await idp?.close();
  await docs?.close();
  await callback?.close();
});

it('SDK client with clientMetadataUrl: consent names the verified host → sign-in → tools', async () => {
  const url = `${docs.origin}/mcp-client.json`;
  const auth = new DocumentClientProvider(url, `http://127.0.0.1:${callback.port}/callback`);
  const endpoint = new URL(`${origin}/mcp`);
  const first = new StreamableHTTPClientTransport(endpoint, { authProvider: auth });
  await expect(new Client({ name: 'sdk-cimd', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  expect(auth.info?.client_id).toBe(url); // no registration: the URL is the client id
  const user = await BrowserUser.open(browser);
  let landed: URL;
  try {
    const r = await user.signIn(auth.authorizationUrl!, { ...idp.user, doneAt: auth.redirectUrl });
    landed = r.landed;
    recordTiming('sdk cimd: browser sign-in', r.ms);
    expect(r.consentText).toContain(`client metadata document on ${new URL(docs.origin).host}`);
    expect(r.consentText).toMatch(/verified host/);
    expect(r.consentText).toContain('Chromium document client');
    expect(r.consentText).not.toMatch(/it is not verified/);
    expect(r.consentText).toContain('an application on this computer');
  } finally {
    await user.close();
  }
  expect(landed.searchParams.get('iss')).toBe(origin);
  await first.finishAuth(landed.searchParams.get('code')!);
  const client = new Client({ name: 'sdk-cimd', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: auth }));
  const echo = await client.callTool({ name: 'echo', arguments: { message: 'cimd in chromium' } });
  expect(echo.content).toEqual([{ type: 'text', text: 'cimd in chromium' }]);
  await client.close();
  expect(idp.registrations()).toBe(0);
  expect(docs.hits('/mcp-client.json')).toBeGreaterThan(0);
});
