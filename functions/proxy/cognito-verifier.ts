/**
 * Access-token verifier for Amazon Cognito user pools (aws-jwt-verify, zero dependencies: the
 * proxy bundle stays free of the AWS SDK).
 *
 * Cognito access tokens carry no `aud` claim (RFC 9068 §2.2 is not followed), so the audience
 * check of RFC 8707 cannot be made. What binds a token to this MCP server instead is the resource
 * server's custom scope: a token must be an access token (`token_use` = "access") of this pool
 * and carry at least one of the binding scopes (./cognito-scopes.ts: the resource-server scopes
 * of `token.required_scopes`, else of `cognito.scopes`; generic scopes such as `openid` never
 * count). A token lacking all of them was not issued for us and is rejected like a wrong audience
 * (401); the pipeline's authorize step then enforces every required scope (403 insufficient_scope).
 */
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import {
  FetchError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
} from 'aws-jwt-verify/error';
import { type Fetcher, SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, SimplePenaltyBox } from 'aws-jwt-verify/jwk';
import type { Config } from '../shared/config/index.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { bindingScopes } from './cognito-scopes.ts';
import {
  type Identity,
  identityOf,
  jwksHoldBack,
  TokenRejected,
  type TokenVerifier,
  VerifierUnavailable,
} from './token.ts';

function isUnavailable(e: unknown): boolean {
  return (
    e instanceof FetchError ||
    e instanceof JwksValidationError ||
    e instanceof JwkValidationError ||
    e instanceof JwksNotAvailableInCacheError
  );
}

/**
 * JWKS fetcher for an endpoint override: the library's own fetcher speaks https only, while local
 * emulators serve http on loopback. Bounded by a timeout; redirects are refused.
 */
function overrideFetcher(timeoutMs: number): Fetcher {
  return {
    async fetch(uri: string): Promise<ArrayBuffer> {
      let res: Response;
      try {
        res = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      } catch (e) {
        throw new FetchError(uri, (e as Error).message);
      }
      if (!res.ok) throw new FetchError(uri, `status ${res.status}`);
      return res.arrayBuffer();
    },
  };
}

/**
 * Long (≈70 lines) because it is one closure: the algorithm check, the JWKS cache and the library
 * verifier built once here are what `verify` and `warm` below share.
 */
export function createCognitoVerifier(
  config: Config,
  log: Logger = createLogger('proxy'),
): TokenVerifier & { warm(): Promise<void> } {
  const c = config.cognito;
  if (!c) throw new Error('createCognitoVerifier: config.cognito is missing');
  // Throws ConfigError when no resource-server scope is configured: refuse to start.
  const scope = bindingScopes(config);
  log.debug('cognito binding scopes', { scope });
  const algorithms = new Set(config.token.algorithms);
  const customJwtCheck = ({ header }: { header: { alg?: string } }) => {
    if (!header.alg || !algorithms.has(header.alg))
      throw new TokenRejected(`algorithm ${header.alg} not allowed`);
  };

  // An unknown `kid` triggers at most one JWKS re-fetch per cooldown; a failed fetch is not
  // retried before its hold-back (jwksHoldBack: the penalty box only counts fetches that worked).
  const penaltyBox = new SimplePenaltyBox({ waitSeconds: config.token.jwksCooldownSeconds });
  const inner = c.endpoint ? overrideFetcher(5000) : new SimpleFetcher();
  const holdBack = jwksHoldBack(config.token.jwksCooldownSeconds);
  const fetcher: Fetcher = { fetch: (...args) => holdBack.run(() => inner.fetch(...args)) };
  const jwksCache = new SimpleJwksCache({ penaltyBox, fetcher });

  // Real Cognito: the library derives issuer and JWKS from the pool id. A local endpoint override
  // (emulators) has another issuer, so the generic verifier runs with the same Cognito checks.
  const verifier = c.endpoint
    ? JwtVerifier.create(
        {
          issuer: config.token.issuer,
          jwksUri: config.token.jwksUri ?? `${config.token.issuer}/.well-known/jwks.json`,
          audience: null,
          scope,
          graceSeconds: config.token.clockSkewSeconds,
          customJwtCheck: ({ header, payload }) => {
            customJwtCheck({ header });
            if (payload.token_use !== 'access')
              throw new TokenRejected(`token_use is ${String(payload.token_use)}, not access`);
          },
        },
        { jwksCache },
      )
    : CognitoJwtVerifier.create(
        {
          userPoolId: c.userPoolId,
          tokenUse: 'access',
          clientId: null,
          scope,
          graceSeconds: config.token.clockSkewSeconds,
          customJwtCheck,
        },
        { jwksCache },
      );

  return {
    // `audiences` is not used: Cognito access tokens have no `aud` (see above).
    async verify(token: string, _audiences: readonly string[]): Promise<Identity> {
      let payload: Record<string, unknown>;
      try {
        payload = (await verifier.verify(token)) as Record<string, unknown>;
      } catch (e) {
        if (e instanceof TokenRejected || e instanceof VerifierUnavailable) throw e;
        if (isUnavailable(e)) throw new VerifierUnavailable(`JWKS unavailable: ${(e as Error).message}`);
        throw new TokenRejected(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
      return identityOf(payload, config.token.clockSkewSeconds);
    },
    async warm() {
      try {
        await verifier.hydrate();
      } catch (e) {
        throw new VerifierUnavailable(`JWKS warm-up failed: ${(e as Error).message}`);
      }
    },
  };
}
