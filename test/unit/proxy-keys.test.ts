/**
 * The proxy's keys (functions/proxy/proxy-keys.ts): deterministic HKDF derivation (every instance
 * the same keys), distinct keys per use, the lazy keyring (read once, retried after a failure,
 * fail closed), and the extension contract of `extensionParameter` (shared/origin-secret.ts).
 */
import { sign, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, deriveProxyKeys } from '../../functions/proxy/proxy-keys.ts';
import { configFromEnv, parseConfig } from '../../functions/shared/config/index.ts';
import { DependencyError, toOAuthError } from '../../functions/shared/errors.ts';
import { extensionParameter } from '../../functions/shared/origin-secret.ts';
import { freePort, serve, type TestServer } from '../helpers/net.ts';

const SECRET = 'p'.repeat(48);

describe('deriveProxyKeys', () => {
  it('derives the same keys from the same secret (two instances), other keys from another', () => {
    const a = deriveProxyKeys(SECRET);
    const b = deriveProxyKeys(SECRET);
    const c = deriveProxyKeys(`${SECRET}x`);
    expect(Buffer.from(a.session).equals(Buffer.from(b.session))).toBe(true);
    expect(a.identityPublicJwk).toEqual(b.identityPublicJwk);
    expect(Buffer.from(a.session).equals(Buffer.from(c.session))).toBe(false);
    expect(a.identityPublicJwk).not.toEqual(c.identityPublicJwk);
  });

  it('gives an Ed25519 key that signs what its public JWK verifies, unrelated to the session key', () => {
    const k = deriveProxyKeys(SECRET);
    expect(k.identityPublicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(k.session).toHaveLength(32);
    const seed = k.identity.export({ format: 'jwk' }).d!;
    expect(Buffer.from(seed, 'base64url').equals(Buffer.from(k.session))).toBe(false);
    const sig = sign(null, Buffer.from('m'), k.identity);
    expect(verify(null, Buffer.from('m'), { key: k.identityPublicJwk as never, format: 'jwk' }, sig)).toBe(
      true,
    );
  });

  it('refuses a secret shorter than 32 characters (misconfigured)', () => {
    expect(() => deriveProxyKeys('short')).toThrow(DependencyError);
  });
});

describe('createKeyring', () => {
  it('reads the secret once, at the first call', async () => {
    let reads = 0;
    const keys = createKeyring(async () => {
      reads++;
      return SECRET;
    });
    expect(reads).toBe(0);
    const [a, b] = await Promise.all([keys(), keys()]);
    await keys();
    expect(a).toBe(b);
    expect(reads).toBe(1);
  });

  it('fails closed (503) while the secret is unreadable, and reads again at the next call', async () => {
    let fail = true;
    const keys = createKeyring(async () => {
      if (fail) throw new Error('extension answered 500');
      return SECRET;
    });
    const err = await keys().catch((e: unknown) => e);
    expect(toOAuthError(err).status).toBe(503);
    fail = false;
    expect((await keys()).identityPublicJwk.crv).toBe('Ed25519');
  });
});

describe('extensionParameter: the Parameters and Secrets extension contract', () => {
  let ext: TestServer;
  const seen: { url: string; token: unknown }[] = [];
  beforeAll(async () => {
    ext = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ url: req.url ?? '', token: req.headers['x-aws-parameters-secrets-token'] });
      const name = url.searchParams.get('name');
      if (url.pathname !== '/systemsmanager/parameters/get' || name !== '/aws/reference/secretsmanager/p') {
        res.writeHead(400).end('ParameterNotFound');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Parameter: { Name: name, Type: 'SecureString', Value: SECRET } }));
    });
  });
  afterAll(() => ext?.close());

  it('reads the decrypted value with the session token', async () => {
    const port = Number(new URL(ext.url).port);
    expect(await extensionParameter('/aws/reference/secretsmanager/p', { port, token: 'tok' })).toBe(SECRET);
    expect(seen.at(-1)!.token).toBe('tok');
    expect(new URL(seen.at(-1)!.url, 'http://x').searchParams.get('withDecryption')).toBe('true');
  });

  it('fails on an unknown parameter and on an unreachable extension', async () => {
    const port = Number(new URL(ext.url).port);
    await expect(extensionParameter('/nope', { port, token: 'tok' })).rejects.toThrow('400');
    await expect(extensionParameter('/p', { port: await freePort(), timeoutMs: 500 })).rejects.toThrow();
  });
});

describe('config: proxy_secret, session_binding, upstream_identity', () => {
  const base = {
    provider: 'oidc',
    base_url: 'https://mcp.example.com',
    default: { base_url: 'https://idp.example.com' },
  };
  const onLambda = (raw: object) =>
    configFromEnv({ MCP_AUTH_PROXY_CONFIG: JSON.stringify(raw), AWS_LAMBDA_FUNCTION_NAME: 'proxy' });

  it('defaults: binding on, identity JWT off, header <prefix>jwt, audience base_url, 60 s', () => {
    const c = parseConfig(base);
    expect(c.sessionBinding.enabled).toBe(true);
    expect(c.upstreamIdentity).toEqual({
      enabled: false,
      header: 'x-mcp-auth-jwt',
      audience: 'https://mcp.example.com',
      lifetimeSeconds: 60,
    });
    expect(parseConfig({ ...base, identity_header_prefix: 'x-id-' }).upstreamIdentity.header).toBe(
      'x-id-jwt',
    );
  });

  it.each([
    [{ upstream_identity: { header: 'authorization' } }, 'upstream_identity.header'],
    [{ upstream_identity: { header: 'x-mcp-auth-a b' } }, 'upstream_identity.header'],
    [{ upstream_identity: { lifetime_seconds: 61 } }, 'upstream_identity.lifetime_seconds'],
    [{ proxy_secret: 'short' }, 'proxy_secret'],
    [{ proxy_secret: 'x'.repeat(40), proxy_secret_ssm_parameter: '/p' }, 'proxy_secret'],
    [{ session_binding: { enabled: 'yes' } }, 'session_binding.enabled'],
  ])('refuses %j naming %s', (extra, key) => {
    expect(() => parseConfig({ ...base, ...extra })).toThrow(new RegExp(`\`${key.replace('.', '\\.')}\``));
  });

  it('on Lambda, a config that needs the proxy secret must name one (every instance the same keys)', () => {
    expect(() => onLambda(base)).toThrow(/proxy_secret_ssm_parameter/);
    expect(onLambda({ ...base, proxy_secret_ssm_parameter: '/p' }).proxySecret).toEqual({
      ssmParameter: '/p',
    });
    expect(onLambda({ ...base, session_binding: { enabled: false } }).proxySecret).toBeUndefined();
    expect(() => onLambda({ ...base, proxy_secret: 'x'.repeat(40) })).toThrow(/proxy_secret/);
  });
});
