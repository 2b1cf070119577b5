/**
 * Authenticate step: the bearer token from the `Authorization` header only (RFC 6750 §2.1; one in
 * the query string is not accepted, both at once is a 400), verified by the verifier (JWKS,
 * `iss`, `aud`, lifetime, type). Refusals carry the challenge with `resource_metadata`
 * (RFC 9728 §5.1); an unreachable JWKS is a 503 (fail closed).
 */
import type { Config } from '../../shared/config/index.ts';
import type { Exchange } from '../../shared/endpoint.ts';
import { OAuthError } from '../../shared/errors.ts';
import { acceptedAudiences } from '../routes.ts';
import { extractBearer, type Identity, TokenRejected, type TokenVerifier, tokenError } from '../token.ts';

export async function authenticate(
  cfg: Config,
  verifier: TokenVerifier,
  x: Exchange<unknown>,
  resource: { readonly mcpPath: string; readonly resourceMetadata: string },
): Promise<Identity> {
  const { resourceMetadata } = resource;
  const bearer = extractBearer(x.req.headers.get('authorization'), x.url.searchParams);
  if (bearer.kind === 'missing' || bearer.kind === 'query-only') {
    const required = cfg.token.requiredScopes;
    throw new OAuthError({
      status: 401,
      code: 'invalid_token',
      description: 'authorization required',
      reason: `no bearer token (${bearer.kind})`,
      challenge: {
        resourceMetadata,
        scope: required.length ? required.join(' ') : undefined,
        includeError: false,
      },
    });
  }
  if (bearer.kind === 'malformed') {
    throw new OAuthError({
      status: 400,
      code: 'invalid_request',
      description: 'malformed authorization',
      reason: bearer.reason,
      challenge: { resourceMetadata, includeError: true },
    });
  }
  let identity: Identity;
  try {
    if (bearer.kind === 'invalid') throw new TokenRejected(bearer.reason);
    identity = await verifier.verify(bearer.token, acceptedAudiences(cfg, x.url.origin, resource.mcpPath));
  } catch (e) {
    throw tokenError(e, { resourceMetadata });
  }
  x.access.sub = identity.subject;
  x.access.clientId = identity.clientId;
  return identity;
}
