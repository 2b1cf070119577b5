/**
 * Routing and authorization server metadata of the facade (pure).
 *
 * The facade's issuer is `discovery.base_url` when configured, else the origin the request
 * arrived on (the Function URL). It is the exact string the proxy lists in its PRM
 * `authorization_servers` (RFC 9728 §3), and the metadata's `issuer` is byte-for-byte that
 * string (RFC 8414 §3.3; MCP 2026-07-28). For an issuer `https://h/p` the document is served at
 * every URL a 2025-11-25 client tries (MCP authorization, "Authorization Server Metadata
 * Discovery"): `/.well-known/oauth-authorization-server/p` (RFC 8414 §3.1),
 * `/.well-known/openid-configuration/p` and `/p/.well-known/openid-configuration` (OpenID
 * Connect Discovery §4); for an issuer without a path: `/.well-known/oauth-authorization-server`
 * and `/.well-known/openid-configuration`. The endpoints live under the issuer (`/p/authorize`,
 * ...) and, for 2025-03-26 clients without metadata, also at the origin root (`/authorize`,
 * `/token`, `/register`: "Fallbacks for Servers without Metadata Discovery").
 */
import { AS_WELL_KNOWN, OIDC_WELL_KNOWN } from '../shared/issuer-metadata.ts';

export type DiscoveryRoute =
  | { kind: 'metadata' }
  | { kind: 'authorize' }
  | { kind: 'consent' }
  | { kind: 'callback' }
  | { kind: 'token' }
  | { kind: 'register' }
  | { kind: 'none' };

/** The facade's issuer: configured, else the request origin. No trailing slash. */
export function facadeIssuer(configured: string | undefined, origin: string): string {
  return configured ?? origin;
}

/** Path part of the issuer (`''` for an origin). */
export function issuerPath(issuer: string): string {
  const p = new URL(issuer).pathname;
  return p === '/' ? '' : p.replace(/\/+$/, '');
}

export function discoveryRoute(issuer: string, path: string): DiscoveryRoute {
  const p = issuerPath(issuer);
  if (
    path === `${AS_WELL_KNOWN}${p}` ||
    path === `${OIDC_WELL_KNOWN}${p}` ||
    path === `${p}${OIDC_WELL_KNOWN}`
  ) {
    return { kind: 'metadata' };
  }
  // The consent form posts back under the issuer (it is never a 2025-03-26 root fallback).
  if (path === `${p}/authorize/consent`) return { kind: 'consent' };
  // The facade's redirect URI at the IdP when the relay is on (relay.ts).
  if (path === `${p}/callback`) return { kind: 'callback' };
  for (const kind of ['authorize', 'token', 'register'] as const) {
    if (path === `${p}/${kind}` || path === `/${kind}`) return { kind };
  }
  return { kind: 'none' };
}

/** Members the deployment may not override: they define the facade's security properties. */
const PROTECTED = new Set([
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'jwks_uri',
  'response_types_supported',
  'response_modes_supported',
  'grant_types_supported',
  'token_endpoint_auth_methods_supported',
  'code_challenge_methods_supported',
  'client_id_metadata_document_supported',
  'authorization_response_iss_parameter_supported',
]);

export interface MetadataInputs {
  readonly issuer: string;
  /** JWKS of the tokens' signer (the IdP), when known. */
  readonly jwksUri?: string;
  readonly scopesSupported?: readonly string[];
  /** Deployment's static additions (original's `path./.well-known/...response`). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** The facade relays authorization responses with its own `iss` (RFC 9207, relay.ts). */
  readonly issInAuthorizationResponse?: boolean;
  /** `client_credentials` is served at the token endpoint (`discovery.client_credentials`). */
  readonly clientCredentials?: boolean;
  /** https `client_id` URLs are resolved to their metadata documents (cimd.ts). */
  readonly clientIdMetadataDocuments?: boolean;
}

/** RFC 8414 §2 metadata of the facade. */
export function buildAsMetadata(m: MetadataInputs): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.overrides ?? {})) if (!PROTECTED.has(k)) doc[k] = v;
  Object.assign(doc, {
    issuer: m.issuer,
    authorization_endpoint: `${m.issuer}/authorize`,
    token_endpoint: `${m.issuer}/token`,
    registration_endpoint: `${m.issuer}/register`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      ...(m.clientCredentials ? ['client_credentials'] : []),
    ],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    ...(m.issInAuthorizationResponse ? { authorization_response_iss_parameter_supported: true } : {}),
    // draft-ietf-oauth-client-id-metadata-document §5; omitted (false) when they are off.
    ...(m.clientIdMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  });
  if (m.jwksUri) doc.jwks_uri = m.jwksUri;
  if (m.scopesSupported?.length && doc.scopes_supported === undefined)
    doc.scopes_supported = [...m.scopesSupported];
  return doc;
}
