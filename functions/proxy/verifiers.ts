/**
 * Picks the access-token verifier for the configured provider. Built once at module scope.
 */
import type { Config } from '../shared/config.ts';
import { type TokenVerifier, createJwtVerifier } from './token.ts';

export function createVerifier(config: Config): TokenVerifier & { warm(): Promise<void> } {
  return createJwtVerifier(config.token);
}
