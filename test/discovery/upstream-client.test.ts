/**
 * One upstream client (`discovery.upstream_client`): the facade registers MCP clients itself and
 * talks to an IdP WITHOUT a registration endpoint (oidc-provider, the `oidc` provider) as one
 * pre-registered confidential client. The real MCP SDK client, public and confidential, through
 * one origin (proxy + facade) to a tool call; the IdP sees no registration, one client id and the
 * facade's /callback only. Hostile: facade secrets of other clients, wrong secrets, secrets from
 * public clients, other clients' refresh tokens: 401/400 before any IdP call.
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
import { ownClientSecret, unwrapOwnClientId } from '../../functions/discovery/client-id.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { issuerKey } from '../../functions/shared/seal.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';
import { freePort } from '../helpers/net.ts';
import { loginAndGetCode, MemoryOAuthProvider } from '../helpers/oauth-client.ts';

const KEY = randomBytes(32).toString('base64url');
const key = Buffer.from(KEY, 'utf8');
const UPSTREAM = { clientId: 'mcp-facade', clientSecret: randomBytes(24).toString('base64url') };

let idp: DemoIdp;
let mcp: DemoMcpServer;
let edge: RunningServer;
let origin: string;
/** The same facade with a wrong upstream secret (a misconfiguration). */
let misconfigured: RunningServer;
let wrongOrigin: string;

const configFor = (o: string, port: number, secret: string) =>
  parseConfig({
    provider: 'oidc',
    default: { base_url: idp.issuer },
    base_url: mcp.url,
    listen_port: port,
    discovery: {
      base_url: o,
      signing_key: KEY,
      upstream_client: { client_id: UPSTREAM.clientId, client_secret: secret },
    },
    protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
  });

beforeAll(async () => {
  const idpPort = await freePort();
  const port = await freePort();
  const wrongPort = await freePort();
  origin = `http://localhost:${port}`;
  wrongOrigin = `http://localhost:${wrongPort}`;
  idp = await startDemoIdp({
    port: idpPort,
    resourcePrefixes: [origin, wrongOrigin],
    registration: false,
    facadeClient: { ...UPSTREAM, redirectUris: [`${origin}/callback`, `${wrongOrigin}/callback`] },
  });
  mcp = await startDemoMcpServer();
  edge = await startLocalSingleOrigin(configFor(origin, port, UPSTREAM.clientSecret), { port });
  misconfigured = await startLocalSingleOrigin(configFor(wrongOrigin, wrongPort, 'not-the-secret'), {
    port: wrongPort,
  });
});

afterAll(async () => {
  await misconfigured?.close();
  await edge?.close();
  await mcp?.close();
  await idp?.close();
});

/** The SDK client signs in (consent, login) and calls a tool; returns its provider. */
async function signInAndCall(auth: MemoryOAuthProvider, message: string) {
  const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
  await expect(new Client({ name: 'upc', version: '1' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  const { code, iss } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user);
  expect(iss).toBe(origin);
  await first.finishAuth(code);
  const client = new Client({ name: 'upc', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth }));
  const result = await client.callTool({ name: 'echo', arguments: { message } });
  expect(result.content).toEqual([{ type: 'text', text: message }]);
  await client.close();
}

const register = async (body: Record<string, unknown>) => {
  const res = await fetch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:41000/cb'], ...body }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as {
    client_id: string;
    client_secret?: string;
    token_endpoint_auth_method: string;
  };
};

const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A code grant that would be fine but for the client authentication (the code is junk). */
const CODE_GRANT = {
  grant_type: 'authorization_code',
  code: 'junk',
  redirect_uri: 'http://127.0.0.1:41000/cb',
  code_verifier: 'v'.repeat(43),
};

describe('one upstream client, IdP without dynamic client registration', () => {
  it('the IdP has no registration endpoint; the facade still offers one', async () => {
    const idpMeta = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
    expect(idpMeta.registration_endpoint).toBeUndefined();
    const meta = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json();
    expect(meta.registration_endpoint).toBe(`${origin}/register`);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('public SDK client: register (no IdP call) → consent → login → token → tools/call; the IdP sees one client and /callback', async () => {
    const before = idp.requests();
    const c = await register({ token_endpoint_auth_method: 'none', client_name: 'probe' });
    expect(idp.requests()).toBe(before); // registration made no IdP call at all
    expect(c.client_secret).toBeUndefined();
    expect(unwrapOwnClientId(issuerKey(key, origin), c.client_id)?.authMethod).toBe('none');

    const seen = idp.oauthRequests().length;
    await signInAndCall(new MemoryOAuthProvider(), 'public client');
    expect(idp.registrations()).toBe(0);
    const oauth = idp.oauthRequests().slice(seen);
    expect(oauth.map((r) => r.path)).toEqual(expect.arrayContaining(['/auth', '/token']));
    for (const r of oauth) {
      expect(r.clientId).toBe(UPSTREAM.clientId);
      if (r.redirectUri !== undefined) expect(r.redirectUri).toBe(`${origin}/callback`);
    }
    // RFC 8707 `resource` reaches the IdP (generic dialect): the token is bound to /mcp.
    expect(oauth.find((r) => r.path === '/auth')?.resource).toBe(`${origin}/mcp`);
  });

  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    it(`confidential SDK client (${method}): the facade's secret at /token, the IdP never sees it`, async () => {
      const auth = new MemoryOAuthProvider('http://127.0.0.1:53682/callback', method);
      await signInAndCall(auth, method);
      const info = auth.info as { client_id: string; client_secret?: string };
      expect(info.client_secret).toBe(ownClientSecret(issuerKey(key, origin), info.client_id));
      expect(idp.registrations()).toBe(0);
    });
  }

  it('a refresh token works for its client and no other', async () => {
    const auth = new MemoryOAuthProvider();
    await signInAndCall(auth, 'refresh');
    const rt = auth.saved!.refresh_token!;
    expect(rt).toMatch(/^mcpr-/); // sealed to this client
    const other = await register({ token_endpoint_auth_method: 'none' });
    const before = idp.requests();
    const stolen = await token({
      grant_type: 'refresh_token',
      refresh_token: rt,
      client_id: other.client_id,
    });
    expect(stolen.status).toBe(400);
    expect((await stolen.json()).error).toBe('invalid_grant');
    expect(idp.requests()).toBe(before);
    const own = await token({
      grant_type: 'refresh_token',
      refresh_token: rt,
      client_id: auth.info!.client_id,
    });
    expect(own.status).toBe(200);
    const body = await own.json();
    expect(body.access_token).toBeTruthy();
    if (body.refresh_token) expect(body.refresh_token).toMatch(/^mcpr-/);
  });
});

it('the IdP refusing the facade its own credentials is a 502 for the client, not invalid_client', async () => {
  const auth = new MemoryOAuthProvider();
  const first = new StreamableHTTPClientTransport(new URL(`${wrongOrigin}/mcp`), { authProvider: auth });
  await expect(new Client({ name: 'upc', version: '1' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  const { code } = await loginAndGetCode(auth.authorizationUrl!, auth.redirectUrl, idp.user);
  const res = await fetch(`${wrongOrigin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: auth.redirectUrl,
      code_verifier: auth.codeVerifier(),
      client_id: auth.info!.client_id,
    }),
  });
  expect(res.status).toBe(502);
  expect((await res.json()).error).toBe('server_error');
});

describe('hostile token requests in one-upstream-client mode: 401 invalid_client, no IdP call', () => {
  const refused = async (res: Response, before: number) => {
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_client');
    expect(idp.requests()).toBe(before);
  };

  it("another client's facade secret", async () => {
    const a = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    const b = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    const before = idp.requests();
    await refused(await token(CODE_GRANT, { authorization: basic(a.client_id, b.client_secret!) }), before);
  });

  it('a wrong secret, basic and post', async () => {
    const a = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    const p = await register({ token_endpoint_auth_method: 'client_secret_post' });
    const before = idp.requests();
    const wrong = `${a.client_secret!.slice(0, -1)}${a.client_secret!.endsWith('A') ? 'B' : 'A'}`;
    await refused(await token(CODE_GRANT, { authorization: basic(a.client_id, wrong) }), before);
    await refused(await token({ ...CODE_GRANT, client_id: p.client_id, client_secret: 'nope' }), before);
    await refused(await token({ ...CODE_GRANT, client_id: p.client_id }), before); // no secret at all
  });

  it('a public client trying to use a secret', async () => {
    const pub = await register({ token_endpoint_auth_method: 'none' });
    const conf = await register({ token_endpoint_auth_method: 'client_secret_post' });
    const before = idp.requests();
    const forged = ownClientSecret(issuerKey(key, origin), pub.client_id); // even the "right" one
    await refused(await token({ ...CODE_GRANT, client_id: pub.client_id, client_secret: forged }), before);
    await refused(
      await token(CODE_GRANT, { authorization: basic(pub.client_id, conf.client_secret!) }),
      before,
    );
  });

  it('a confidential client using another method than it registered, or two at once', async () => {
    const a = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    const before = idp.requests();
    await refused(
      await token({ ...CODE_GRANT, client_id: a.client_id, client_secret: a.client_secret! }),
      before,
    );
    await refused(
      await token(
        { ...CODE_GRANT, client_secret: a.client_secret! },
        { authorization: basic(a.client_id, a.client_secret!) },
      ),
      before,
    );
  });

  it("the upstream client's own id or secret, and ids of the per-registration relay", async () => {
    const before = idp.requests();
    await refused(
      await token(CODE_GRANT, { authorization: basic(UPSTREAM.clientId, UPSTREAM.clientSecret) }),
      before,
    );
    await refused(await token({ ...CODE_GRANT, client_id: 'mcp-eyJ4IjoxfQ.junk' }), before);
  });

  it('a genuine secret with a junk code gets no further than the facade', async () => {
    const a = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    const before = idp.requests();
    const res = await token(CODE_GRANT, { authorization: basic(a.client_id, a.client_secret!) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
    expect(idp.requests()).toBe(before);
  });

  it('/authorize refuses ids the facade did not issue, and unregistered redirect URIs, before the IdP', async () => {
    const c = await register({ token_endpoint_auth_method: 'none' });
    const challenge = createHash('sha256').update('v'.repeat(43)).digest('base64url');
    const q = (clientId: string, redirectUri: string) =>
      new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
    const before = idp.requests();
    const forged = await authorizeWithConsent(
      `${origin}/authorize?${q(UPSTREAM.clientId, 'http://127.0.0.1:41000/cb')}`,
    );
    expect(forged.status).toBe(400);
    const elsewhere = await authorizeWithConsent(
      `${origin}/authorize?${q(c.client_id, 'https://evil.example/cb')}`,
    );
    expect(elsewhere.status).toBe(400);
    expect(idp.requests()).toBe(before);
  });
});

describe('client_credentials in one-upstream-client mode', () => {
  const machine = (id: string, secret: string) =>
    fetch(`${origin}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'mcp:tools',
        resource: `${origin}/mcp`,
      }),
    });

  it('a machine client registered at the IdP gets its token; the facade’s own client and its clients cannot', async () => {
    const ok = await machine(idp.cliClient.clientId, idp.cliClient.clientSecret);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { access_token?: string }).access_token).toBeTruthy();
    const reg = (await (
      await fetch(`${origin}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1:5000/cb'],
          token_endpoint_auth_method: 'client_secret_basic',
        }),
      })
    ).json()) as { client_id: string; client_secret: string };
    const before = idp.requests();
    for (const [id, secret] of [
      [reg.client_id, reg.client_secret],
      [UPSTREAM.clientId, UPSTREAM.clientSecret],
    ] as const) {
      const res = await machine(id, secret);
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('unauthorized_client');
    }
    expect(idp.requests()).toBe(before);
  });
});
