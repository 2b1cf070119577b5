/**
 * `discovery` (and the original's top-level `path_mapping`): the authorization-server facade.
 */
import {
  DIALECT_NAMES,
  DIALECTS,
  type DialectName,
  defaultDialect,
} from '../../discovery/providers/dialects.ts';
import { SCOPE_SYNTAX } from '../encoding.ts';
import type { ProviderName } from './base.ts';
import { ConfigError } from './errors.ts';
import { open, Section, table } from './keys.ts';
import type { ConfigReader, SecretRef } from './reader.ts';

/** `host`, `*.domain` or `*`. */
const REDIRECT_HOST = /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/i;
/** Schemes that can never be allowed as private-use redirect URI schemes. */
const FORBIDDEN_SCHEMES = ['javascript', 'data', 'vbscript', 'file', 'http', 'https'];

export const DISCOVERY = table('discovery', {
  base_url: {
    type: 'url',
    secure: true,
    derived: 'the origin the request arrived on',
  },
  consent: {
    type: 'string',
    default: 'required',
    values: ['required', 'off'],
  },
  signing_key: {
    type: 'secret',
  },
  allowed_redirect_hosts: {
    type: 'list',
    default: [],
    pattern: REDIRECT_HOST,
    example: 'claude.ai',
  },
  allowed_redirect_schemes: {
    type: 'list',
    default: [],
  },
  registration_rate_per_minute: { type: 'int', default: 20, min: 0, max: 100_000 },
  token_failures_per_minute: { type: 'int', default: 20, min: 0, max: 100_000 },
  client_credentials: { type: 'bool', default: true },
  client_id_metadata_documents: { type: 'bool', default: true },
  cimd_idp_client_id: { type: 'string' },
  cimd_idp_client_secret: { type: 'secret' },
});

/** One pre-registered confidential client at the IdP for all MCP clients (client-binding/upstream.ts). */
export const UPSTREAM_CLIENT = table('discovery.upstream_client', {
  client_id: { type: 'string', required: true },
  client_secret: { type: 'secret', required: true },
  token_endpoint_auth_method: {
    type: 'string',
    default: 'client_secret_basic',
    values: ['client_secret_basic', 'client_secret_post'],
  },
  dialect: {
    type: 'string',
    values: DIALECT_NAMES,
    derived: '`cognito` / `asgardeo` for those providers, else `generic`',
  },
  scope: { type: 'string' },
  audience: { type: 'string' },
});

export interface UpstreamClientConfig {
  readonly clientId: string;
  readonly clientSecret: SecretRef;
  /** How the facade authenticates to the IdP's token endpoint (RFC 6749 §2.3.1). */
  readonly tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post';
  /** The IdP's parameter rules (functions/discovery/providers/dialects.ts). */
  readonly dialect: DialectName;
  /** Scope sent to the IdP instead of the client's (Entra: `api://<app>/<scope> offline_access`). */
  readonly scope?: string;
  /** `audience` parameter at the IdP's /authorize (Auth0: the API identifier). */
  readonly audience?: string;
}

export const PATH_MAPPING = table('', {
  path_mapping: {
    type: 'mapping',
    default: {},
  },
});

export interface DiscoveryConfig {
  /** Public URL of the discovery function (the facade's issuer); else learned from its host. */
  readonly baseUrl?: string;
  /** Redirect URI schemes allowed besides https and loopback http (e.g. `cursor`). */
  readonly allowedRedirectSchemes: readonly string[];
  /** https redirect hosts clients may register (`host`, `*.domain`, or `*`); loopback http is always allowed. */
  readonly allowedRedirectHosts: readonly string[];
  /** Original's `path_mapping`: facade path → IdP path. */
  readonly pathMapping: Readonly<Record<string, string>>;
  /**
   * `required`: the facade asks the user before every authorization request goes to the IdP
   * (shows where the code will be delivered). `off` only when the IdP itself shows a consent
   * screen for every new client and a signed-in user cannot skip it.
   */
  readonly consent: 'required' | 'off';
  /**
   * Key (≥ 32 characters) sealing facade client ids and relay states. When set, the facade
   * relays authorization responses (its `/callback` is the only redirect URI at the IdP, RFC 9207
   * `iss` = the facade's issuer); all instances must share it (SSM in a deployment).
   */
  readonly signingKey?: SecretRef;
  /** Registrations accepted per source address per minute, per instance (0 = no limit). */
  readonly registrationRatePerMinute: number;
  /**
   * Failed token requests (refused here or by the IdP) per source address per minute, per
   * instance; beyond it 429 before any IdP call (0 = no limit).
   */
  readonly tokenFailuresPerMinute: number;
  /**
   * Serve the `client_credentials` grant at the facade's token endpoint (MCP client-credentials
   * extension) for confidential clients registered at the IdP; advertised in the metadata.
   */
  readonly clientCredentials: boolean;
  /**
   * The facade registers clients itself and talks to the IdP as this one client (needs the
   * signing key); without it, every registration creates a client at the IdP.
   */
  readonly upstreamClient?: UpstreamClientConfig;
  /**
   * Client ID Metadata Documents (https `client_id` URLs): on when not turned off, the relay is on
   * and the IdP client they use is configured (`idpClientId`).
   */
  readonly clientIdMetadataDocuments?: {
    /** The IdP client every document client uses, registered with `<issuer>/callback`. */
    readonly idpClientId: string;
    /** Its secret, when it is a confidential client (sent as HTTP Basic to the IdP token endpoint). */
    readonly idpClientSecret?: SecretRef;
  };
}

/** Client ID Metadata Documents: their IdP client, which needs the relay. */
function parseDocuments(
  s: ReturnType<typeof open<typeof DISCOVERY.keys>>,
  signingKey: SecretRef | undefined,
): DiscoveryConfig['clientIdMetadataDocuments'] {
  const idpClientId = s.str('cimd_idp_client_id');
  const idpClientSecret = s.secret('cimd_idp_client_secret');
  const on = s.bool('client_id_metadata_documents');
  if (idpClientSecret && !idpClientId) {
    throw new ConfigError(s.key('cimd_idp_client_secret'), 'needs discovery.cimd_idp_client_id');
  }
  if (!idpClientId || !on) return undefined;
  if (!signingKey) {
    throw new ConfigError(
      s.key('cimd_idp_client_id'),
      'needs discovery.signing_key (clients identified by metadata documents use the relay)',
    );
  }
  // All document clients are one client at the IdP, whose remembered consent would cover them all.
  if (s.str('consent') === 'off') {
    throw new ConfigError(
      s.key('cimd_idp_client_id'),
      'needs discovery.consent: required (all document clients share one IdP client)',
    );
  }
  return { idpClientId, idpClientSecret };
}

function parsePathMapping(r: ConfigReader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [from, to] of Object.entries(open(r, PATH_MAPPING).mapping('path_mapping')!)) {
    if (typeof to !== 'string' || !from.startsWith('/') || !to.startsWith('/')) {
      throw new ConfigError(`path_mapping.${from}`, 'must map an absolute path to an absolute path');
    }
    out[from] = to;
  }
  return out;
}

/** `discovery.upstream_client`, if present: every key checked against the chosen dialect. */
function parseUpstreamClient(
  d: ConfigReader,
  provider: ProviderName,
  signingKey: SecretRef | undefined,
  consent: 'required' | 'off',
): UpstreamClientConfig | undefined {
  if (d.rawObj('upstream_client') === undefined) return undefined;
  const s = new Section(d.obj('upstream_client'), UPSTREAM_CLIENT.keys);
  const need = (k: 'client_id' | 'client_secret', why: string) => new ConfigError(s.key(k), why);
  if (!signingKey) {
    throw new ConfigError(
      'discovery.upstream_client',
      'needs `discovery.signing_key` (or `discovery.signing_key_ssm_parameter`): one upstream client works only with the relay, which seals the facade client ids and secrets',
    );
  }
  // MCP security best practices (confused deputy): a static client id at the IdP on behalf of
  // dynamically registered clients needs the user's consent for each of them, here.
  if (consent === 'off') {
    throw new ConfigError(
      'discovery.consent',
      'cannot be "off" with `discovery.upstream_client`: the IdP sees one client for all MCP clients, so only the facade can ask the user about each of them',
    );
  }
  const clientId = s.str('client_id');
  if (!clientId) throw need('client_id', 'is required: the client id of the app registered at the IdP');
  const clientSecret = s.secret('client_secret');
  if (!clientSecret)
    throw need('client_secret', 'is required (or `discovery.upstream_client.client_secret_ssm_parameter`)');
  const dialect = s.str('dialect') ?? defaultDialect(provider);
  const rule = DIALECTS[dialect];
  if (!rule.providers.includes(provider)) {
    throw new ConfigError(
      s.key('dialect'),
      `"${dialect}" is for provider ${rule.providers.join(' or ')}, not "${provider}"`,
    );
  }
  const scope = s.str('scope');
  if (scope !== undefined && !SCOPE_SYNTAX.test(scope))
    throw new ConfigError(s.key('scope'), 'must be space-separated scope names (RFC 6749 §3.3)');
  if (rule.scopeRequired && !scope) {
    throw new ConfigError(
      s.key('scope'),
      `is required for the "${dialect}" dialect (e.g. api://<app>/mcp.tools)`,
    );
  }
  return {
    clientId,
    clientSecret,
    tokenEndpointAuthMethod: s.str('token_endpoint_auth_method'),
    dialect,
    scope,
    audience: s.str('audience'),
  };
}

export function parseDiscovery(r: ConfigReader, provider: ProviderName): DiscoveryConfig {
  const s = open(r, DISCOVERY);
  const pathMapping = parsePathMapping(r);
  const signingKey = s.secret('signing_key');
  const upstreamClient = parseUpstreamClient(s.r, provider, signingKey, s.str('consent'));
  const clientIdMetadataDocuments = parseDocuments(s, signingKey);
  if (upstreamClient && clientIdMetadataDocuments) {
    throw new ConfigError(
      s.key('cimd_idp_client_id'),
      'cannot be combined with discovery.upstream_client yet: clients identified by metadata documents use the relay with their own IdP client',
    );
  }
  return {
    baseUrl: s.url('base_url')?.replace(/\/+$/, ''),
    allowedRedirectSchemes: s.list('allowed_redirect_schemes').map((scheme) => {
      if (!/^[a-z][a-z0-9+.-]*$/.test(scheme) || FORBIDDEN_SCHEMES.includes(scheme)) {
        throw new ConfigError('discovery.allowed_redirect_schemes', `cannot allow the scheme "${scheme}"`);
      }
      return scheme;
    }),
    pathMapping,
    signingKey,
    allowedRedirectHosts: s.list('allowed_redirect_hosts'),
    consent: s.str('consent'),
    registrationRatePerMinute: s.int('registration_rate_per_minute'),
    tokenFailuresPerMinute: s.int('token_failures_per_minute'),
    clientCredentials: s.bool('client_credentials'),
    upstreamClient,
    clientIdMetadataDocuments,
  };
}
