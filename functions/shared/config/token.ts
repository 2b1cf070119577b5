/**
 * `token` (and the original's top-level `jwks_url`): how the proxy verifies access tokens.
 */
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

/** Asymmetric JWS algorithms accepted by default (never `none`, never HS*). */
export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
const ASYMMETRIC = new Set(DEFAULT_ALGORITHMS);

export const TOKEN = table('token', {
  issuer: { type: 'url', secure: true, derived: 'provider-specific' },
  jwks_uri: {
    type: 'url',
    secure: true,
    derived: '`jwks_url`, else provider-specific',
  },
  audience: {
    type: 'list',
    default: [],
  },
  algorithms: {
    type: 'list',
    default: DEFAULT_ALGORITHMS,
  },
  clock_skew_seconds: {
    type: 'int',
    default: 30,
    min: 0,
    max: 300,
  },
  jwks_cooldown_seconds: {
    type: 'int',
    default: 30,
    min: 0,
    max: 3600,
  },
  accepted_types: {
    type: 'list',
    default: ['at+jwt', 'jwt'],
    pattern: /^(application\/)?[a-z0-9.+-]+$/i,
    example: 'at+jwt',
  },
  required_scopes: {
    type: 'list',
    default: [],
  },
});

export const TOKEN_ROOT = table('', {
  jwks_url: {
    type: 'url',
    secure: true,
  },
});

export interface TokenConfig {
  /** Exact `iss` of access tokens. */
  readonly issuer: string;
  /**
   * `issuer` is the oidc provider's `default.base_url` (no `token.issuer` or `default.issuer`):
   * the exact issuer is the one in the IdP's metadata, which may add or drop a trailing slash
   * (shared/issuer-metadata.ts); without a metadata document it is `issuer` as written.
   */
  readonly issuerFromBaseUrl: boolean;
  /** JWKS of the issuer; when absent it is discovered from the issuer's metadata document. */
  readonly jwksUri?: string;
  /** Accepted `aud` values; empty = the resource URL of the MCP endpoint being called. */
  readonly audience: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** Minimum seconds between JWKS re-fetches triggered by an unknown `kid`. */
  readonly jwksCooldownSeconds: number;
  /** Accepted JWT `typ` header values (lower case, without `application/`); absent is accepted. */
  readonly acceptedTypes: readonly string[];
  /** Scopes every request needs (403 insufficient_scope otherwise). */
  readonly requiredScopes: readonly string[];
}

/** The provider's defaults for `token.issuer` and `token.jwks_uri`. */
export interface TokenDefaults {
  readonly issuer?: string;
  readonly jwksUri?: string;
  /** The default issuer is a base URL (oidc's `default.base_url`), not an issuer as written. */
  readonly issuerFromBaseUrl?: boolean;
}

export function parseToken(r: ConfigReader, defaults: TokenDefaults): TokenConfig {
  const s = open(r, TOKEN);
  const configured = s.url('issuer');
  const issuer = configured ?? defaults.issuer;
  if (!issuer) throw new ConfigError('token.issuer', 'is required');
  const algorithms = s.list('algorithms');
  for (const a of algorithms) {
    if (!ASYMMETRIC.has(a)) {
      throw new ConfigError(
        'token.algorithms',
        `may only list asymmetric algorithms (${DEFAULT_ALGORITHMS.join(', ')}); got "${a}"`,
      );
    }
  }
  return {
    issuer,
    issuerFromBaseUrl: configured === undefined && defaults.issuerFromBaseUrl === true,
    jwksUri: s.url('jwks_uri') ?? open(r, TOKEN_ROOT).url('jwks_url') ?? defaults.jwksUri,
    audience: s.list('audience'),
    algorithms,
    clockSkewSeconds: s.int('clock_skew_seconds'),
    jwksCooldownSeconds: s.int('jwks_cooldown_seconds'),
    acceptedTypes: s.list('accepted_types').map((t) => t.toLowerCase().replace(/^application\//, '')),
    requiredScopes: s.list('required_scopes'),
  };
}
