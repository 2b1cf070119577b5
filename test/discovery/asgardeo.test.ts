/**
 * The Asgardeo provider against a local server implementing Asgardeo's HTTP contract and asserting
 * what the proxy sends (test/helpers/asgardeo-contract.ts); the M2M secret comes from the real SSM
 * client talking to the local SSM endpoint.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createAsgardeoProvider,
  SCOPE_CREATE,
  SCOPE_VIEW,
} from '../../functions/discovery/providers/asgardeo.ts';
import type { ClientRegistration } from '../../functions/discovery/providers/types.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
import { createJwtVerifier } from '../../functions/proxy/token.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';
import { toOAuthError } from '../../functions/shared/errors.ts';
import { createLogger } from '../../functions/shared/log.ts';
import { type AsgardeoContract, startAsgardeoContract } from '../helpers/asgardeo-contract.ts';
import { type SsmServer, ssmClientConfig, startSsmServer } from '../helpers/ssm-server.ts';

const ORG = 'acme-labs';
const M2M_ID = 'm2mClientIdForMcpProxy';
const M2M_SECRET = 's3cr3t:with/odd+chars&=';

let ssm: SsmServer;
let asg: AsgardeoContract; // generated client-id mode (scope: create only)
let asgRead: AsgardeoContract; // read_back mode (scope: create + view)
const lines: Record<string, unknown>[] = [];
const log = createLogger('asgardeo-test', 'debug', (l) => lines.push(JSON.parse(l)));

beforeAll(async () => {
  ssm = await startSsmServer({ '/mcp/asgardeo/m2m-secret': { value: M2M_SECRET } });
  asg = await startAsgardeoContract({
    org: ORG,
    clientId: M2M_ID,
    clientSecret: M2M_SECRET,
    expectScope: [SCOPE_CREATE],
  });
  asgRead = await startAsgardeoContract({
    org: ORG,
    clientId: M2M_ID,
    clientSecret: M2M_SECRET,
    expectScope: [SCOPE_CREATE, SCOPE_VIEW],
  });
});
afterAll(async () => {
  await Promise.all([ssm.close(), asg.close(), asgRead.close()]);
});
afterEach(() => {
  // Every test must leave the contract unviolated.
  expect(asg.violations).toEqual([]);
  expect(asgRead.violations).toEqual([]);
  lines.length = 0;
});

const secrets = () =>
  createSecretResolver({
    ssm: ssmClientConfig(ssm),
  });

const config = (server: { url: string }, extra: Record<string, unknown> = {}): Config =>
  parseConfig({
    base_url: 'http://127.0.0.1:1',
    asgardeo: {
      org_name: ORG,
      client_id: M2M_ID,
      client_secret_ssm_parameter: '/mcp/asgardeo/m2m-secret',
      api_base_url: server.url,
      ...extra,
    },
  });

const provider = (server: { url: string }, extra: Record<string, unknown> = {}) =>
  createAsgardeoProvider(config(server, extra), { secrets: secrets(), log });

const registration = (
  redirect_uris: string[],
  extra: Partial<ClientRegistration> = {},
): ClientRegistration => ({
  redirect_uris,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  client_name: 'VS Code',
  ...extra,
});

describe('asgardeo provider: metadata', () => {
  it('points at the organization endpoints of api.asgardeo.io by default', async () => {
    const cfg = parseConfig({
      base_url: 'http://127.0.0.1:1',
      asgardeo: { org_name: ORG, client_id: M2M_ID, client_secret: 'x' },
    });
    const md = await createAsgardeoProvider(cfg, { secrets: secrets() }).metadata();
    expect(md).toMatchObject({
      issuer: `https://api.asgardeo.io/t/${ORG}/oauth2/token`,
      authorization_endpoint: `https://api.asgardeo.io/t/${ORG}/oauth2/authorize`,
      token_endpoint: `https://api.asgardeo.io/t/${ORG}/oauth2/token`,
      jwks_uri: `https://api.asgardeo.io/t/${ORG}/oauth2/jwks`,
      code_challenge_methods_supported: ['S256'],
    });
    // The proxy verifies tokens against the same issuer and keys.
    expect(md.issuer).toBe(cfg.token.issuer);
    expect(md.jwks_uri).toBe(cfg.token.jwksUri);
  });

  it('accepts the original `demo` block', async () => {
    const cfg = parseConfig({
      base_url: 'http://127.0.0.1:1',
      provider: 'asgardeo',
      demo: { org_name: 'demo-org', client_id: M2M_ID, client_secret: 'x' },
    });
    expect((await createAsgardeoProvider(cfg, { secrets: secrets() }).metadata()).token_endpoint).toBe(
      'https://api.asgardeo.io/t/demo-org/oauth2/token',
    );
  });

  it('refuses a plain-http API base that is not loopback (TLS always)', () => {
    expect(() => provider({ url: 'http://api.asgardeo.example' })).toThrow(/must use https/);
  });

  it('passes authorize and token parameters through, resource included', async () => {
    const p = provider(asg);
    const q = new URLSearchParams({
      client_id: 'c',
      resource: 'https://mcp.example.com/mcp',
      code_challenge_method: 'S256',
    });
    expect((await p.authorizeParams(q)).toString()).toBe(q.toString());
    expect((await p.tokenParams(q)).toString()).toBe(q.toString());
  });
});

describe('asgardeo provider: registration through the Application Management API', () => {
  it('creates an OIDC public client with mandatory S256 PKCE and the exact redirect URI, asking only for the create scope', async () => {
    const before = asg.apps.length;
    const reg = await provider(asg).register(registration(['http://127.0.0.1:33418/callback']));
    expect(asg.apps).toHaveLength(before + 1);
    const app = asg.apps.at(-1)!;
    expect(reg.client_id).toBe(app.clientId);
    expect(reg.client_id).toMatch(/^mcp[A-Za-z0-9]{25}$/);
    expect(reg.client_secret).toBeUndefined();
    expect(app.callbackURLs).toEqual(['http://127.0.0.1:33418/callback']);
    expect(app.body).toMatchObject({
      name: expect.stringMatching(/^mcp-VS Code-[A-Za-z0-9]{6}$/),
      inboundProtocolConfiguration: {
        oidc: {
          publicClient: true,
          pkce: { mandatory: true, supportPlainTransformAlgorithm: false },
          grantTypes: ['authorization_code', 'refresh_token'],
          accessToken: { type: 'JWT' },
        },
      },
    });
    expect(asg.tokenRequests.at(-1)).toEqual({ scope: SCOPE_CREATE });
    expect(reg.metadata).toMatchObject({
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      token_endpoint_auth_method: 'none',
      response_types: ['code'],
      client_name: 'VS Code',
    });
    expect(lines).toContainEqual(
      expect.objectContaining({ message: 'asgardeo client registered', clientId: reg.client_id }),
    );
    // Neither secret nor M2M token in the logs.
    expect(JSON.stringify(lines)).not.toMatch(/s3cr3t|m2m-/);
  });

  it('reuses the M2M token across registrations and re-fetches it once on 401', async () => {
    const p = provider(asg);
    const t0 = asg.tokenRequests.length;
    await p.register(registration(['https://app.example.com/cb']));
    await p.register(registration(['https://app.example.com/cb']));
    expect(asg.tokenRequests.length - t0).toBe(1);
    asg.revokeTokens();
    await p.register(registration(['https://app.example.com/cb'], { grant_types: ['authorization_code'] }));
    expect(asg.tokenRequests.length - t0).toBe(2);
    expect(
      (asg.apps.at(-1)!.body.inboundProtocolConfiguration as { oidc: { grantTypes: string[] } }).oidc
        .grantTypes,
    ).toEqual(['authorization_code']);
  });

  it('read_back mode: Asgardeo picks the client id, read back from the inbound OIDC configuration', async () => {
    const reg = await provider(asgRead, { client_id_mode: 'read_back' }).register(
      registration(['https://app.example.com/cb']),
    );
    const app = asgRead.apps.at(-1)!;
    expect('clientId' in (app.body.inboundProtocolConfiguration as { oidc: object }).oidc).toBe(false);
    expect(reg.client_id).toBe(app.clientId);
    expect(asgRead.tokenRequests.at(-1)!.scope.split(' ').sort()).toEqual([SCOPE_CREATE, SCOPE_VIEW].sort());
    expect(asgRead.requests.at(-1)).toEqual({
      method: 'GET',
      path: `/t/${ORG}/api/server/v1/applications/${app.id}/inbound-protocols/oidc`,
    });
  });

  it('retries once with a fresh client id and name on a 409 clash', async () => {
    asg.failNext('/api/server/v1/applications', 409);
    const before = asg.apps.length;
    await provider(asg).register(registration(['https://app.example.com/cb']));
    expect(asg.apps.length).toBe(before + 1);
  });
});

describe('asgardeo provider: failures fail closed without leaking detail', () => {
  const expectError = async (p: Promise<unknown>, status: number, code: string) => {
    // What the client gets: the provider's error as the one error model maps it.
    const err = toOAuthError(
      await p.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect({ status: err.status, code: err.code }).toEqual({ status, code });
    expect(err.description).not.toMatch(/asgardeo|HTTP|token|secret|ssm/i);
    return err;
  };

  it('wrong M2M secret → 502 server_error, no application created', async () => {
    ssm.set('/mcp/asgardeo/wrong', { value: 'not-the-secret' });
    const before = asg.apps.length;
    const err = await expectError(
      provider(asg, { client_secret_ssm_parameter: '/mcp/asgardeo/wrong' }).register(
        registration(['https://a.example.com/cb']),
      ),
      502,
      'server_error',
    );
    expect(err.reason).toMatch(/HTTP 401/);
    expect(asg.apps.length).toBe(before);
  });

  it('missing SSM parameter → 503, never a call with an empty secret', async () => {
    const t0 = asg.tokenRequests.length;
    const err = await expectError(
      provider(asg, { client_secret_ssm_parameter: '/mcp/asgardeo/absent' }).register(
        registration(['https://a.example.com/cb']),
      ),
      503,
      'temporarily_unavailable',
    );
    expect(err.reason).toContain('/mcp/asgardeo/absent');
    expect(asg.tokenRequests.length).toBe(t0);
  });

  it('M2M application not authorized for the create scope → 502 before any create call', async () => {
    const narrow = await startAsgardeoContract({
      org: ORG,
      clientId: M2M_ID,
      clientSecret: M2M_SECRET,
      expectScope: [SCOPE_CREATE],
      grantScope: ['internal_login'],
    });
    try {
      const err = await expectError(
        provider(narrow).register(registration(['https://a.example.com/cb'])),
        502,
        'server_error',
      );
      expect(err.reason).toContain(SCOPE_CREATE);
      expect(narrow.requests.map((r) => r.path)).toEqual([`/t/${ORG}/oauth2/token`]);
    } finally {
      await narrow.close();
    }
  });

  it('Asgardeo 400 → invalid_client_metadata; 500 and 429 → temporarily_unavailable', async () => {
    asg.failNext('/api/server/v1/applications', 400);
    await expectError(
      provider(asg).register(registration(['https://a.example.com/cb'])),
      400,
      'invalid_client_metadata',
    );
    asg.failNext('/api/server/v1/applications', 500);
    await expectError(
      provider(asg).register(registration(['https://a.example.com/cb'])),
      503,
      'temporarily_unavailable',
    );
    asg.failNext('/api/server/v1/applications', 429);
    await expectError(
      provider(asg).register(registration(['https://a.example.com/cb'])),
      503,
      'temporarily_unavailable',
    );
    asg.failNext('/oauth2/token', 503);
    await expectError(
      provider(asg).register(registration(['https://a.example.com/cb'])),
      503,
      'temporarily_unavailable',
    );
  });

  it('read-back failure after creation → error (never a registration without a client id)', async () => {
    asgRead.failNext('/api/server/v1/applications/*', 404);
    await expectError(
      provider(asgRead, { client_id_mode: 'read_back' }).register(registration(['https://a.example.com/cb'])),
      502,
      'server_error',
    );
  });

  it('unreachable API → 503 temporarily_unavailable', async () => {
    await expectError(
      provider({ url: 'http://127.0.0.1:9' }).register(registration(['https://a.example.com/cb'])),
      503,
      'temporarily_unavailable',
    );
  });
});

describe('asgardeo end to end against the contract: register → authorize → token → proxy verifier', () => {
  it('a registered public client completes the PKCE code flow and its access token verifies', async () => {
    const cfg = config(asg);
    const p = createAsgardeoProvider(cfg, { secrets: secrets(), log });
    const md = await p.metadata();
    const redirect = 'http://127.0.0.1:45999/callback';
    const { client_id } = await p.register(registration([redirect, 'https://app.example.com/cb']));

    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = await p.authorizeParams(
      new URLSearchParams({
        response_type: 'code',
        client_id,
        redirect_uri: redirect,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'openid',
        state: 'st-9',
      }),
    );
    const auth = await fetch(`${md.authorization_endpoint}?${q}`, { redirect: 'manual' });
    expect(auth.status).toBe(302);
    const back = new URL(auth.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('st-9');
    expect(back.searchParams.get('error')).toBeNull();

    const form = await p.tokenParams(
      new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        redirect_uri: redirect,
        client_id,
        code_verifier: verifier,
      }),
    );
    const tr = await fetch(md.token_endpoint, { method: 'POST', body: form });
    expect(tr.status).toBe(200);
    const { access_token } = (await tr.json()) as { access_token: string };

    // The proxy's verifier, configured from the same config (issuer and JWKS of the org).
    expect(cfg.token.issuer).toBe(asg.issuer);
    const v = createJwtVerifier(cfg.token);
    const id = await v.verify(access_token, [client_id]);
    expect(id).toMatchObject({ subject: 'alice@acme.example', clientId: client_id, issuer: asg.issuer });
  });

  it('the created application refuses plain PKCE and unregistered redirect URIs', async () => {
    const p = provider(asg);
    const md = await p.metadata();
    const { client_id } = await p.register(registration(['https://app.example.com/cb']));
    const plain = await fetch(
      `${md.authorization_endpoint}?${new URLSearchParams({ response_type: 'code', client_id, redirect_uri: 'https://app.example.com/cb', code_challenge: 'abc', code_challenge_method: 'plain' })}`,
      { redirect: 'manual' },
    );
    expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const other = await fetch(
      `${md.authorization_endpoint}?${new URLSearchParams({ response_type: 'code', client_id, redirect_uri: 'https://app.example.com/cb2', code_challenge: 'abc', code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    expect(other.status).toBe(400);
  });
});
