/**
 * Provider factory: one identity-provider module per `provider` value of the config.
 */
import type { Config } from '../../shared/config/index.ts';
import { createAsgardeoProvider } from './asgardeo.ts';
import { createCognitoProvider } from './cognito.ts';
import { createEmbeddedProvider } from './embedded.ts';
import { createOidcProvider } from './oidc.ts';
import type { IdentityProvider, ProviderDeps } from './types.ts';

export function createProvider(config: Config, deps: ProviderDeps): IdentityProvider {
  switch (config.provider) {
    case 'oidc':
      return createOidcProvider(config, deps);
    case 'embedded':
      return createEmbeddedProvider(config, deps);
    case 'asgardeo':
      return createAsgardeoProvider(config, deps);
    case 'cognito':
      return createCognitoProvider(config, deps);
  }
}
