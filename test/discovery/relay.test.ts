/**
 * The authorization-response relay: the IdP only knows the facade's /callback; the facade
 * re-validates where the code goes, restores the client's state and adds RFC 9207 `iss`.
 * Against the discovery function in the local runner with the embedded oidc-provider behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalDiscovery } from '../../bin/local/runner.ts';
import { redirectRegistered, unwrapClientId, wrapClientId } from '../../functions/discovery/client-id.ts';
import { encodeRelayState } from '../../functions/discovery/relay.ts';
import { parseConfig } from '../../functions/shared/config.ts';
import { freePort } from '../helpers/net.ts';

let idp: DemoIdp;
let disc: RunningServer;

beforeAll(async () => {
  const idpPort = await freePort();
  idp = await startDemoIdp({ port: idpPort, resourcePrefixes: ['http://localhost:8080'] });
  disc = await startLocalDiscovery(
    parseConfig({
      provider: 'embedded',
      embedded: { port: idpPort },
      base_url: 'http://localhost:1',
      discovery: { allowed_redirect_hosts: ['app.example'] },
    }),
  );
});
afterAll(async () => {
  await disc?.close();
  await idp?.close();
});

const callback = (params: Record<string, string>) =>
  fetch(`${disc.url}/callback?${new URLSearchParams(params)}`, { redirect: 'manual' });

describe('GET /callback', () => {
  it('relays a code to the client with its own state and the facade as iss', async () => {
    const res = await callback({
      code: 'c',
      state: encodeRelayState({ ru: 'https://app.example/cb?x=1', st: 's' }),
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('location')).toBe(
      `https://app.example/cb?x=1&code=c&state=s&iss=${encodeURIComponent(disc.url)}`,
    );
  });

  it('relays an IdP error (the client must learn the user said no)', async () => {
    const res = await callback({
      error: 'access_denied',
      error_description: 'no',
      state: encodeRelayState({ ru: 'http://127.0.0.1:5/cb' }),
    });
    const loc = new URL(res.headers.get('location')!);
    expect(Object.fromEntries(loc.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'no',
      iss: disc.url,
    });
  });

  const refused: [string, Record<string, string>][] = [
    // A link straight to the IdP with an attacker's state cannot send the code anywhere else.
    [
      'a redirect host that is not allowed',
      { code: 'c', state: encodeRelayState({ ru: 'https://attacker.net/cb' }) },
    ],
    ['a javascript: redirect', { code: 'c', state: encodeRelayState({ ru: 'javascript:alert(1)' }) }],
    ['a malformed state', { code: 'c', state: '%%%' }],
    ['no state', { code: 'c' }],
    ['neither code nor error', { state: encodeRelayState({ ru: 'https://app.example/cb' }) }],
    [
      'an iss that is not the IdP (mix-up)',
      {
        code: 'c',
        iss: 'https://other-idp.example',
        state: encodeRelayState({ ru: 'https://app.example/cb' }),
      },
    ],
  ];
  for (const [name, params] of refused) {
    it(`refuses ${name} with 400 and no redirect`, async () => {
      const res = await callback(params);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    });
  }

  it('accepts the IdP’s own iss', async () => {
    const res = await callback({
      code: 'c',
      iss: idp.issuer,
      state: encodeRelayState({ ru: 'https://app.example/cb' }),
    });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('iss')).toBe(disc.url);
  });
});

describe('POST /token checks the redirect URI the client registered', () => {
  it('refuses a code exchange with an unregistered redirect_uri before calling the IdP', async () => {
    const clientId = wrapClientId('idp-1', ['http://127.0.0.1:7000/cb']);
    const res = await fetch(`${disc.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'c',
        client_id: clientId,
        redirect_uri: 'https://app.example/cb',
        code_verifier: 'v'.repeat(43),
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'redirect_uri is not registered for this client',
    });
  });
});

describe('client ids', () => {
  it('carry the registered redirect URIs; foreign ids pass through', () => {
    const id = wrapClientId('abc.def', ['https://app.example/cb']);
    expect(id.startsWith('mcp-')).toBe(true);
    expect(unwrapClientId(id)).toEqual({ idpClientId: 'abc.def', redirectUris: ['https://app.example/cb'] });
    expect(unwrapClientId('plain-id')).toEqual({ idpClientId: 'plain-id' });
    expect(unwrapClientId('mcp-not-base64-json')).toEqual({ idpClientId: 'mcp-not-base64-json' });
  });

  it.each([
    ['https://app.example/cb', true],
    ['https://app.example/cb2', false],
    ['http://127.0.0.1:9999/cb', true], // RFC 8252 §7.3: any port on loopback
    ['http://127.0.0.1:9999/other', false],
    ['http://localhost:1234/cb', true],
    ['http://127.0.0.2:8000/cb', false],
  ])('%s registered? %s', (uri, ok) => {
    expect(
      redirectRegistered(uri, [
        'https://app.example/cb',
        'http://127.0.0.1:8000/cb',
        'http://localhost:3000/cb',
      ]),
    ).toBe(ok);
  });
});
