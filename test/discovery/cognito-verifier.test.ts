/**
 * The proxy's Cognito access-token verifier with real signed tokens and a real JWKS server on
 * loopback (test/helpers/issuer.ts). Hostile tokens: ID tokens, foreign scopes, foreign issuers,
 * wrong keys and algorithms.
 */
import { build } from 'esbuild';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingScopes } from '../../functions/proxy/cognito-scopes.ts';
import { createCognitoVerifier } from '../../functions/proxy/cognito-verifier.ts';
import { TokenRejected, VerifierUnavailable } from '../../functions/proxy/token.ts';
import { createVerifier } from '../../functions/proxy/verifiers.ts';
import { type Config, ConfigError, parseConfig } from '../../functions/shared/config/index.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';

let iss: TestIssuer;
beforeAll(async () => {
  iss = await startTestIssuer();
});
afterAll(() => iss.close());

const POOL = 'eu-west-1_McpPool1';
const config = (
  over: { scopes?: string[]; token?: Record<string, unknown>; endpoint?: string | null } = {},
): Config =>
  parseConfig({
    base_url: 'http://127.0.0.1:1',
    provider: 'cognito',
    cognito: {
      user_pool_id: POOL,
      domain_url: 'https://auth.example.com',
      scopes: over.scopes ?? ['openid', 'mcp/tools'],
      ...(over.endpoint === null ? {} : { endpoint: over.endpoint ?? iss.issuer }),
    },
    token: { issuer: iss.issuer, jwks_uri: iss.jwksUri, ...over.token },
  });

/** A Cognito-shaped access token: no aud, token_use, client_id, space-separated scope. */
const access = (
  claims: jose.JWTPayload = {},
  header: Partial<jose.JWTHeaderParameters> = {},
  key?: jose.CryptoKey,
) =>
  iss.sign(
    { token_use: 'access', scope: 'openid mcp/tools', username: 'alice', ...claims },
    { typ: undefined, ...header },
    key,
  );

describe('Cognito access-token verifier', () => {
  it('accepts a pool access token carrying a resource scope, with no aud', async () => {
    const v = createCognitoVerifier(config());
    const id = await v.verify(await access(), ['https://proxy.example.com/mcp']);
    expect(id).toMatchObject({ subject: 'alice', clientId: 'client-1', issuer: iss.issuer });
    expect(id.scopes).toEqual(['openid', 'mcp/tools']);
  });

  it('is what createVerifier selects for provider cognito (the jose verifier would demand aud)', async () => {
    const token = await access();
    await expect(
      createVerifier(config()).verify(token, ['https://proxy.example.com/mcp']),
    ).resolves.toMatchObject({
      subject: 'alice',
    });
    const oidc = parseConfig({
      base_url: 'http://127.0.0.1:1',
      provider: 'oidc',
      default: { base_url: iss.issuer, jwks_url: iss.jwksUri },
    });
    await expect(
      createVerifier(oidc).verify(token, ['https://proxy.example.com/mcp']),
    ).rejects.toBeInstanceOf(TokenRejected);
  });

  it('rejects ID tokens and tokens without token_use', async () => {
    const v = createCognitoVerifier(config());
    await expect(v.verify(await access({ token_use: 'id', aud: 'client-1' }), [])).rejects.toThrow(
      /token_use is id/,
    );
    await expect(v.verify(await access({ token_use: undefined }), [])).rejects.toBeInstanceOf(TokenRejected);
  });

  it('rejects a pool token that carries none of the resource scopes (the audience substitute)', async () => {
    const v = createCognitoVerifier(config());
    await expect(v.verify(await access({ scope: 'aws.cognito.signin.user.admin' }), [])).rejects.toThrow(
      /[Ss]cope/,
    );
    await expect(v.verify(await access({ scope: undefined }), [])).rejects.toBeInstanceOf(TokenRejected);
    // Substring or case tricks do not match.
    await expect(v.verify(await access({ scope: 'mcp/tools-extra MCP/TOOLS' }), [])).rejects.toBeInstanceOf(
      TokenRejected,
    );
  });

  it('uses the resource-server scopes of token.required_scopes over cognito.scopes when set', async () => {
    const cfg = config({ token: { required_scopes: ['mcp/admin'] } });
    expect(bindingScopes(cfg)).toEqual(['mcp/admin']);
    const v = createCognitoVerifier(cfg);
    await expect(v.verify(await access(), [])).rejects.toBeInstanceOf(TokenRejected);
    await expect(v.verify(await access({ scope: 'mcp/admin' }), [])).resolves.toMatchObject({
      scopes: ['mcp/admin'],
    });
    // Generic entries of required_scopes do not bind; cognito.scopes' resource scopes then do.
    const generic = config({ token: { required_scopes: ['openid'] } });
    expect(bindingScopes(generic)).toEqual(['mcp/tools']);
    await expect(
      createCognitoVerifier(generic).verify(await access({ scope: 'openid' }), []),
    ).rejects.toBeInstanceOf(TokenRejected);
  });

  describe('hostile: a token of another app client of the pool, carrying only generic scopes', () => {
    // The reviewer's case: cognito.scopes mixes generic and resource scopes, no required_scopes.
    const mixed = () =>
      config({ scopes: ['openid', 'aws.cognito.signin.user.admin', 'email', 'profile', 'mcp/tools'] });

    it('binds only to the resource-server scopes', () => {
      expect(bindingScopes(mixed())).toEqual(['mcp/tools']);
    });

    it.each([
      ['openid'],
      ['aws.cognito.signin.user.admin'],
      ['openid email profile phone aws.cognito.signin.user.admin offline_access'],
    ])('rejects a token with scope "%s" (not issued for this MCP server)', async (scope) => {
      const v = createCognitoVerifier(mixed());
      await expect(
        v.verify(await access({ scope, client_id: 'hr-portal' }), ['https://proxy.example.com/mcp']),
      ).rejects.toThrow(/Scope not allowed: .*Expected: mcp\/tools$/);
    });

    it('createVerifier (what the proxy uses) rejects it too, and accepts the resource scope', async () => {
      await expect(
        createVerifier(mixed()).verify(await access({ scope: 'openid', client_id: 'hr-portal' }), []),
      ).rejects.toBeInstanceOf(TokenRejected);
      await expect(
        createVerifier(mixed()).verify(await access({ scope: 'openid mcp/tools' }), []),
      ).resolves.toMatchObject({ subject: 'alice' });
    });
  });

  it('refuses to start unless a resource-server scope is configured', () => {
    const message =
      'invalid config: `cognito.scopes` (or `token.required_scopes`) must list a resource-server scope such as "mcp/tools" for provider "cognito": Cognito access tokens have no aud, and openid, profile, email, phone, aws.cognito.signin.user.admin, offline_access can be held by any app client of the pool';
    for (const cfg of [
      config({ scopes: [] }),
      config({ scopes: ['openid', 'aws.cognito.signin.user.admin'] }),
      config({ scopes: ['openid'], token: { required_scopes: ['openid', 'email'] } }),
      config({ scopes: [], endpoint: null }),
    ]) {
      expect(() => createCognitoVerifier(cfg)).toThrow(ConfigError);
      expect(() => createCognitoVerifier(cfg)).toThrow(message);
      expect(() => createVerifier(cfg)).toThrow(message);
    }
  });

  it('rejects foreign issuers, expired tokens, unknown keys and disallowed algorithms', async () => {
    const v = createCognitoVerifier(config());
    await expect(v.verify(await access({ iss: `${iss.issuer}/other` }), [])).rejects.toBeInstanceOf(
      TokenRejected,
    );
    const now = Math.floor(Date.now() / 1000);
    await expect(v.verify(await access({ iat: now - 600, exp: now - 120 }), [])).rejects.toBeInstanceOf(
      TokenRejected,
    );
    await expect(v.verify(await access({}, {}, iss.strangerKey), [])).rejects.toBeInstanceOf(TokenRejected);
    await expect(v.verify(await access({}, { kid: 'nope' }), [])).rejects.toBeInstanceOf(TokenRejected);
    // alg "none" and HS256 with the public key as secret.
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({
        iss: iss.issuer,
        sub: 'alice',
        token_use: 'access',
        scope: 'mcp/tools',
        exp: now + 300,
      }),
    ).toString('base64url')}.`;
    await expect(v.verify(unsigned, [])).rejects.toBeInstanceOf(TokenRejected);
    const hs = await new jose.SignJWT({
      iss: iss.issuer,
      sub: 'alice',
      token_use: 'access',
      scope: 'mcp/tools',
    })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(iss.publicJwk)));
    await expect(v.verify(hs, [])).rejects.toBeInstanceOf(TokenRejected);
    // The configured algorithm allow-list applies too.
    const esOnly = createCognitoVerifier(config({ token: { algorithms: ['ES256'] } }));
    await expect(esOnly.verify(await access(), [])).rejects.toThrow(/algorithm RS256 not allowed/);
  });

  it('picks up a rotated key (unknown kid triggers a JWKS re-fetch)', async () => {
    const v = createCognitoVerifier(config());
    await v.warm();
    const { kid, key } = await iss.rotate();
    await expect(v.verify(await access({}, { kid }, key), [])).resolves.toMatchObject({ subject: 'alice' });
  });

  it('reports an unreachable JWKS as unavailable (503), not as a bad token', async () => {
    const v = createCognitoVerifier(config({ token: { jwks_uri: 'http://127.0.0.1:9/jwks' } }));
    await expect(v.verify(await access(), [])).rejects.toBeInstanceOf(VerifierUnavailable);
    await expect(v.warm()).rejects.toBeInstanceOf(VerifierUnavailable);
  });

  it('without an endpoint override uses the real Cognito issuer and refuses any other, offline', async () => {
    const v = createCognitoVerifier(config({ endpoint: null }));
    // The issuer check happens before any JWKS fetch, so this needs no network.
    await expect(v.verify(await access(), [])).rejects.toThrow(/[Ii]ssuer/);
  });
});

describe('proxy bundle', () => {
  it('stays free of the AWS SDK with the Cognito verifier in it', async () => {
    const out = await build({
      entryPoints: ['functions/proxy/index.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((i) => i.includes('aws-jwt-verify'))).toBe(true);
    expect(inputs.filter((i) => i.includes('@aws-sdk') || i.includes('@smithy'))).toEqual([]);
  });
});
