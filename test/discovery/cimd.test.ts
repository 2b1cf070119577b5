/**
 * Client ID Metadata Documents through the facade (proxy + discovery on one origin, embedded
 * oidc-provider IdP with one pre-registered client for the facade's callback): the real SDK client
 * with `clientMetadataUrl` signs in and calls a tool; hostile documents and URLs are refused with
 * the exact status before anything reaches the IdP; caching follows the document's headers.
 * Documents are served over https on loopback, reachable only through the test seam.
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
import type { DocumentFetchOptions } from '../../functions/discovery/cimd-fetch.ts';
import { sealRefreshTokens } from '../../functions/discovery/client-binding/refresh.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { issuerKey } from '../../functions/shared/seal.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';
import { type DocumentHost, json, startDocumentHost } from '../helpers/document-host.ts';
import { freePort, sleep } from '../helpers/net.ts';
import { loginAndGetCode, MemoryOAuthProvider } from '../helpers/oauth-client.ts';

const SIGNING_KEY = randomBytes(32).toString('base64url');

const REDIRECT = 'http://127.0.0.1:53682/callback';
const FACADE_CLIENT = 'facade-cimd';

const doc =
  (extra: Record<string, unknown> = {}) =>
  (origin: string) => ({
    client_name: 'Document Client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
    client_id: extra.client_id ?? `${origin}${extra.path ?? '/good.json'}`,
  });

let docs: DocumentHost;
let idp: DemoIdp;
let mcp: DemoMcpServer;
const edges: RunningServer[] = [];
let origin: string;
let closedOrigin: string;

async function facade(documentFetch: DocumentFetchOptions | undefined, extra: Record<string, unknown> = {}) {
  const port = await freePort();
  const o = `http://localhost:${port}`;
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idp.port, registration_token: idp.registrationToken },
    base_url: mcp.url,
    listen_port: port,
    discovery: {
      base_url: o,
      signing_key: randomBytes(32).toString('base64url'),
      cimd_idp_client_id: FACADE_CLIENT,
      ...extra,
    },
    protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
  });
  edges.push(await startLocalSingleOrigin(config, { port, discovery: { handler: { documentFetch } } }));
  return o;
}

beforeAll(async () => {
  docs = await startDocumentHost({
    '/good.json': json(doc(), { 'cache-control': 'max-age=120' }),
    '/nocache.json': json(doc({ path: '/nocache.json' }), { 'cache-control': 'no-store' }),
    '/mismatch.json': json(doc({ client_id: 'https://other.example/client.json' })),
    '/redirect.json': (_q, res) => res.writeHead(302, { location: 'https://10.0.0.1/client.json' }).end(),
    '/big.json': json(doc({ path: '/big.json', client_uri: `https://x.example/${'a'.repeat(6000)}` })),
    '/slow.json': (_q, res) => {
      setTimeout(() => json(doc({ path: '/slow.json' }))(_q, res, docs.origin), 2000).unref();
    },
    '/html.json': (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hi</h1>'),
    '/broken.json': (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'),
    '/secret.json': json(doc({ path: '/secret.json', client_secret: 'shh' })),
    '/basic.json': json(doc({ path: '/basic.json', token_endpoint_auth_method: 'client_secret_basic' })),
    '/jwt.json': json(doc({ path: '/jwt.json', token_endpoint_auth_method: 'private_key_jwt' })),
    '/noname.json': json(doc({ path: '/noname.json', client_name: undefined })),
    '/gone.json': (_q, res) => res.writeHead(404).end(),
  });
  const port = await freePort();
  idp = await startDemoIdp({
    port: await freePort(),
    resourcePrefixes: [`http://localhost:${port}`],
    cimdClient: { clientId: FACADE_CLIENT, redirectUri: `http://localhost:${port}/callback` },
  });
  mcp = await startDemoMcpServer();
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: idp.port, registration_token: idp.registrationToken },
    base_url: mcp.url,
    listen_port: port,
    discovery: {
      base_url: `http://localhost:${port}`,
      signing_key: SIGNING_KEY,
      cimd_idp_client_id: FACADE_CLIENT,
    },
    protected_resource_metadata: { scopes_supported: ['mcp:tools'] },
  });
  const seams = { allowLoopback: true, ca: docs.ca, timeoutMs: 500 };
  edges.push(
    await startLocalSingleOrigin(config, { port, discovery: { handler: { documentFetch: seams } } }),
  );
  origin = `http://localhost:${port}`;
  // The same facade without the test allowance: loopback is refused like any special-use address.
  closedOrigin = await facade({ ca: docs.ca, timeoutMs: 500 });
});

afterAll(async () => {
  await Promise.all(edges.map((e) => e.close()));
  await mcp?.close();
  await idp?.close();
  await docs?.close();
});

class DocumentClientProvider extends MemoryOAuthProvider {
  constructor(readonly clientMetadataUrl: string) {
    super(REDIRECT);
  }
}

const authorizeUrl = (at: string, clientId: string, redirectUri = REDIRECT) => {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
  });
  return `${at}/authorize?${q}`;
};

describe('a client identified by its metadata document', () => {
  it('advertises client_id_metadata_document_supported', async () => {
    const meta = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json();
    expect(meta.client_id_metadata_document_supported).toBe(true);
    expect(meta.registration_endpoint).toBe(`${origin}/register`); // DCR stays for older clients
  });

  it('the SDK client (clientMetadataUrl) signs in without registering and calls a tool', async () => {
    const registrations = idp.registrations();
    const url = `${docs.origin}/good.json`;
    const auth = new DocumentClientProvider(url);
    const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth });
    await expect(new Client({ name: 'cimd', version: '1' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(auth.info?.client_id).toBe(url);
    expect(auth.authorizationUrl!.searchParams.get('client_id')).toBe(url);
    const { code, iss } = await loginAndGetCode(auth.authorizationUrl!, REDIRECT, idp.user);
    expect(iss).toBe(origin);
    await first.finishAuth(code);
    const client = new Client({ name: 'cimd', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: auth }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'by document' } });
    expect(result.content).toEqual([{ type: 'text', text: 'by document' }]);
    await client.close();
    // No registration anywhere: neither at the facade nor at the IdP.
    expect(idp.registrations()).toBe(registrations);
  });

  it('the consent page names the verified host, and the IdP sees only the facade client', async () => {
    const page = await fetch(authorizeUrl(origin, `${docs.origin}/good.json`));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<strong class="host">${new URL(docs.origin).host}</strong>`);
    expect(html).toMatch(/verified host/);
    expect(html).toContain('Document Client');
    expect(html).not.toMatch(/it is not verified/);
    expect(html).toMatch(/Caution:.*program on this computer/);
    const res = await authorizeWithConsent(authorizeUrl(origin, `${docs.origin}/good.json`));
    expect(res.status).toBe(302);
    const at = new URL(res.headers.get('location')!);
    expect(at.origin).toBe(idp.issuer);
    expect(at.searchParams.get('client_id')).toBe(FACADE_CLIENT);
    expect(at.searchParams.get('redirect_uri')).toBe(`${origin}/callback`);
  });

  it('caches a document as its Cache-Control allows, and not one marked no-store', async () => {
    const good = docs.hits('/good.json');
    await fetch(authorizeUrl(origin, `${docs.origin}/good.json`));
    expect(docs.hits('/good.json')).toBe(good); // fetched by an earlier test, max-age=120
    for (let i = 0; i < 2; i++)
      expect((await fetch(authorizeUrl(origin, `${docs.origin}/nocache.json`))).status).toBe(200);
    expect(docs.hits('/nocache.json')).toBe(2);
  });
});

describe('hostile documents and URLs: 400, nothing at the IdP', () => {
  const refused = async (
    at: () => string,
    clientId: () => string,
    code: string,
    description: RegExp,
    redirectUri = REDIRECT,
  ) => {
    const before = idp.requests();
    const res = await fetch(authorizeUrl(at(), clientId(), redirectUri), { redirect: 'manual' });
    const body = await res.json();
    expect({ status: res.status, error: body.error }).toEqual({ status: 400, error: code });
    expect(body.error_description).toMatch(description);
    expect(idp.requests()).toBe(before);
  };

  const cases: [string, string, RegExp][] = [
    ['/mismatch.json', 'client_id mismatch', /does not match its URL/],
    ['/redirect.json', 'a redirect (to a private address)', /could not be fetched/],
    ['/big.json', 'over 5 KB', /could not be fetched/],
    ['/slow.json', 'slower than the time limit', /could not be fetched/],
    ['/html.json', 'not JSON (text/html)', /could not be fetched/],
    ['/broken.json', 'malformed JSON', /could not be fetched/],
    ['/secret.json', 'with client_secret', /must not contain client_secret/],
    ['/basic.json', 'with client_secret_basic', /must be none/],
    ['/jwt.json', 'with private_key_jwt', /must be none/],
    ['/noname.json', 'without client_name', /client_name/],
    ['/gone.json', 'a 404', /could not be fetched/],
  ];
  it.each(cases)('%s (%s)', async (path, _what, description) => {
    await refused(
      () => origin,
      () => `${docs.origin}${path}`,
      'invalid_client',
      description,
    );
    if (path !== '/slow.json') expect(docs.hits(path)).toBeGreaterThan(0);
  });

  it('a redirect is never followed', async () => {
    const before = docs.hits();
    await refused(
      () => origin,
      () => `${docs.origin}/redirect.json`,
      'invalid_client',
      /could not be fetched/,
    );
    expect(docs.hits()).toBe(before + 1);
  });

  it('the slow document is given up after the time limit', async () => {
    const t0 = Date.now();
    await refused(
      () => origin,
      () => `${docs.origin}/slow.json`,
      'invalid_client',
      /could not be fetched/,
    );
    expect(Date.now() - t0).toBeLessThan(1800);
  });

  it('redirect_uri not listed in the document', async () => {
    await refused(
      () => origin,
      () => `${docs.origin}/good.json`,
      'invalid_request',
      /redirect_uri is not registered/,
      'http://127.0.0.1:53682/elsewhere',
    );
  });

  it('an http client_id URL is no document (never fetched)', async () => {
    const before = docs.hits();
    await refused(
      () => origin,
      () => `http://localhost:${new URL(docs.origin).port}/good.json`,
      'invalid_client',
      /unknown client_id/,
    );
    expect(docs.hits()).toBe(before);
  });

  it.each([
    ['https://10.0.0.1/client.json', /could not be fetched/],
    ['https://[::1]/client.json', /could not be fetched/],
    ['https://169.254.169.254/latest/meta-data/', /could not be fetched/],
    ['https://[::ffff:7f00:1]/client.json', /could not be fetched/],
    ['https://example.com/', /must contain a path/],
    ['https://example.com/a/../client.json', /normalised form/],
    ['https://user:pw@example.com/client.json', /user information/],
    ['https://EXAMPLE.com/client.json', /normalised form/],
  ])('%s is refused before any connection', async (clientId, description) => {
    await refused(
      () => closedOrigin,
      () => clientId,
      'invalid_client',
      description,
    );
  });

  it('loopback is refused without the test allowance (the document host sees nothing)', async () => {
    const before = docs.hits();
    await refused(
      () => closedOrigin,
      () => `${docs.origin}/good.json`,
      'invalid_client',
      /could not be fetched/,
    );
    expect(docs.hits()).toBe(before);
  });

  it('a document client presenting client authentication at /token is refused (401)', async () => {
    const before = idp.requests();
    const res = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('x:y').toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: `${docs.origin}/good.json`,
        code: 'junk',
        redirect_uri: REDIRECT,
        code_verifier: 'v'.repeat(43),
      }),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('invalid_client');
    expect(idp.requests()).toBe(before);
  });

  it('a code the facade did not relay is refused at /token without an IdP call', async () => {
    const before = idp.requests();
    const res = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: `${docs.origin}/good.json`,
        code: 'junk',
        redirect_uri: REDIRECT,
        code_verifier: 'v'.repeat(43),
      }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_grant');
    expect(idp.requests()).toBe(before);
  });

  it('a refresh token is good only for the document client it was issued to (all are one IdP client)', async () => {
    // What the facade hands a document client: the IdP's refresh token sealed to its client id.
    const key = issuerKey(Buffer.from(SIGNING_KEY, 'utf8'), origin);
    const sealedFor = (clientId: string) =>
      sealRefreshTokens({ status: 200, json: { refresh_token: 'idp-rt' } } as never, key, clientId).json!
        .refresh_token as string;
    const refresh = (clientId: string, refreshToken: string) =>
      fetch(`${origin}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: refreshToken,
        }),
      });
    const before = idp.requests();
    for (const token of [
      sealedFor(`${docs.origin}/nocache.json`),
      'idp-rt',
      `${sealedFor(`${docs.origin}/good.json`)}x`,
    ]) {
      const res = await refresh(`${docs.origin}/good.json`, token);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('invalid_grant');
    }
    expect(idp.requests()).toBe(before);
    // Its own goes on to the IdP (which does not know this made-up token: its own refusal).
    const own = await refresh(`${docs.origin}/good.json`, sealedFor(`${docs.origin}/good.json`));
    expect(idp.requests()).toBeGreaterThan(before);
    expect(own.status).toBe(400);
  });
});

describe('turned off', () => {
  it('client_id_metadata_documents: false → not advertised, https client ids unknown', async () => {
    const off = await facade({ allowLoopback: true, ca: docs.ca }, { client_id_metadata_documents: false });
    const meta = await (await fetch(`${off}/.well-known/oauth-authorization-server`)).json();
    expect(meta.client_id_metadata_document_supported).toBeUndefined();
    const before = docs.hits();
    const res = await fetch(authorizeUrl(off, `${docs.origin}/good.json`));
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_client');
    await sleep(10);
    expect(docs.hits()).toBe(before);
  });
});
