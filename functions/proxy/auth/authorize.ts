/**
 * Authorize step: the token must carry every scope in `token.required_scopes` (scopes.ts); else
 * 403 `insufficient_scope` with one challenge listing all of them.
 */
import { OAuthError } from '../../shared/errors.ts';
import { missingScopes } from '../scopes.ts';
import type { Identity } from '../token.ts';

export function requireScopes(
  required: readonly string[],
  identity: Identity,
  resourceMetadata: string,
): void {
  const missing = missingScopes(required, identity.scopes);
  if (!missing.length) return;
  throw new OAuthError({
    status: 403,
    code: 'insufficient_scope',
    description: 'insufficient scope',
    reason: `missing scopes: ${missing.join(' ')}`,
    challenge: { resourceMetadata, scope: required.join(' '), includeError: true },
  });
}
