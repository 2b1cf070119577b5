/**
 * How the facade's clients are bound to the IdP's: chosen once, when the function is built
 * (index.ts), so that no endpoint asks which mode it is in.
 *
 * - direct.ts: the client ids are the IdP's, registered with the client's own redirect URIs; the
 *   IdP redirects straight to the client and is the only party that knows the registration.
 * - relay.ts (`discovery.signing_key`): the authorization-response relay; the IdP knows only the
 *   facade's `/callback`, the client's redirect URIs ride sealed in the client id the facade hands
 *   out, and the facade checks them, relays the code and can redirect a refusal to the client.
 * - upstream.ts (`discovery.upstream_client`, with the signing key): the relay with ONE client at
 *   the IdP; the facade registers clients itself (no IdP call) and authenticates them at /token.
 */
import type { AuthorizeRequest } from '../authorize.ts';
import type { IdpReply } from '../idp-http.ts';
import type { ClientRegistration, RegisteredClient } from '../providers/types.ts';
import type { RelayState } from '../relay.ts';

export interface ClientBinding {
  /** The metadata's `authorization_response_iss_parameter_supported` (RFC 9207). */
  readonly issInAuthorizationResponse: boolean;
  /** The metadata's `client_id_metadata_document_supported` (https `client_id` URLs, cimd.ts). */
  readonly clientIdMetadataDocuments?: boolean;
  /** Create the client at the IdP; returns it as the facade hands it out. */
  register(reg: ClientRegistration, issuer: string): Promise<RegisteredClient>;
  /**
   * The client an authorization request comes from (/authorize and its consent POST), its
   * redirect URI checked against its registration where the binding knows it. Refusals are 400s,
   * never redirects.
   */
  resolveClient(ar: AuthorizeRequest, issuer: string): Promise<AuthorizingClient>;
  /**
   * The client's token request made fit for the IdP (`params` are changed in place); returns the
   * `Authorization` header to send on, if any, and how the IdP's reply is mapped back.
   */
  tokenRequest(params: URLSearchParams, authorization: string | null, issuer: string): Promise<TokenForward>;
  /** The key that seals consent tokens (the signing key, per issuer); none without the relay. */
  consentKey(issuer: string): Promise<Uint8Array | undefined>;
  /** The authorization response coming back from the IdP: only the relay has one (`/callback`). */
  readonly relay?: AuthorizationResponseRelay;
}

export interface TokenForward {
  /** The `Authorization` header for the IdP (only HTTP Basic is sent on). */
  readonly authorization: string | null;
  /** The IdP's reply made fit for the client before token.ts maps it (may throw). */
  readonly reply?: (r: IdpReply) => IdpReply;
}

export interface AuthorizingClient {
  /** The `client_name` it registered, for the consent page (self-declared), when the facade knows it. */
  readonly name?: string;
  /** For a client identified by its metadata document: the host it was fetched from over https. */
  readonly documentHost?: string;
  /** Set the parameters the IdP must see (after the provider's own); returns cookies to set. */
  toIdp(params: URLSearchParams): string[];
  /**
   * Where a refusal goes (RFC 6749 §4.1.2.1): the client's redirect URI carrying `error`, once
   * the URI is validated against the registration; undefined when it cannot be (a page instead).
   */
  refusal(error: 'access_denied', description: string): string | undefined;
}

export interface AuthorizationResponseRelay {
  /**
   * The flow the IdP's `state` names, if this facade issued it to this browser (relay.ts) and it
   * was not used before on this instance.
   */
  readState(
    issuer: string,
    state: string | null,
    cookieHeader: string | null,
  ): Promise<RelayState & { readonly clearCookie: string }>;
  /** Where the client gets the IdP's answer: its redirect URI with the code sealed, our `iss`. */
  clientRedirect(issuer: string, state: RelayState, idpResponse: URLSearchParams): Promise<string>;
}
