/**
 * The authorization-response relay (`discovery.signing_key` set): the IdP only knows the facade's
 * /callback; facade client ids and relay states are sealed, so links straight to the IdP, forged
 * ids and forged states go nowhere. End to end with the real MCP SDK client through one origin
 * (proxy + discovery function, embedded oidc-provider IdP), plus hostile cases.
 */
import { createHash, randomBytes } from 'node:crypto';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { redirectRegistered, unwrapClientId, wrapClientId } from '../../functions/discovery/client-id.ts';
import { issueRelayState, openCode } from '../../functions/discovery/relay.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { issuerKey } from '../../functions/shared/seal.ts';
import { answerConsent, authorizeWithConsent } from '../helpers/consent.ts';
import { freePort } from '../helpers/net.ts';
import { loginAndGetCode, MemoryOAuthProvider } from '../helpers/oauth-client.ts';

const KEY = randomBytes(32).toString('base64url');
const key = Buffer.from(KEY, 'utf8');
const OTHER_KEY = Buffer.from(randomBytes(32).toString('base64url'), 'utf8');

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
  edge = await startLocalSingleOrigin(
    parseConfig({
      provider: 'embedded',
      embedded: { port: idpPort, registration_token: idp.registrationToken },
      base_url: mcp.url,
      listen_port: port,
      discovery: { base_url: origin, signing_key: KEY, allowed_redirect_hosts: ['app.example'] },
      protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
    }),
    { port },
  );
});

afterAll(async () => {
  await edge?.close();
  await mcp?.close();
  await idp?.close();
});

const register = async (body: Record<string, unknown>) => {
  const res = await fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...body }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { client_id: string; client_secret?: string; redirect_uris: string[] };
};

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('SDK client with the relay', () => {
  it('completes DCR → consent → login → code (iss = facade) → token → tools/call', async () => {
    const meta = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json();
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    const auth = new MemoryOAuthProvider();
    const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
    await expect(new Client({ name: 'relay', version: '1' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const facadeId = auth.info!.client_id;
    expect(unwrapClientId(issuerKey(key, origin), facadeId)?.redirectUris).toEqual([auth.redirectUrl]);
    const { code, state, iss } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user);
    expect(state).toBe(auth.authorizationUrl!.searchParams.get('state'));
    expect(iss).toBe(origin); // RFC 9207: the facade, not the IdP
    await first.finishAuth(code);
    const client = new Client({ name: 'relay', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'relayed' } });
    expect(result.content).toEqual([{ type: 'text', text: 'relayed' }]);
    await client.close();
  });

  it('the IdP only ever sees its own client id and the facade callback', async () => {
    const c = await register({ redirect_uris: ['http://127.0.0.1:41000/cb'] });
    const { challenge } = pkce();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: c.client_id,
      redirect_uri: 'http://127.0.0.1:41999/cb', // another loopback port: allowed (RFC 8252 §7.3)
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's',
    });
    const res = await authorizeWithConsent(`${origin}/authorize?${q}`);
    expect(res.status).toBe(302);
    const at = new URL(res.headers.get('location')!);
    expect(at.origin).toBe(idp.issuer);
    expect(at.searchParams.get('client_id')).toBe(
      unwrapClientId(issuerKey(key, origin), c.client_id)!.idpClientId,
    );
    expect(at.searchParams.get('redirect_uri')).toBe(`${origin}/callback`);
    expect(at.searchParams.get('state')).not.toBe('s');
  });

  it('a confidential client authenticates at /token with its facade id (HTTP Basic)', async () => {
    const c = await register({
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(c.client_secret).toBeTruthy();
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: c.client_id,
      redirect_uri: 'https://app.example/cb',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'mcp:tools',
      resource: `${origin}/mcp`,
    });
    const { code } = await loginAndGetCode(
      new URL(`${origin}/authorize?${q}`),
      'https://app.example/cb',
      idp.user,
    );
    const res = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.client_id}:${encodeURIComponent(c.client_secret!)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'https://app.example/cb',
        code_verifier: verifier,
        resource: `${origin}/mcp`,
      }),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.access_token).toBeTruthy();
  });
});

describe('hostile input with the relay on', () => {
  const callback = (params: Record<string, string>, cookie?: string) =>
    fetch(`${origin}/callback?${new URLSearchParams(params)}`, {
      redirect: 'manual',
      headers: cookie ? { cookie: cookie.split(';')[0]! } : {},
    });
  /** The facade's own key for this issuer (seal.ts derives one per issuer). */
  const k = () => issuerKey(key, origin);
  const issue = (ru: string, st?: string, signer = k(), now?: number) =>
    issueRelayState(signer, { ru, st, clientId: 'mcp-x' }, now);

  it('refuses relay states it did not issue (forged, other key, expired, other browser) and iss mix-ups', async () => {
    const forged = Buffer.from(JSON.stringify({ ru: 'https://app.example/cb', t: 'relay' })).toString(
      'base64url',
    );
    const good = issue('https://app.example/cb');
    const otherKey = issue('https://app.example/cb', undefined, issuerKey(OTHER_KEY, origin));
    const otherIssuer = issue('https://app.example/cb', undefined, issuerKey(key, 'https://other.example'));
    const expired = issue('https://app.example/cb', undefined, k(), Date.now() - 3600_000);
    const cases: [Record<string, string>, string | undefined][] = [
      [{ code: 'c', state: forged }, undefined],
      [{ code: 'c', state: `${forged}.AAAA` }, undefined],
      [{ code: 'c', state: otherKey.state }, otherKey.cookie],
      [{ code: 'c', state: otherIssuer.state }, otherIssuer.cookie], // same key, another deployment
      [{ code: 'c', state: expired.state }, expired.cookie],
      [{ code: 'c', state: good.state }, undefined], // the browser that consented is not this one
      [{ code: 'c', state: good.state }, issue('https://app.example/cb').cookie], // another flow's cookie
      [{ code: 'c', state: `${good.state}*` }, good.cookie], // one spelling of the MAC only
      [{ code: 'c' }, good.cookie],
      [{ state: good.state }, good.cookie],
      [{ code: 'c', iss: 'https://other.example', state: good.state }, good.cookie],
    ];
    for (const [params, cookie] of cases) {
      const res = await callback(params, cookie);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('relays a genuine state from the same browser with the client state and iss, dropping error_uri', async () => {
    const a = issue('https://app.example/cb?a=1', 's');
    const ok = await callback({ code: 'c', iss: idp.issuer, state: a.state }, a.cookie);
    const to = new URL(ok.headers.get('location')!);
    const code = to.searchParams.get('code')!;
    to.searchParams.set('code', 'SEALED');
    expect(to.toString()).toBe(
      `https://app.example/cb?a=1&code=SEALED&state=s&iss=${encodeURIComponent(origin)}`,
    );
    // The IdP's code travels sealed to this client and redirect URI (relay.ts, sealCode).
    expect(openCode(k(), code, 'mcp-x', 'https://app.example/cb?a=1').code).toBe('c');
    expect(() => openCode(k(), code, 'mcp-y', 'https://app.example/cb?a=1')).toThrow(/invalid_grant|code/);
    expect(ok.headers.getSetCookie()[0]).toMatch(/^__Host-mcp-relay-[A-Za-z0-9_-]{8}=; .*Max-Age=0$/);
    // Single use on this instance: the same state and cookie again are refused.
    const again = await callback({ code: 'c2', iss: idp.issuer, state: a.state }, a.cookie);
    expect(again.status).toBe(400);
    expect(again.headers.get('location')).toBeNull();
    const b = issue('https://app.example/cb');
    const err = await callback(
      { error: 'access_denied', error_uri: 'https://evil.example/', state: b.state },
      b.cookie,
    );
    const loc = new URL(err.headers.get('location')!);
    expect(Object.fromEntries(loc.searchParams)).toEqual({ error: 'access_denied', iss: origin });
  });

  it('a state the attacker obtained by consenting in their own browser is useless in the victim’s', async () => {
    const mine = await register({ redirect_uris: ['https://app.example/attacker'] });
    const { challenge } = pkce();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: mine.client_id,
      redirect_uri: 'https://app.example/attacker',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'mcp:tools',
    });
    const attacker = await authorizeWithConsent(`${origin}/authorize?${q}`);
    expect(attacker.status).toBe(302);
    // The victim follows the IdP link (fresh browser: no relay cookie), signs in, and the IdP
    // returns to the facade's /callback, which refuses.
    await expect(
      loginAndGetCode(new URL(attacker.headers.get('location')!), 'https://app.example/attacker', idp.user),
    ).rejects.toThrow(/unexpected page 400/);
  });

  it('a link straight to the IdP with a trusted client and a made-up state cannot deliver a code', async () => {
    const victim = await register({ redirect_uris: ['https://app.example/cb'] });
    const { challenge } = pkce();
    const direct = new URL(`${idp.issuer}/auth`);
    direct.search = new URLSearchParams({
      response_type: 'code',
      client_id: unwrapClientId(issuerKey(key, origin), victim.client_id)!.idpClientId,
      redirect_uri: `${origin}/callback`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'mcp:tools',
      // Well-formed and unexpired, only the seal is missing: what an attacker can produce.
      state: `${Buffer.from(
        JSON.stringify({
          ru: 'http://127.0.0.1:31337/steal',
          cid: victim.client_id,
          exp: Math.floor(Date.now() / 1000) + 600,
          t: 'relay',
        }),
      ).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
    }).toString();
    // The victim signs in at the IdP; the IdP returns to the facade, which refuses the state.
    await expect(loginAndGetCode(direct, 'http://127.0.0.1:31337/steal', idp.user)).rejects.toThrow(
      /unexpected page 400/,
    );
  });

  it('refuses client ids it did not issue and redirect URIs the client did not register', async () => {
    const c = await register({ redirect_uris: ['https://app.example/cb'] });
    const { challenge } = pkce();
    const q = (over: Record<string, string>) =>
      new URLSearchParams({
        response_type: 'code',
        client_id: c.client_id,
        redirect_uri: 'https://app.example/cb',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...over,
      });
    const idpId = unwrapClientId(issuerKey(key, origin), c.client_id)!.idpClientId;
    const overrides: Record<string, string>[] = [
      { client_id: idpId }, // the bare IdP id
      { client_id: wrapClientId(issuerKey(OTHER_KEY, origin), idpId, ['http://127.0.0.1:1/steal']) }, // forged
      { client_id: `${c.client_id}x` },
      { redirect_uri: 'https://app.example/other' },
    ];
    for (const over of overrides) {
      const res = await fetch(`${origin}/authorize?${q(over)}`, { redirect: 'manual' });
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('/token refuses unknown ids and unregistered redirect URIs before calling the IdP', async () => {
    const c = await register({ redirect_uris: ['https://app.example/cb'] });
    const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${origin}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'c',
          code_verifier: 'v'.repeat(43),
          ...form,
        }),
      });
    const mismatch = await token({ client_id: c.client_id, redirect_uri: 'https://app.example/other' });
    expect(mismatch.status).toBe(400);
    expect((await mismatch.json()).error).toBe('invalid_grant');
    const bare = await token({
      client_id: unwrapClientId(issuerKey(key, origin), c.client_id)!.idpClientId,
      redirect_uri: 'https://app.example/cb',
    });
    // RFC 6749 §5.2 invalid_client: MCP clients then register again (e.g. after a key change).
    expect(bare.status).toBe(401);
    expect((await bare.json()).error).toBe('invalid_client');
    const none = await token({ redirect_uri: 'https://app.example/cb' });
    expect(none.status).toBe(401);
    const forgedBasic = await token(
      { redirect_uri: 'https://app.example/cb' },
      {
        authorization: `Basic ${Buffer.from(`${wrapClientId(issuerKey(OTHER_KEY, origin), 'x', ['https://app.example/cb'])}:s`).toString('base64')}`,
      },
    );
    expect(forgedBasic.status).toBe(401);
    const mixed = await token(
      { client_id: c.client_id, redirect_uri: 'https://app.example/cb' },
      { authorization: `Basic ${Buffer.from('someone-else:s').toString('base64')}` },
    );
    expect(mixed.status).toBe(401); // form and Basic naming different clients
  });
});

describe('the consent page and refusals with the relay on', () => {
  const authorizeQuery = (clientId: string, redirectUri: string, over: Record<string, string> = {}) =>
    new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
      state: 'client-state-1',
      scope: 'mcp:tools',
      ...over,
    });

  it('names the client by its registered name (escaped, marked unverified) and its facade id', async () => {
    const c = await register({
      redirect_uris: ['https://app.example/cb'],
      client_name: 'Acme <script>alert(1)</script> "Agent"',
    });
    const page = await fetch(`${origin}/authorize?${authorizeQuery(c.client_id, 'https://app.example/cb')}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Acme &lt;script&gt;alert(1)&lt;/script&gt; &quot;Agent&quot;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('not verified');
    expect(html).toContain(c.client_id);
    // The IdP-side id stays inside the facade.
    expect(html).not.toContain(unwrapClientId(issuerKey(key, origin), c.client_id)!.idpClientId);
  });

  it('Deny goes back to the registered redirect URI with access_denied, the state and iss; nothing reaches the IdP', async () => {
    const c = await register({ redirect_uris: ['https://app.example/cb'] });
    const url = `${origin}/authorize?${authorizeQuery(c.client_id, 'https://app.example/cb')}`;
    const before = idp.requests();
    const res = await answerConsent(await fetch(url), url, 'deny');
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe('https://app.example/cb');
    expect(Object.fromEntries(to.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied access',
      state: 'client-state-1',
      iss: origin,
    });
    expect(res.headers.getSetCookie()[0]).toMatch(/^__Host-mcp-consent=; .*Max-Age=0$/);
    expect(idp.requests()).toBe(before);
  });

  it('a consent form edited to carry an unregistered redirect URI is refused, Deny included, without a redirect', async () => {
    const c = await register({ redirect_uris: ['https://app.example/cb'] });
    const url = `${origin}/authorize?${authorizeQuery(c.client_id, 'https://app.example/cb')}`;
    for (const decision of ['deny', 'allow'] as const) {
      const page = await fetch(url);
      const edited = new Response((await page.text()).replace(/app\.example%2Fcb/g, 'app.example%2Fother'), {
        status: 200,
        headers: page.headers,
      });
      const res = await answerConsent(edited, url, decision);
      // The sealed consent token names the exact request: an edited one is refused outright.
      expect(res.status, decision).toBe(403);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('an unknown client id is invalid_client (clients re-register), as JSON for clients and as a page for people', async () => {
    const q = authorizeQuery(
      wrapClientId(issuerKey(OTHER_KEY, origin), 'x', ['https://app.example/cb']),
      'https://app.example/cb',
    );
    const json = await fetch(`${origin}/authorize?${q}`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      error: 'invalid_client',
      error_description: 'unknown client_id: register again',
    });
    const page = await fetch(`${origin}/authorize?${q}`, {
      headers: { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' },
    });
    expect(page.status).toBe(400);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('Unknown client_id: register again.');
    expect(html).not.toContain('not issued by this facade'); // the internal reason stays in the log
  });
});

describe('client ids', () => {
  it('are sealed: the registered URIs come back only under the same key', () => {
    const id = wrapClientId(key, 'abc.def', ['https://app.example/cb']);
    expect(id.startsWith('mcp-')).toBe(true);
    expect(unwrapClientId(key, id)).toEqual({
      idpClientId: 'abc.def',
      redirectUris: ['https://app.example/cb'],
    });
    expect(unwrapClientId(OTHER_KEY, id)).toBeUndefined();
    expect(unwrapClientId(key, 'plain-id')).toBeUndefined();
  });

  it.each([
    ['https://app.example/cb', true],
    ['https://app.example/cb2', false],
    ['http://127.0.0.1:9999/cb', true],
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
