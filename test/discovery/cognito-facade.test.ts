/**
 * The discovery facade (functions/discovery/index.ts) with the Cognito provider, against
 * cognito-local: /register → /authorize → managed login → /token, then the proxy's verifier
 * selected for provider "cognito" checks the access token (up to the resource-server scope,
 * which cognito-local cannot issue). Hostile registrations create nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ListUserPoolClientsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscovery } from '../../functions/discovery/index.ts';
import { createCognitoProvider } from '../../functions/discovery/providers/cognito.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
import { createVerifier } from '../../functions/proxy/verifiers.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';
import { silentLogger } from '../../functions/shared/log.ts';
import { COGNITO_CREDENTIALS, type CognitoLocal, startCognitoLocal } from '../helpers/cognito-local.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';

const FACADE = 'https://auth.mcp.example.com';
let cl: CognitoLocal;
let cfg: Config;
let facade: ReturnType<typeof createDiscovery>;

beforeAll(async () => {
  cl = await startCognitoLocal();
  await cl.addUser('bob@example.com', 'Corr3ct-Horse!');
  cfg = parseConfig({
    base_url: 'http://127.0.0.1:1',
    provider: 'cognito',
    discovery: { base_url: FACADE },
    // cognito-local's tokens carry only the generic scope aws.cognito.signin.user.admin (see
    // cognito.md), which the proxy refuses: a resource-server scope is required.
    cognito: {
      user_pool_id: cl.userPoolId,
      domain_url: cl.url,
      scopes: ['mcp/tools'],
      endpoint: cl.url,
    },
  });
  const provider = createCognitoProvider(cfg, {
    secrets: createSecretResolver(),
    clientConfig: { credentials: COGNITO_CREDENTIALS },
  });
  facade = createDiscovery(cfg, { provider, log: silentLogger });
}, 30_000);
afterAll(() => cl?.close());

const clientCount = async () =>
  (await cl.client.send(new ListUserPoolClientsCommand({ UserPoolId: cl.userPoolId, MaxResults: 60 })))
    .UserPoolClients?.length ?? 0;

const register = (body: unknown) =>
  facade(
    new Request(`${FACADE}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );

describe('discovery facade with the cognito provider', () => {
  it('registers, authorizes through managed login, exchanges the code; the proxy verifies it up to the scope', async () => {
    const redirect = 'http://localhost:47001/callback';
    const reg = await register({
      redirect_uris: [redirect],
      client_name: 'MCP Inspector',
      token_endpoint_auth_method: 'none',
    });
    expect(reg.status).toBe(201);
    const client = (await reg.json()) as {
      client_id: string;
      token_endpoint_auth_method: string;
      client_secret?: string;
    };
    expect(client.token_endpoint_auth_method).toBe('none');
    expect(client.client_secret).toBeUndefined();

    const verifier = randomBytes(32).toString('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirect,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'xyz',
      resource: 'https://mcp.example.com/mcp',
    });
    const az = await authorizeWithConsent(`${FACADE}/authorize?${q}`, (r) => facade(r));
    expect(az.status).toBe(302);
    const toIdp = new URL(az.headers.get('location')!);
    expect(`${toIdp.origin}${toIdp.pathname}`).toBe(`${cl.url}/oauth2/authorize`);
    expect(toIdp.searchParams.has('resource')).toBe(false); // RFC 8707 dropped for Cognito

    const login = await fetch(`${cl.url}/oauth2/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        ...Object.fromEntries(toIdp.searchParams),
        username: 'bob@example.com',
        password: 'Corr3ct-Horse!',
      }),
    });
    expect(login.status).toBe(302);
    const back = new URL(login.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('xyz');

    const tok = await facade(
      new Request(`${FACADE}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: back.searchParams.get('code')!,
          redirect_uri: redirect,
          client_id: client.client_id,
          code_verifier: verifier,
          resource: 'https://mcp.example.com/mcp',
        }),
      }),
    );
    expect(tok.status).toBe(200);
    expect(tok.headers.get('cache-control')).toBe('no-store');
    const tokens = (await tok.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims.client_id).toBe(client.client_id);
    // The proxy's verifier checks signature, issuer and expiry before the scope: only the missing
    // resource-server scope (cognito-local cannot issue one) refuses this token.
    await expect(
      createVerifier(cfg).verify(tokens.access_token, ['https://mcp.example.com/mcp']),
    ).rejects.toThrow(/^Error: Scope not allowed: aws\.cognito\.signin\.user\.admin\. Expected: mcp\/tools$/);
  });

  it('creates no app client for hostile registrations', async () => {
    const before = await clientCount();
    const bad = [
      { redirect_uris: ['javascript:alert(1)'] },
      { redirect_uris: ['https://app.example.com/cb#frag'] },
      { redirect_uris: ['http://evil.example.com/cb'] },
      { redirect_uris: [`https://app.example.com/${'a'.repeat(5000)}`] },
      { redirect_uris: [] },
      { redirect_uris: ['https://app.example.com/cb'], grant_types: ['client_credentials'] },
    ];
    for (const body of bad) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(['invalid_redirect_uri', 'invalid_client_metadata']).toContain(
        ((await res.json()) as { error: string }).error,
      );
    }
    expect(await clientCount()).toBe(before);
  });

  it('refuses plain or missing PKCE at /authorize before reaching Cognito', async () => {
    const cases: Record<string, string>[] = [
      { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) },
      {},
    ];
    for (const extra of cases) {
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: 'whatever',
        redirect_uri: 'http://localhost:47001/callback',
        ...extra,
      });
      const res = await authorizeWithConsent(`${FACADE}/authorize?${q}`, (r) => facade(r));
      const loc = res.headers.get('location');
      if (loc) expect(new URL(loc).origin).not.toBe(cl.url);
      expect(
        res.status === 400 ||
          (res.status === 302 && new URL(loc!).searchParams.get('error') === 'invalid_request'),
      ).toBe(true);
    }
  });
});
