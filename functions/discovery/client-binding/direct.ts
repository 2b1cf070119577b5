/**
 * Client binding without the relay (no `discovery.signing_key`): the client ids the facade hands
 * out are the IdP's, registered with the client's own redirect URIs, and the IdP redirects
 * straight back to the client. The facade cannot see the registration, so it checks nothing
 * against it and never redirects a refusal (the IdP matches the redirect URI exactly).
 */
import type { IdentityProvider } from '../providers/types.ts';
import type { AuthorizingClient, ClientBinding } from './types.ts';

const UNKNOWN_CLIENT: AuthorizingClient = {
  toIdp: () => [],
  refusal: () => undefined,
};

export function directBinding(provider: IdentityProvider): ClientBinding {
  return {
    issInAuthorizationResponse: false,
    consentKey: async () => undefined,
    register: (reg) => provider.register(reg),
    resolveClient: async () => UNKNOWN_CLIENT,
    // The client authenticates to the IdP, which issued its credentials (RFC 6749 §2.3.1).
    tokenRequest: async (_params, authorization) => ({ authorization }),
  };
}
