/**
 * The proxy's keys, the same on every instance (stateless across instances): one proxy secret
 * (`proxy_secret_ssm_parameter`; the deployment generates it when the config names none,
 * lib/proxy-secret.ts), from which HKDF-SHA-256 (RFC 5869) derives, with distinct `info`
 * strings, the session-id key (mcp/session-id.ts) and the Ed25519 seed of the identity JWT
 * signing key (upstream-identity.ts). Knowing one derived key tells nothing about the other.
 *
 * Deployed, the secret is read through the Parameters and Secrets Lambda extension (no AWS SDK
 * in the proxy bundle), which cannot be called during init: the first request that needs a key
 * reads it, once per instance; a failed read is retried by the next request, and meanwhile the
 * request fails closed (503).
 */
import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import type { Config } from '../shared/config/index.ts';
import { DependencyError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { extensionParameter, extensionPort } from '../shared/origin-secret.ts';

/** A secret shorter than this is refused (the deployment generates 64 characters). */
export const MIN_PROXY_SECRET_LENGTH = 32;

const SALT = 'open-mcp-auth-proxy';
const SESSION_INFO = 'mcp-auth-proxy/session-id/hmac-sha256/v1';
const IDENTITY_INFO = 'mcp-auth-proxy/identity-jwt/ed25519/v1';

/** PKCS #8 wrapping of a raw Ed25519 seed (RFC 8410 §7): this prefix, then the 32 bytes. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface ProxyKeys {
  /** HMAC key of the session ids. */
  readonly session: Uint8Array;
  /** Ed25519 private key of the identity JWT. */
  readonly identity: KeyObject;
  /** Its public key, as a JWK (`kty`, `crv`, `x`). */
  readonly identityPublicJwk: Readonly<Record<string, string>>;
}

const derive = (secret: string, info: string) => new Uint8Array(hkdfSync('sha256', secret, SALT, info, 32));

/** Both keys from the proxy secret (deterministic: the same secret gives the same keys). */
export function deriveProxyKeys(secret: string): ProxyKeys {
  if (secret.length < MIN_PROXY_SECRET_LENGTH) {
    throw new DependencyError('secrets', 'misconfigured', 'proxy secret shorter than 32 characters');
  }
  const seed = derive(secret, IDENTITY_INFO);
  const identity = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const { kty, crv, x } = createPublicKey(identity).export({ format: 'jwk' });
  return { session: derive(secret, SESSION_INFO), identity, identityPublicJwk: { kty, crv, x } as never };
}

/** Where the proxy secret comes from. */
export type ProxySecretSource = () => Promise<string>;

/** The keys, read and derived at the first call, then cached; a failure is retried at the next call. */
export function createKeyring(source: ProxySecretSource, log?: Logger): () => Promise<ProxyKeys> {
  let keys: Promise<ProxyKeys> | undefined;
  return () => {
    keys ??= source()
      .then(deriveProxyKeys)
      .catch((e: unknown) => {
        keys = undefined;
        log?.error('proxy secret unavailable', { reason: String(e) });
        throw e instanceof DependencyError ? e : new DependencyError('secrets', 'unreachable', String(e));
      });
    return keys;
  };
}

/** The deployed source: the SSM parameter through the extension; inline (local runs) as given. */
export function proxySecretSource(ref: { value?: string; ssmParameter?: string }): ProxySecretSource {
  if (ref.value !== undefined) {
    const value = ref.value;
    return async () => value;
  }
  const name = ref.ssmParameter!;
  const port = extensionPort(); // fixed when the handler is built, as the origin secret's
  return () => extensionParameter(name, { port });
}

/**
 * The keyring of a config: its `proxy_secret`; without one (local runs and tests only: a deployed
 * config must name one, `configFromEnv`), a random secret of this process.
 */
export function keyringFor(cfg: Config, log?: Logger): () => Promise<ProxyKeys> {
  const random = randomBytes(32).toString('base64url');
  return createKeyring(cfg.proxySecret ? proxySecretSource(cfg.proxySecret) : async () => random, log);
}
