/**
 * `default` (the original's block; provider `oidc`): any standards-compliant OAuth/OIDC server.
 */
import { isObject } from '../../encoding.ts';
import { ConfigError } from '../errors.ts';
import { open, Section, table } from '../keys.ts';
import type { ConfigReader, SecretRef } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';

export const OIDC = table('default', {
  base_url: {
    type: 'url',
    secure: true,
    required: true,
    doc: "IdP issuer URL; the IdP's metadata is fetched from it.",
  },
  issuer: {
    type: 'url',
    secure: true,
    derived: '`default.base_url`',
    doc: "Issuer of the IdP's tokens; default of `token.issuer`.",
  },
  jwks_url: {
    type: 'url',
    secure: true,
    derived: 'from the IdP metadata',
    doc: 'IdP JWKS; default of `token.jwks_uri`.',
  },
  client_id: { type: 'string', doc: 'IdP client allowed to register clients (initial access token).' },
  client_secret: { type: 'secret', doc: 'Its secret.' },
  registration_token: {
    type: 'secret',
    doc: "A static initial access token for the IdP's registration endpoint (RFC 7591 §3; e.g. Keycloak's).",
  },
});

/** The original's per-path recipes under `default.path`. */
export const PATH_RULE = table('default.path.<path>', {
  response: { type: 'mapping', doc: "Original's static metadata document (says where the IdP is)." },
  addQueryParams: { type: 'params', default: [], doc: 'Set on the redirect to the IdP (`/authorize`).' },
  addBodyParams: {
    type: 'params',
    default: [],
    doc: 'Set in the body sent to the IdP (`/token`, `/register`).',
  },
});

export interface ParamOverride {
  readonly name: string;
  readonly value: string;
}

/** Per-path rules of the original's `default.path` block (the "standard OAuth server" recipes). */
export interface PathRule {
  /** Static fields merged into (or replacing) the metadata document served at this path. */
  readonly response?: Readonly<Record<string, unknown>>;
  readonly addQueryParams: readonly ParamOverride[];
  readonly addBodyParams: readonly ParamOverride[];
}

/** `oidc` provider (original's `default` block). */
export interface OidcConfig {
  readonly baseUrl: string;
  readonly jwksUrl?: string;
  readonly path: Readonly<Record<string, PathRule>>;
  readonly clientId?: string;
  readonly clientSecret?: SecretRef;
  /** Static initial access token for registration (instead of client_credentials). */
  readonly registrationToken?: SecretRef;
}

type PathRuleSection = Section<typeof PATH_RULE.keys>;

function paramList(s: PathRuleSection, k: 'addQueryParams' | 'addBodyParams'): ParamOverride[] {
  const v = s.r.value(k);
  if (v === undefined || v === null) return [...PATH_RULE.keys[k].default];
  if (!Array.isArray(v)) throw new ConfigError(s.key(k), 'must be a list of {name, value}');
  return v.map((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string' || !p.name || typeof p.value !== 'string') {
      throw new ConfigError(`${s.key(k)}[${i}]`, 'must have a string `name` and `value`');
    }
    return { name: p.name, value: p.value };
  });
}

function parsePathRules(d: ConfigReader): Record<string, PathRule> {
  const path: Record<string, PathRule> = {};
  for (const [p, rule] of Object.entries(d.rawObj('path') ?? {})) {
    const pr = new Section(d.obj('path').obj(p), PATH_RULE.keys);
    if (!p.startsWith('/')) throw new ConfigError(`default.path.${p}`, 'must be a path starting with "/"');
    if (!isObject(rule)) throw new ConfigError(`default.path.${p}`, 'must be a mapping');
    path[p] = {
      response: pr.mapping('response'),
      addQueryParams: paramList(pr, 'addQueryParams'),
      addBodyParams: paramList(pr, 'addBodyParams'),
    };
  }
  return path;
}

export function parseOidc(r: ConfigReader): { oidc: OidcConfig } & TokenDefaults {
  const s = open(r, OIDC);
  const baseUrl = s.url('base_url', 'is required for provider "oidc": the IdP issuer URL')!;
  const path = parsePathRules(s.r);
  const oidc: OidcConfig = {
    baseUrl,
    jwksUrl: s.url('jwks_url'),
    path,
    clientId: s.str('client_id'),
    clientSecret: s.secret('client_secret'),
    registrationToken: s.secret('registration_token'),
  };
  return { oidc, issuer: s.url('issuer') ?? baseUrl, jwksUri: oidc.jwksUrl };
}
