/**
 * The Cognito provider through the real AWS SDK against cognito-local (a local endpoint speaking
 * the Cognito JSON protocol, with a minimal hosted UI), started by this file on a free port.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cognitoClientName, createCognitoProvider } from '../../functions/discovery/providers/cognito.ts';
import type { ClientRegistration } from '../../functions/discovery/providers/types.ts';
import { createSecretResolver } from '../../functions/discovery/secrets.ts';
import { createCognitoVerifier } from '../../functions/proxy/cognito-verifier.ts';
import { TokenRejected } from '../../functions/proxy/token.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';
import { OAuthError, toOAuthError } from '../../functions/shared/errors.ts';
import { silentLogger } from '../../functions/shared/log.ts';
import {
  COGNITO_CREDENTIALS,
  COGNITO_REGION,
  type CognitoLocal,
  startCognitoLocal,
} from '../helpers/cognito-local.ts';

let cl: CognitoLocal;
const secrets = createSecretResolver();

beforeAll(async () => {
  cl = await startCognitoLocal();
  await cl.addUser('alice@example.com', 'Corr3ct-Horse!');
}, 30_000);
afterAll(() => cl?.close());

const config = (scopes: string[], over: Record<string, unknown> = {}): Config =>
  parseConfig({
    base_url: 'http://127.0.0.1:1',
    provider: 'cognito',
    cognito: { user_pool_id: cl.userPoolId, domain_url: cl.url, scopes, endpoint: cl.url, ...over },
  });

const provider = (cfg: Config) =>
  createCognitoProvider(cfg, { secrets, clientConfig: { credentials: COGNITO_CREDENTIALS } });

const registration = (
  redirect_uris: string[],
  extra: Partial<ClientRegistration> = {},
): ClientRegistration => ({
  redirect_uris,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  client_name: 'Claude Desktop',
  ...extra,
});

describe('cognito provider: metadata', () => {
  it('builds AS metadata from the pool and its hosted-UI domain', async () => {
    const cfg = parseConfig({
      base_url: 'http://127.0.0.1:1',
      provider: 'cognito',
      cognito: {
        user_pool_id: 'eu-west-1_AbC123',
        domain_url: 'https://myapp.auth.eu-west-1.amazoncognito.com/',
        scopes: ['openid', 'mcp/tools'],
      },
    });
    const md = await createCognitoProvider(cfg, { secrets }).metadata();
    expect(md).toEqual({
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
      authorization_endpoint: 'https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
      token_endpoint: 'https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/token',
      revocation_endpoint: 'https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/revoke',
      userinfo_endpoint: 'https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/userInfo',
      jwks_uri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json',
      scopes_supported: ['openid', 'mcp/tools'],
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    });
    // The issuer is the one the proxy verifies tokens against.
    expect(md.issuer).toBe(cfg.token.issuer);
    expect(md.jwks_uri).toBe(cfg.token.jwksUri);
  });

  it('uses the endpoint override for issuer and JWKS (local emulators)', async () => {
    const md = await provider(config(['mcp/tools'])).metadata();
    expect(md.issuer).toBe(`${cl.url}/${cl.userPoolId}`);
    expect(md.jwks_uri).toBe(`${cl.url}/${cl.userPoolId}/.well-known/jwks.json`);
    // cognito-local serves the pool's keys there.
    const jwks = (await (await fetch(md.jwks_uri!)).json()) as { keys: unknown[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
  });

  it('drops RFC 8707 resource from authorize and token parameters and keeps the rest', async () => {
    const p = provider(config(['mcp/tools']));
    const q = new URLSearchParams({
      client_id: 'c',
      resource: 'https://mcp.example.com/mcp',
      scope: 'mcp/tools',
      state: 's',
    });
    q.append('resource', 'https://other.example.com/');
    const a = await p.authorizeParams(q);
    expect([...a.keys()]).toEqual(['client_id', 'scope', 'state']);
    expect(q.getAll('resource')).toHaveLength(2); // input not mutated
    const t = await p.tokenParams(
      new URLSearchParams({ grant_type: 'authorization_code', code: 'x', resource: 'r' }),
    );
    expect(t.toString()).toBe('grant_type=authorization_code&code=x');
  });
});

describe('cognito provider: registration through CreateUserPoolClient', () => {
  it('creates a public code-flow client with the resource scopes and the exact callback URLs', async () => {
    const uris = [
      'http://localhost:33418/callback',
      // Regex metacharacters and a query must be stored verbatim, never interpreted.
      'https://app.example.com/cb.*?(x|y)+[a]{2}^$\\?q=1&r=2',
    ];
    const reg = await provider(config(['openid', 'mcp/tools'])).register(
      registration(uris, { token_endpoint_auth_method: 'client_secret_basic' }),
    );
    expect(reg.client_secret).toBeUndefined();
    expect(reg.metadata).toMatchObject({
      redirect_uris: uris,
      token_endpoint_auth_method: 'none', // replaced: Cognito clients made here are public (RFC 7591 §3.2.1)
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid mcp/tools',
      client_name: 'Claude Desktop',
    });
    // What Cognito actually stored.
    const { UserPoolClient: upc } = await cl.client.send(
      new DescribeUserPoolClientCommand({ UserPoolId: cl.userPoolId, ClientId: reg.client_id }),
    );
    expect(upc).toMatchObject({
      ClientId: reg.client_id,
      ClientName: 'mcp-Claude Desktop',
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'mcp/tools'],
      CallbackURLs: uris,
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect(upc?.ClientSecret).toBeUndefined();
  });

  it('makes every registration its own app client', async () => {
    const p = provider(config(['mcp/tools']));
    const a = await p.register(registration(['http://localhost:1111/cb']));
    const b = await p.register(registration(['http://localhost:1111/cb']));
    expect(a.client_id).not.toBe(b.client_id);
  });

  it('sanitizes client names to what Cognito accepts', () => {
    expect(cognitoClientName('My <script>"App"</script>')).toBe('mcp-My -script--App---script-');
    expect(cognitoClientName(undefined)).toBe('mcp-client');
    expect(cognitoClientName('x'.repeat(500))).toHaveLength(128);
  });

  it('maps a missing pool to server_error without leaking the reason', async () => {
    const cfg = parseConfig({
      base_url: 'http://127.0.0.1:1',
      provider: 'cognito',
      cognito: {
        user_pool_id: 'eu-west-1_DoesNotExist',
        domain_url: cl.url,
        scopes: ['mcp/tools'],
        endpoint: cl.url,
      },
    });
    const err = await provider(cfg)
      .register(registration(['http://localhost:1/cb']))
      .then(toOAuthError, toOAuthError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('server_error');
    expect(err.description).not.toMatch(/DoesNotExist|ResourceNotFound/);
    expect(err.reason).toMatch(/ResourceNotFoundException/);
  });

  it('maps an unreachable Cognito API to 503 temporarily_unavailable', async () => {
    const cfg = config(['mcp/tools'], { endpoint: 'http://127.0.0.1:9' });
    const err = await provider(cfg)
      .register(registration(['http://localhost:1/cb']))
      .catch((e) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err.status).toBe(503);
    expect(err.code).toBe('temporarily_unavailable');
  });
});

describe('cognito end to end: register → hosted UI → token → proxy verifier', () => {
  it('a registered public client completes the PKCE code flow; the token verifies up to the scope check', async () => {
    // cognito-local issues access tokens with scope aws.cognito.signin.user.admin only, a generic
    // scope any app client of a pool holds: the proxy must refuse such a token (it cannot tell it
    // from another application's), so with cognito-local the last step is a scope refusal.
    const cfg = config(['mcp/tools']);
    const p = provider(cfg);
    const md = await p.metadata();
    const redirect = 'http://localhost:45678/callback';
    const { client_id } = await p.register(registration([redirect]));

    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const q = await p.authorizeParams(
      new URLSearchParams({
        response_type: 'code',
        client_id,
        redirect_uri: redirect,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'st-1',
        resource: 'https://proxy.example.com/mcp',
      }),
    );
    const page = await fetch(`${md.authorization_endpoint}?${q}`);
    expect(page.status).toBe(200);
    const login = await fetch(md.authorization_endpoint, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(q),
        username: 'alice@example.com',
        password: 'Corr3ct-Horse!',
      }),
    });
    expect(login.status).toBe(302);
    const back = new URL(login.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(redirect);
    expect(back.searchParams.get('state')).toBe('st-1');

    const body = await p.tokenParams(
      new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        redirect_uri: redirect,
        client_id,
        code_verifier: verifier,
        resource: 'https://proxy.example.com/mcp',
      }),
    );
    const tr = await fetch(md.token_endpoint, { method: 'POST', body });
    expect(tr.status).toBe(200);
    const tokens = (await tr.json()) as { access_token: string; id_token: string };

    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ client_id, iss: md.issuer, token_use: 'access' });

    const v = createCognitoVerifier(cfg, silentLogger);
    await v.warm();
    // Signature, issuer and expiry pass (aws-jwt-verify checks them before the scope); only the
    // missing resource-server scope refuses the token.
    await expect(v.verify(tokens.access_token, ['https://proxy.example.com/mcp'])).rejects.toThrow(
      /^Error: Scope not allowed: aws\.cognito\.signin\.user\.admin\. Expected: mcp\/tools$/,
    );
    // The ID token of the same login is not an access token.
    await expect(v.verify(tokens.id_token, [])).rejects.toBeInstanceOf(TokenRejected);
  });
});

describe('cognito provider: what CreateUserPoolClient receives (issue 13 item 7)', () => {
  /** A client that records the JSON body of every request it sends to cognito-local. */
  const recordingClient = (bodies: Record<string, unknown>[]) => {
    const client = new CognitoIdentityProviderClient({
      endpoint: cl.url,
      region: COGNITO_REGION,
      credentials: COGNITO_CREDENTIALS,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const body = (args.request as { body?: unknown }).body;
        // The SDK's JSON body (a string, or a string adapter): exactly the bytes sent.
        if (body !== undefined) bodies.push(JSON.parse(String(body)) as Record<string, unknown>);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'record' },
    );
    return client;
  };

  it('explicit token validity (1 h access/ID, 7-day refresh), revocation and refresh-token rotation', async () => {
    const bodies: Record<string, unknown>[] = [];
    const p = createCognitoProvider(config(['mcp/tools']), { secrets, client: recordingClient(bodies) });
    await p.register(registration(['http://localhost:33418/callback']));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      ClientName: 'mcp-Claude Desktop',
      GenerateSecret: false,
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 7,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
      EnableTokenRevocation: true,
      RefreshTokenRotation: { Feature: 'ENABLED', RetryGracePeriodSeconds: 10 },
    });
  });

  it('takes validity and rotation from cognito.* (rotation can be turned off)', async () => {
    const bodies: Record<string, unknown>[] = [];
    const cfg = config(['mcp/tools'], {
      access_token_minutes: 15,
      refresh_token_days: 1,
      refresh_token_rotation: false,
    });
    await createCognitoProvider(cfg, { secrets, client: recordingClient(bodies) }).register(
      registration(['http://localhost:33418/callback']),
    );
    expect(bodies[0]).toMatchObject({
      AccessTokenValidity: 15,
      IdTokenValidity: 15,
      RefreshTokenValidity: 1,
      RefreshTokenRotation: { Feature: 'DISABLED' },
    });
  });

  it('refuses validity Cognito would not accept, naming the key', () => {
    expect(() => config(['mcp/tools'], { access_token_minutes: 2 })).toThrow('cognito.access_token_minutes');
  });
});
