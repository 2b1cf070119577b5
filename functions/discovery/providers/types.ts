/**
 * The one interface every identity-provider module implements. The facade's endpoints validate
 * input with their pure policy modules, then ask the provider for the IdP side. Providers are
 * I/O edges: they talk to the IdP (metadata, client creation, token endpoint). Plus the error
 * shapes registration failures share.
 */
import type { ProviderName } from '../../shared/config/index.ts';
import { DependencyError, type OAuthError, temporarilyUnavailable } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import type { SecretResolver } from '../secrets.ts';

/** RFC 7591 client metadata after validation by the facade (only fields we accept). */
export interface ClientRegistration {
  readonly redirect_uris: readonly string[];
  readonly grant_types: readonly ('authorization_code' | 'refresh_token')[];
  readonly response_types: readonly ['code'];
  readonly token_endpoint_auth_method: 'none' | 'client_secret_basic' | 'client_secret_post';
  readonly client_name?: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly scope?: string;
  readonly contacts?: readonly string[];
  readonly tos_uri?: string;
  readonly policy_uri?: string;
  readonly software_id?: string;
  readonly software_version?: string;
  readonly application_type?: 'web' | 'native';
}

/** What the IdP created (RFC 7591 §3.2.1 fields the facade returns with 201). */
export interface RegisteredClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly client_id_issued_at?: number;
  readonly client_secret_expires_at?: number;
  /** Metadata as registered at the IdP (may differ from the request, e.g. scopes). */
  readonly metadata: Partial<ClientRegistration> & Record<string, unknown>;
}

/** Endpoints and capabilities of the real IdP behind the facade. */
export interface IdpMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri?: string;
  readonly registration_endpoint?: string;
  readonly revocation_endpoint?: string;
  readonly scopes_supported?: readonly string[];
  readonly [k: string]: unknown;
}

export interface IdentityProvider {
  readonly name: ProviderName;
  /** The IdP's metadata (fetched once and cached by the provider). */
  metadata(): Promise<IdpMetadata>;
  /** Create a client at the IdP. Throws `OAuthError` (e.g. invalid_client_metadata) on refusal. */
  register(client: ClientRegistration): Promise<RegisteredClient>;
  /** Final query for the IdP's authorization endpoint (inject params, map `resource`, ...). */
  authorizeParams(params: URLSearchParams): URLSearchParams | Promise<URLSearchParams>;
  /** Final form body for the IdP's token endpoint. */
  tokenParams(params: URLSearchParams): URLSearchParams | Promise<URLSearchParams>;
  /** Static overrides of the facade's metadata document (original's `path.*.response`). */
  metadataOverrides?(): Readonly<Record<string, unknown>>;
}

/** What a provider factory gets besides the config (I/O seams). */
export interface ProviderDeps {
  /** HTTP client for IdP calls (defaults to the global fetch; TLS is always verified). */
  readonly fetch?: typeof fetch;
  readonly secrets: SecretResolver;
  readonly log?: Logger;
}

/** What the client is told when registration fails for a reason of ours or the IdP's. */
export const REGISTRATION_FAILED = 'client registration failed at the identity provider';
export const REGISTRATION_UNAVAILABLE = 'client registration is temporarily unavailable';

/** Registration refused for our misconfiguration (or an IdP answer we cannot use): 502. */
export function registrationFailed(reason: string): DependencyError {
  return new DependencyError('identity provider', 'misconfigured', reason, REGISTRATION_FAILED);
}

/** Registration impossible for now (quota, throttling, the IdP down): 503 with Retry-After. */
export function registrationUnavailable(reason: string): OAuthError {
  return temporarilyUnavailable(REGISTRATION_UNAVAILABLE, reason);
}
