/**
 * The discovery facade (functions/discovery/index.ts) with the Asgardeo provider against the local
 * Asgardeo contract server: /register → /authorize → /token; hostile registrations create no
 * application and request no M2M token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDiscovery } from '../../functions/discovery/index.ts';
import { createAsgardeoProvider, SCOPE_CREATE } from '../../functions/discovery/providers/asgardeo.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
import { TokenRejected } from '../../functions/proxy/token.ts';
import { createVerifier } from '../../functions/proxy/verifiers.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';
import { silentLogger } from '../../functions/shared/log.ts';
import { type AsgardeoContract, startAsgardeoContract } from '../helpers/asgardeo-contract.ts';
import { authorizeWithConsent } from '../helpers/consent.ts';

const FACADE = 'https://auth.mcp.example.com';
const RESOURCE = 'https://mcp.example.com/mcp';
let asg: AsgardeoContract;
let cfg: Config;
let facade: ReturnType<typeof createDiscovery>;

beforeAll(async () => {
  asg = await startAsgardeoContract({
    org: 'acme',
    clientId: 'm2mClientId0001',
    clientSecret: 'sec',
    expectScope: [SCOPE_CREATE],
  });
  cfg = parseConfig({
    base_url: 'http://127.0.0.1:1',
    discovery: { base_url: FACADE },
    asgardeo: { org_name: 'acme', client_id: 'm2mClientId0001', client_secret: 'sec', api_base_url: asg.url },
  });
  facade = createDiscovery(cfg, {
    provider: createAsgardeoProvider(cfg, { secrets: createSecretResolver() }),
    log: silentLogger,
  });
});
afterAll(() => asg.close());
afterEach(() => expect(asg.violations).toEqual([]));

const register = (body: unknown) =>
  facade(
    new Request(`${FACADE}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );

describe('discovery facade with the asgardeo provider', () => {
  it('registers a public client at Asgardeo, authorizes and exchanges the code', async () => {
    const redirect = 'http://127.0.0.1:47002/callback';
    const reg = await register({
      redirect_uris: [redirect],
      client_name: 'Claude',
      token_endpoint_auth_method: 'none',
    });
    expect(reg.status).toBe(201);
    const client = (await reg.json()) as { client_id: string; redirect_uris: string[] };
    expect(client.client_id).toBe(asg.apps.at(-1)!.clientId);
    expect(asg.apps.at(-1)!.callbackURLs).toEqual([redirect]);

    const verifier = randomBytes(32).toString('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirect,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 's1',
    });
    const az = await authorizeWithConsent(`${FACADE}/authorize?${q}`, (r) => facade(r));
    expect(az.status).toBe(302);
    const idp = await fetch(az.headers.get('location')!, { redirect: 'manual' });
    const back = new URL(idp.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('s1');

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
        }),
      }),
    );
    expect(tok.status).toBe(200);
    const { access_token } = (await tok.json()) as { access_token: string };
    const v = createVerifier(cfg);
    await expect(v.verify(access_token, [client.client_id])).resolves.toMatchObject({
      clientId: client.client_id,
    });
    // Asgardeo-style tokens carry the client id as aud, not the MCP resource: the proxy's default
    // audience check refuses them (see docs/providers/asgardeo.md, "Audience").
    await expect(v.verify(access_token, [RESOURCE])).rejects.toBeInstanceOf(TokenRejected);
  });

  it('creates no application and asks no M2M token for hostile registrations', async () => {
    const before = { apps: asg.apps.length, tokens: asg.tokenRequests.length };
    for (const body of [
      { redirect_uris: ['javascript:alert(1)'] },
      { redirect_uris: ['https://app.example.com/cb#x'] },
      { redirect_uris: ['regexp=.*'] },
      { redirect_uris: ['http://evil.example.com/cb'] },
      { redirect_uris: ['https://app.example.com/cb'], grant_types: ['implicit'] },
      { redirect_uris: ['https://app.example.com/cb'], client_name: 'x'.repeat(100_000) },
    ]) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect({ apps: asg.apps.length, tokens: asg.tokenRequests.length }).toEqual(before);
  });
});
