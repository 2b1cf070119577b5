/**
 * mcp-remote (the stdio bridge of Claude Desktop and other desktop clients) signs in through
 * real Chromium — consent → Allow → the IdP's sign-in page → callback — and then speaks JSON-RPC
 * over its stdio: initialize, tools/list, tools/call echo, and countdown with its progress
 * notifications arriving one by one. Against the demo CLI, the single-origin and the two-origin
 * set-ups, over Streamable HTTP and legacy SSE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserUser, launchChromium } from '../helpers/browser.ts';
import { McpRemote } from '../helpers/mcp-remote.ts';
import { freePorts, type Setup, type SetupKind, startSetup } from '../helpers/setups.ts';
import { recordTiming } from '../helpers/timings.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcp-remote-'));
}

/** Start mcp-remote, sign in through the browser, wait until it is connected. */
async function connectViaBrowser(
  setup: Setup,
  url: string,
  o: { transport: 'http-only' | 'sse-only'; configDir: string; wrongPasswords?: string[] },
) {
  const remote = McpRemote.start(url, { configDir: o.configDir, transport: o.transport });
  const authUrl = await remote.authorizationUrl();
  expect(`${authUrl.origin}${authUrl.pathname}`).toBe(`${setup.facade}/authorize`);
  const callback = await remote.callbackOrigin();
  const user = await BrowserUser.open(browser);
  try {
    const r = await user.signIn(authUrl, {
      ...setup.user,
      wrongPasswords: o.wrongPasswords,
      doneAt: callback.replace('127.0.0.1', 'localhost'),
    });
    expect(r.landed.searchParams.get('code')).toBeTruthy();
    expect(r.landed.searchParams.get('iss')).toBe(setup.facade); // RFC 9207, the facade's issuer
    await remote.waitForLog(/Proxy established successfully/);
    return {
      remote,
      browserMs: r.ms,
      consentText: r.consentText,
      clientId: authUrl.searchParams.get('client_id'),
    };
  } finally {
    await user.close();
  }
}

/** The JSON-RPC a desktop client sends once connected, checked answer by answer. */
async function exerciseTools(remote: McpRemote) {
  const init = await remote.initialize();
  expect(init.result?.serverInfo).toMatchObject({ name: 'demo-mcp-server' });
  const list = await remote.request('tools/list');
  expect(((list.result?.tools ?? []) as { name: string }[]).map((t) => t.name).sort()).toEqual([
    'countdown',
    'echo',
  ]);
  const echo = await remote.request('tools/call', { name: 'echo', arguments: { message: 'via mcp-remote' } });
  expect(echo.result?.content).toEqual([{ type: 'text', text: 'via mcp-remote' }]);
  const before = remote.notifications.length;
  const sent = Date.now();
  const countdown = await remote.request('tools/call', {
    name: 'countdown',
    arguments: { n: 4, delayMs: 250 },
    _meta: { progressToken: 'cd-1' },
  });
  expect(countdown.error).toBeUndefined();
  const progress = remote.notifications
    .slice(before)
    .filter((n) => n.message.method === 'notifications/progress');
  expect(progress.map((p) => p.message.params?.progress)).toEqual([1, 2, 3, 4]);
  // One by one while the tool runs, not in one burst at the end.
  expect(progress[0]!.at - sent).toBeLessThan(900);
  expect(progress[3]!.at - progress[0]!.at).toBeGreaterThan(500);
}

const KINDS: SetupKind[] = ['demo', 'single-origin', 'two-origin'];

describe.each(KINDS)('mcp-remote in Chromium, %s', (kind) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup(kind);
  });
  afterAll(() => setup?.close());

  for (const [transport, path] of [
    ['http-only', '/mcp'],
    ['sse-only', '/sse'],
  ] as const) {
    it(`${transport === 'http-only' ? 'Streamable HTTP' : 'legacy SSE'}: sign in, then tools over stdio`, async () => {
      const configDir = tempDir();
      try {
        const { remote, browserMs } = await connectViaBrowser(setup, `${setup.proxyOrigin}${path}`, {
          transport,
          configDir,
        });
        recordTiming(`mcp-remote ${transport} ${kind}: browser sign-in`, browserMs);
        try {
          await exerciseTools(remote);
        } finally {
          await remote.stop();
        }
      } finally {
        rmSync(configDir, { recursive: true, force: true });
      }
    });
  }
});

/** The IdP saw no registration, only the facade's one client and its /callback. */
function expectOneUpstreamClient(setup: Setup, since: number) {
  const idp = setup.idp!;
  expect(idp.registrations()).toBe(0);
  const seen = idp.oauthRequests().slice(since);
  expect(seen.map((r) => r.path)).toEqual(expect.arrayContaining(['/auth', '/token']));
  for (const r of seen) {
    expect(r.clientId).toBe(setup.upstreamClientId);
    if (r.redirectUri !== undefined) expect(r.redirectUri).toBe(`${setup.facade}/callback`);
  }
}

describe('mcp-remote in Chromium, one upstream client at an IdP without registration', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup('two-origin', { upstreamClient: true });
  });
  afterAll(() => setup?.close());

  it('Streamable HTTP: register at the facade, consent, sign in, tools; the IdP sees one client', async () => {
    const configDir = tempDir();
    const since = setup.idp!.oauthRequests().length;
    try {
      const { remote, consentText } = await connectViaBrowser(setup, `${setup.proxyOrigin}/mcp`, {
        transport: 'http-only',
        configDir,
      });
      expect(consentText).toMatch(/not verified/);
      try {
        await exerciseTools(remote);
      } finally {
        await remote.stop();
      }
      expectOneUpstreamClient(setup, since);
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});

describe('mcp-remote in Chromium, what people run into (demo CLI)', { timeout: 60_000 }, () => {
  it('a wrong password is refused on the page, the right one then signs in', async () => {
    const setup = await startSetup('demo');
    const configDir = tempDir();
    try {
      const { remote } = await connectViaBrowser(setup, `${setup.proxyOrigin}/mcp`, {
        transport: 'http-only',
        configDir,
        wrongPasswords: ['not-the-password'],
      });
      try {
        await exerciseTools(remote);
      } finally {
        await remote.stop();
      }
    } finally {
      rmSync(configDir, { recursive: true, force: true });
      await setup.close();
    }
  });

  it('Deny reaches the client: error=access_denied at its redirect URI, and it stops waiting', async () => {
    const setup = await startSetup('demo');
    const configDir = tempDir();
    const remote = McpRemote.start(`${setup.proxyOrigin}/mcp`, { configDir, transport: 'http-only' });
    const user = await BrowserUser.open(browser);
    try {
      const authUrl = await remote.authorizationUrl();
      const callback = (await remote.callbackOrigin()).replace('127.0.0.1', 'localhost');
      const r = await user.signIn(authUrl, { ...setup.user, decision: 'deny', doneAt: callback });
      expect(r.landed.searchParams.get('error')).toBe('access_denied');
      expect(r.landed.searchParams.get('state')).toBe(authUrl.searchParams.get('state'));
      expect(r.landed.searchParams.get('iss')).toBe(setup.facade);
      await remote.waitForLog(/Authorization failed: access_denied/);
      // It gives up instead of waiting forever.
      expect(
        await Promise.race([remote.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]),
      ).not.toBe('still running');
    } finally {
      await user.close();
      await remote.stop();
      rmSync(configDir, { recursive: true, force: true });
      await setup.close();
    }
  });

  it('after the demo restarts, its stale token and registration make it register and sign in again', async () => {
    const ports = await freePorts();
    const configDir = tempDir();
    let setup = await startSetup('demo', { ports });
    try {
      const first = await connectViaBrowser(setup, `${setup.proxyOrigin}/mcp`, {
        transport: 'http-only',
        configDir,
      });
      await first.remote.stop();
      await setup.close();
      // Same URLs, new signing key, IdP keys and IdP clients: everything cached is stale.
      setup = await startSetup('demo', { ports });
      const again = await connectViaBrowser(setup, `${setup.proxyOrigin}/mcp`, {
        transport: 'http-only',
        configDir,
      });
      try {
        await exerciseTools(again.remote);
        // It registered again: the new facade's client id is not the stale one.
        expect(again.clientId).toBeTruthy();
        expect(again.clientId).not.toBe(first.clientId);
      } finally {
        await again.remote.stop();
      }
    } finally {
      rmSync(configDir, { recursive: true, force: true });
      await setup.close();
    }
  });

  it('works at 127.0.0.1 as well as localhost', async () => {
    const setup = await startSetup('demo');
    const configDir = tempDir();
    try {
      const url = setup.proxyOrigin.replace('localhost', '127.0.0.1');
      const { remote } = await connectViaBrowser(setup, `${url}/mcp`, { transport: 'http-only', configDir });
      try {
        await exerciseTools(remote);
      } finally {
        await remote.stop();
      }
    } finally {
      rmSync(configDir, { recursive: true, force: true });
      await setup.close();
    }
  });
});
