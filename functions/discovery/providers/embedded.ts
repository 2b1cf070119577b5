/**
 * `embedded` provider: the local demo IdP (bin/local/demo-idp.ts, `oidc-provider` with dynamic
 * client registration for the facade only (its initial access token, `embedded.registration_token`), PKCE S256 and RFC 8707 resource indicators). It is a standard
 * OpenID provider, so this is the `oidc` provider pointed at `embedded.issuer` with no recipe
 * overrides: metadata from its discovery document, DCR forwarded to its registration endpoint,
 * `resource` passed through unchanged (the demo IdP mints tokens whose `aud` is the resource).
 * Local runs only.
 */
import type { Config } from '../../shared/config/index.ts';
import { createStandardProvider } from './oidc.ts';
import type { IdentityProvider, ProviderDeps } from './types.ts';

export function createEmbeddedProvider(config: Config, deps: ProviderDeps): IdentityProvider {
  const e = config.embedded;
  if (!e) throw new Error('createEmbeddedProvider: config.embedded is missing');
  return createStandardProvider(
    {
      name: 'embedded',
      baseUrl: e.issuer,
      path: {},
      pathMapping: {},
      issuer: e.issuer,
      registrationToken: e.registrationToken,
    },
    deps,
  );
}
