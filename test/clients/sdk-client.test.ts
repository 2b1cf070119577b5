/**
 * The MCP TypeScript SDK client (`OAuthClientProvider`) with a person doing their part in real
 * Chromium: the SDK discovers, registers and hands over the authorization URL; the browser opens
 * it, the person allows and signs in, and the client's loopback redirect URI receives the code.
 * Against the demo CLI, the single-origin and the two-origin set-ups, over Streamable HTTP and SSE.
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserUser, launchChromium } from '../helpers/browser.ts';
import { serve, type TestServer } from '../helpers/net.ts';
import { MemoryOAuthProvider } from '../helpers/oauth-client.ts';
import { type Setup, type SetupKind, startSetup } from '../helpers/setups.ts';
import { recordTiming } from '../helpers/timings.ts';

let browser: Browser;
let callback: TestServer;
beforeAll(async () => {
  browser = await launchChromium();
  // The client's redirect URI: a loopback page, as a native app runs one.
  callback = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Signed in. You can close this window.</h1>');
  });
});
afterAll(async () => {
  await browser?.close();
  await callback?.close();
});

const KINDS: SetupKind[] = ['demo', 'single-origin', 'two-origin'];

describe.each(KINDS)('SDK client with the user in Chromium, %s', (kind) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup(kind);
  });
  afterAll(() => setup?.close());

  for (const transport of ['streamable-http', 'sse'] as const) {
    it(`${transport}: discovery → registration → consent and sign-in in the browser → tools`, async () => {
      const endpoint = new URL(`${setup.proxyOrigin}${transport === 'sse' ? '/sse' : '/mcp'}`);
      const make = (p: MemoryOAuthProvider) =>
        transport === 'sse'
          ? new SSEClientTransport(endpoint, { authProvider: p })
          : new StreamableHTTPClientTransport(endpoint, { authProvider: p });
      const auth = new MemoryOAuthProvider(`http://127.0.0.1:${callback.port}/callback`);
      const first = make(auth);
      await expect(
        new Client({ name: 'sdk-browser', version: '1.0.0' }).connect(first),
      ).rejects.toBeInstanceOf(UnauthorizedError);
      const url = auth.authorizationUrl!;
      expect(`${url.origin}${url.pathname}`).toBe(`${setup.facade}/authorize`);

      const user = await BrowserUser.open(browser);
      let landed: URL;
      try {
        const r = await user.signIn(url, { ...setup.user, doneAt: auth.redirectUrl });
        landed = r.landed;
        recordTiming(`sdk ${transport} ${kind}: browser sign-in`, r.ms);
        // The page named the client by the name it registered, marked as unverified.
        expect(r.consentText).toContain('e2e test client');
        expect(r.consentText).toMatch(/not verified/);
        expect(r.consentText).toContain(auth.info!.client_id);
        expect(r.consentText).toContain('an application on this computer');
      } finally {
        await user.close();
      }
      expect(landed.searchParams.get('state')).toBe(url.searchParams.get('state'));
      expect(landed.searchParams.get('iss')).toBe(setup.facade);
      await first.finishAuth(landed.searchParams.get('code')!);

      const client = new Client({ name: 'sdk-browser', version: '1.0.0' });
      await client.connect(make(auth));
      try {
        const echo = await client.callTool({ name: 'echo', arguments: { message: `sdk ${transport}` } });
        expect(echo.content).toEqual([{ type: 'text', text: `sdk ${transport}` }]);
        const steps: number[] = [];
        await client.callTool({ name: 'countdown', arguments: { n: 3, delayMs: 100 } }, undefined, {
          onprogress: (p) => steps.push(p.progress),
        });
        expect(steps).toEqual([1, 2, 3]);
      } finally {
        await client.close();
      }
    });
  }
});

describe('SDK client with the user in Chromium, one upstream client at an IdP without registration', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup('single-origin', { upstreamClient: true });
  });
  afterAll(() => setup?.close());

  it('confidential client (client_secret_basic): consent and sign-in in the browser → tools; the IdP sees one client', async () => {
    const since = setup.idp!.oauthRequests().length;
    const endpoint = new URL(`${setup.proxyOrigin}/mcp`);
    const auth = new MemoryOAuthProvider(`http://127.0.0.1:${callback.port}/callback`, 'client_secret_basic');
    const first = new StreamableHTTPClientTransport(endpoint, { authProvider: auth });
    await expect(new Client({ name: 'sdk-upc', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect((auth.info as { client_secret?: string }).client_secret).toBeTruthy(); // the facade's, stateless
    const user = await BrowserUser.open(browser);
    let landed: URL;
    try {
      const r = await user.signIn(auth.authorizationUrl!, { ...setup.user, doneAt: auth.redirectUrl });
      landed = r.landed;
      expect(r.consentText).toContain('e2e test client');
    } finally {
      await user.close();
    }
    expect(landed.searchParams.get('iss')).toBe(setup.facade);
    await first.finishAuth(landed.searchParams.get('code')!);
    const client = new Client({ name: 'sdk-upc', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: auth }));
    try {
      const echo = await client.callTool({ name: 'echo', arguments: { message: 'one upstream client' } });
      expect(echo.content).toEqual([{ type: 'text', text: 'one upstream client' }]);
    } finally {
      await client.close();
    }
    const idp = setup.idp!;
    expect(idp.registrations()).toBe(0);
    for (const r of idp.oauthRequests().slice(since)) {
      expect(r.clientId).toBe(setup.upstreamClientId);
      if (r.redirectUri !== undefined) expect(r.redirectUri).toBe(`${setup.facade}/callback`);
    }
  });
});
