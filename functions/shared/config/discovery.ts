/**
 * `discovery` (and the original's top-level `path_mapping`): the authorization-server facade.
 */
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
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
  client_id_metadata_documents: { type: 'bool', default: true },
  cimd_idp_client_id: { type: 'string' },
  cimd_idp_client_secret: { type: 'secret' },
});

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

export function parseDiscovery(r: ConfigReader): DiscoveryConfig {
  const s = open(r, DISCOVERY);
  const pathMapping = parsePathMapping(r);
  const signingKey = s.secret('signing_key');
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
    clientIdMetadataDocuments: parseDocuments(s, signingKey),
  };
}
