/**
 * Picks the access-token verifier for the configured provider. Built once at module scope.
 */
import type { Config } from '../shared/config/index.ts';
import { createCognitoVerifier } from './cognito-verifier.ts';
import { createJwtVerifier, type TokenVerifier } from './token.ts';
import { cachingVerifier } from './verified-cache.ts';

export function createVerifier(config: Config): TokenVerifier & { warm(): Promise<void> } {
  // Cognito access tokens have no `aud`: checked by token_use and resource scope instead.
  const verifier =
    config.provider === 'cognito' ? createCognitoVerifier(config) : createJwtVerifier(config.token);
  return cachingVerifier(verifier, { clockSkewSeconds: config.token.clockSkewSeconds });
}
