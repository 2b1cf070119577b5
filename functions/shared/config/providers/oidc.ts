/**
 * `default` (the original's block; provider `oidc`): any standards-compliant OAuth/OIDC server.
 */
import { isObject } from '../../encoding.ts';
import { ConfigError } from '../errors.ts';
import { open, Section, table } from '../keys.ts';
import { ConfigReader, type SecretRef } from '../reader.ts';
import type { TokenDefaults } from '../token.ts';

export const OIDC = table('default', {
  base_url: {
    type: 'url',
    secure: true,
    required: true,
  },
  issuer: {
    type: 'url',
    secure: true,
    derived: '`default.base_url`',
  },
  jwks_url: {
    type: 'url',
    secure: true,
    derived: 'from the IdP metadata',
  },
  client_id: { type: 'string' },
  client_secret: { type: 'secret' },
  registration_token: {
    type: 'secret',
  },
});

/** The original's per-path recipes under `default.path`. */
export const PATH_RULE = table('default.path.<path>', {
  response: { type: 'mapping' },
  addQueryParams: { type: 'params', default: [] },
  addBodyParams: {
    type: 'params',
    default: [],
  },
});

/**
 * One `{name, value}` entry (`{name, value_ssm_parameter}` for a secret, read at cold start;
 * `public: true` for an inline value whose name only looks like a secret).
 */
export interface ParamOverride {
  readonly name: string;
  /** The inline value (absent when it comes from SSM). */
  readonly value?: string;
  /** `value_ssm_parameter`: the SSM SecureString holding the value. */
  readonly secret?: SecretRef;
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
    const key = `${s.key(k)}[${i}]`;
    if (!isObject(p) || typeof p.name !== 'string' || !p.name) {
      throw new ConfigError(key, 'must have a string `name` and a `value` or `value_ssm_parameter`');
    }
    return paramEntry(new ConfigReader(p, key), p.name, k === 'addQueryParams');
  });
}

/** `value` (a string, may be empty) or `value_ssm_parameter`, and `public`. */
function paramEntry(e: ConfigReader, name: string, query: boolean): ParamOverride {
  const isPublic = e.bool('public', false);
  const ref = e.value('value') === '' ? { value: '' } : e.secret('value');
  if (ref?.ssmParameter !== undefined) {
    if (query) {
      throw new ConfigError(
        e.key('value_ssm_parameter'),
        "cannot be used in `addQueryParams`: query parameters go to the user's browser in the redirect to the IdP, so they are never secret",
      );
    }
    if (isPublic) throw new ConfigError(e.key('public'), 'cannot be true for a value read from SSM');
    return { name, secret: ref };
  }
  if (typeof ref?.value !== 'string') {
    throw new ConfigError(e.key('value'), 'must be a string, or set `value_ssm_parameter` instead');
  }
  return { name, value: ref.value };
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
  const issuer = s.url('issuer');
  return { oidc, issuer: issuer ?? baseUrl, issuerFromBaseUrl: issuer === undefined, jwksUri: oidc.jwksUrl };
}
