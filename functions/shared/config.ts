/**
 * One typed configuration schema for both functions, the CDK app and the local runner.
 *
 * The input is the YAML/JSON shape users write (snake_case keys, compatible with the original
 * Go proxy's `config.yaml` where the keys apply); the output is a frozen, fully defaulted
 * `Config`. `parseConfig` is the only place that validates: it runs at synth (bin/app.ts),
 * at cold start (functions/*\/index.ts) and in the local runner, and every error names the key.
 */

import { isObject } from './encoding.ts';
import { isLoopbackHost } from './http-bits.ts';

export type ProviderName = 'embedded' | 'oidc' | 'asgardeo' | 'cognito';
export const PROVIDERS: readonly ProviderName[] = ['embedded', 'oidc', 'asgardeo', 'cognito'];

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

/** A secret: inline (local runs only) or the name of an SSM SecureString parameter. */
export interface SecretRef {
  readonly value?: string;
  readonly ssmParameter?: string;
}

export interface Config {
  readonly provider: ProviderName;
  readonly upstream: {
    /** Base URL of the protected MCP server. */
    readonly baseUrl: string;
    /** Seconds to wait for the upstream's response headers. */
    readonly timeoutSeconds: number;
  };
  /** Public origin of the proxy (CloudFront/custom domain); else learned from the Function URL host. */
  readonly proxyBaseUrl?: string;
  /** Port of the local runner's proxy. */
  readonly listenPort: number;
  readonly paths: {
    readonly streamableHttp: string;
    readonly sse: string;
    readonly messages: string;
  };
  readonly cors: {
    readonly allowedOrigins: readonly string[];
    readonly allowedMethods: readonly string[];
    readonly allowedHeaders: readonly string[];
    readonly exposedHeaders: readonly string[];
    readonly allowCredentials: boolean;
    readonly maxAgeSeconds: number;
  };
  readonly protectedResourceMetadata: {
    /** Overrides the `resource` value (and default audience); else the public URL of the MCP path. */
    readonly resourceIdentifier?: string;
    /** Authorization servers listed in PRM; else the discovery function's URL, else the token issuer. */
    readonly authorizationServers: readonly string[];
    readonly scopesSupported?: readonly string[];
    readonly resourceName?: string;
    readonly resourceDocumentation?: string;
  };
  readonly token: {
    /** Exact `iss` of access tokens. */
    readonly issuer: string;
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
  };
  /** Prefix of the identity headers sent upstream; inbound headers with it are stripped. */
  readonly identityHeaderPrefix: string;
  readonly stream: {
    /** Hard bound on one streamed response; keep below the Lambda timeout. */
    readonly maxDurationSeconds: number;
    /** Idle SSE streams get a comment line this often (0 = off). */
    readonly heartbeatSeconds: number;
  };
  /** The discovery/registration function (authorization-server facade). */
  readonly discovery: {
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
  };
  /** `oidc` provider (original's `default` block). */
  readonly oidc?: {
    readonly baseUrl: string;
    readonly jwksUrl?: string;
    readonly path: Readonly<Record<string, PathRule>>;
    readonly clientId?: string;
    readonly clientSecret?: SecretRef;
  };
  /** `asgardeo` provider (original's `asgardeo` / `demo` blocks). */
  readonly asgardeo?: {
    readonly orgName: string;
    readonly clientId: string;
    readonly clientSecret: SecretRef;
    /** Base of the Asgardeo API (tests point this at a local contract server). */
    readonly apiBaseUrl: string;
    /**
     * How registered clients get their id: `generated` (default) = the proxy picks a random id and
     * sends it with the application, so the M2M token needs only `internal_application_mgt_create`;
     * `read_back` = Asgardeo picks it and the proxy reads it back (also needs
     * `internal_application_mgt_view`, which can read every application's settings).
     */
    readonly clientIdMode?: 'generated' | 'read_back';
  };
  /** `cognito` provider. */
  readonly cognito?: {
    readonly userPoolId: string;
    readonly region: string;
    /** Hosted UI domain, e.g. `https://myapp.auth.eu-west-1.amazoncognito.com`. */
    readonly domainUrl: string;
    readonly scopes: readonly string[];
    /** Endpoint override for the Cognito API (local emulators). */
    readonly endpoint?: string;
  };
  /** Embedded demo IdP (local runner only). */
  readonly embedded?: {
    readonly issuer: string;
    readonly port: number;
  };
}

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`invalid config: \`${key}\` ${message}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

/** Reads one mapping of the raw config; every error names the full key. Shared with lib/. */
export class ConfigReader {
  constructor(
    private readonly raw: Raw,
    private readonly prefix: string,
  ) {}

  key(k: string): string {
    return this.prefix ? `${this.prefix}.${k}` : k;
  }

  has(k: string): boolean {
    return this.raw[k] !== undefined && this.raw[k] !== null && this.raw[k] !== '';
  }

  /** First present alias wins; returns the key actually used for messages. */
  pick(...keys: string[]): string {
    return keys.find((k) => this.has(k)) ?? keys[0]!;
  }

  obj(k: string): ConfigReader {
    return this.optObj(k) ?? new ConfigReader({}, this.key(k));
  }

  /** The nested mapping, or undefined when the key is absent. */
  optObj(k: string): ConfigReader | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw new ConfigError(this.key(k), 'must be a mapping');
    return new ConfigReader(v, this.key(k));
  }

  rawObj(k: string): Raw | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw new ConfigError(this.key(k), 'must be a mapping');
    return v;
  }

  /** A string; with `re`, it must match (the message shows `example`). */
  str(k: string, re?: RegExp, example?: string): string | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string')
      throw new ConfigError(this.key(k), `must be a string (got ${JSON.stringify(v)})`);
    if (re && !re.test(v)) throw new ConfigError(this.key(k), `must look like "${example}" (got "${v}")`);
    return v;
  }

  reqStr(k: string, why = 'is required'): string {
    const v = this.str(k);
    if (v === undefined) throw new ConfigError(this.key(k), why);
    return v;
  }

  /** An http(s) URL; with `secure`, plain http only on a loopback host (see `checkSecureUrl`). */
  url(k: string, opts: { required?: boolean; why?: string; secure?: boolean } = {}): string | undefined {
    const v = opts.required ? this.reqStr(k, opts.why) : this.str(k);
    if (v === undefined) return undefined;
    return opts.secure ? checkSecureUrl(this.key(k), v) : checkUrl(this.key(k), v);
  }

  int(k: string, def: number, min: number, max: number): number;
  int(k: string, def: undefined, min: number, max: number): number | undefined;
  int(k: string, def: number | undefined, min: number, max: number): number | undefined {
    const v = this.raw[k];
    if (v === undefined || v === null || v === '') return def;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(
        this.key(k),
        `must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`,
      );
    }
    return n;
  }

  bool(k: string, def: boolean): boolean {
    const v = this.raw[k];
    if (v === undefined || v === null) return def;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw new ConfigError(this.key(k), `must be true or false (got ${JSON.stringify(v)})`);
  }

  /** A list (YAML sequence or comma-separated string); with `re`, every entry must match. */
  list(k: string, def: readonly string[] = [], re?: RegExp, example?: string): readonly string[] {
    const v = this.raw[k];
    if (v === undefined || v === null) return def;
    const arr = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
    if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string' && x.length > 0)) {
      throw new ConfigError(this.key(k), 'must be a list of non-empty strings');
    }
    if (re && !arr.every((x) => re.test(x))) {
      throw new ConfigError(
        this.key(k),
        `must be a list of values like "${example}" (got ${JSON.stringify(v)})`,
      );
    }
    return arr as string[];
  }

  secret(k: string): SecretRef | undefined {
    const inline = this.str(k);
    const ssm = this.str(`${k}_ssm_parameter`);
    if (inline !== undefined && ssm !== undefined) {
      throw new ConfigError(this.key(k), `and \`${this.key(`${k}_ssm_parameter`)}\` are both set; use one`);
    }
    if (ssm !== undefined && !/^[a-zA-Z0-9_.\-/]+$/.test(ssm)) {
      throw new ConfigError(
        this.key(`${k}_ssm_parameter`),
        `is not a valid SSM parameter name (got "${ssm}")`,
      );
    }
    if (inline !== undefined) return { value: inline };
    if (ssm !== undefined) return { ssmParameter: ssm };
    return undefined;
  }
}

function asgardeoClientIdMode(key: string, v: string | undefined): 'generated' | 'read_back' {
  if (v === undefined || v === 'generated' || v === 'read_back') return v ?? 'generated';
  throw new ConfigError(key, `must be "generated" or "read_back" (got "${v}")`);
}

export function checkUrl(key: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(key, `must be an absolute URL (got "${v}")`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(key, `must use http or https (got "${v}")`);
  }
  if (u.hash || u.username || u.password) {
    throw new ConfigError(key, `must not contain a fragment or credentials (got "${v}")`);
  }
  return v;
}

/**
 * A URL the proxy's security depends on (token issuer, JWKS, IdP endpoints, the public URLs it
 * advertises): https, or plain http on a loopback host only (local runs, emulators). Over plain
 * http anyone on the path could substitute signing keys or redirect clients' logins.
 */
export function checkSecureUrl(key: string, v: string): string {
  checkUrl(key, v);
  const u = new URL(v);
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new ConfigError(
      key,
      `must use https (got "${v}"); plain http is only accepted on a loopback host (localhost, 127.0.0.0/8, [::1])`,
    );
  }
  return v;
}

function checkPath(key: string, v: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(v))
    throw new ConfigError(key, `must be an absolute path like "/mcp" (got "${v}")`);
  return v.length > 1 ? v.replace(/\/+$/, '') : v;
}

function paramList(r: ConfigReader, k: string): ParamOverride[] {
  const v = (r as unknown as { raw: Raw }).raw[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(r.key(k), 'must be a list of {name, value}');
  return v.map((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string' || !p.name || typeof p.value !== 'string') {
      throw new ConfigError(`${r.key(k)}[${i}]`, 'must have a string `name` and `value`');
    }
    return { name: p.name, value: p.value };
  });
}

/** Validate and default a raw config object (parsed YAML or JSON). Throws `ConfigError`. */
export function parseConfig(input: unknown): Config {
  if (!isObject(input)) throw new ConfigError('(root)', 'must be a mapping');
  const r = new ConfigReader(input, '');

  const providerRaw =
    r.str('provider') ?? (r.has('asgardeo') ? 'asgardeo' : r.has('default') ? 'oidc' : undefined);
  if (providerRaw !== undefined && !PROVIDERS.includes(providerRaw as ProviderName)) {
    throw new ConfigError('provider', `must be one of ${PROVIDERS.join(', ')} (got "${providerRaw}")`);
  }

  const upstreamKey = r.pick('base_url', 'mcp_server_base_url');
  const baseUrl = r.url(upstreamKey, {
    required: true,
    why: 'is required: the URL of the MCP server to protect',
  })!;

  const paths = r.obj('paths');
  const legacy = r.list('mcp_paths');
  const findLegacy = (re: RegExp) => legacy.find((p) => re.test(p));
  const cors = r.obj('cors');
  const prm = r.obj('protected_resource_metadata');
  const tok = r.obj('token');
  const stream = r.obj('stream');
  const disc = r.obj('discovery');
  const timeoutSeconds = r.int('timeout_seconds', 30, 1, 900);

  // Provider-specific blocks.
  let provider: ProviderName = (providerRaw as ProviderName | undefined) ?? 'embedded';
  let oidc: Config['oidc'];
  let asgardeo: Config['asgardeo'];
  let cognito: Config['cognito'];
  let embedded: Config['embedded'];
  let issuerDefault: string | undefined;
  let jwksDefault: string | undefined;

  if (provider === 'oidc') {
    const d = r.obj('default');
    const base = d.url('base_url', {
      required: true,
      why: 'is required for provider "oidc": the IdP issuer URL',
      secure: true,
    })!;
    const pathRaw = d.rawObj('path') ?? {};
    const path: Record<string, PathRule> = {};
    for (const [p, rule] of Object.entries(pathRaw)) {
      const pr = d.obj('path').obj(p);
      if (!p.startsWith('/')) throw new ConfigError(`default.path.${p}`, 'must be a path starting with "/"');
      if (!isObject(rule)) throw new ConfigError(`default.path.${p}`, 'must be a mapping');
      path[p] = {
        response: pr.rawObj('response'),
        addQueryParams: paramList(pr, 'addQueryParams'),
        addBodyParams: paramList(pr, 'addBodyParams'),
      };
    }
    oidc = {
      baseUrl: base,
      jwksUrl: d.url('jwks_url', { secure: true }),
      path,
      clientId: d.str('client_id'),
      clientSecret: d.secret('client_secret'),
    };
    issuerDefault = d.url('issuer', { secure: true }) ?? base;
    jwksDefault = oidc.jwksUrl;
  } else if (provider === 'asgardeo') {
    const key = r.has('asgardeo') ? 'asgardeo' : 'demo';
    const a = r.obj(key);
    const orgName = a.reqStr('org_name', `is required for provider "asgardeo"`);
    if (!/^[a-z0-9][a-z0-9-]{0,99}$/i.test(orgName)) {
      throw new ConfigError(a.key('org_name'), `must be an Asgardeo organization name (got "${orgName}")`);
    }
    const clientSecret = a.secret('client_secret');
    if (!clientSecret)
      throw new ConfigError(a.key('client_secret'), 'or `client_secret_ssm_parameter` is required');
    const apiBaseUrl = a.url('api_base_url', { secure: true }) ?? 'https://api.asgardeo.io';
    asgardeo = {
      orgName,
      clientId: a.reqStr('client_id', 'is required for provider "asgardeo"'),
      clientSecret,
      apiBaseUrl: apiBaseUrl.replace(/\/+$/, ''),
      clientIdMode: asgardeoClientIdMode(a.key('client_id_mode'), a.str('client_id_mode')),
    };
    issuerDefault = `${asgardeo.apiBaseUrl}/t/${orgName}/oauth2/token`;
    jwksDefault = `${asgardeo.apiBaseUrl}/t/${orgName}/oauth2/jwks`;
  } else if (provider === 'cognito') {
    const c = r.obj('cognito');
    const userPoolId = c.reqStr('user_pool_id', 'is required for provider "cognito"');
    const m = /^([a-z]{2}-[a-z]+-\d)_[A-Za-z0-9]+$/.exec(userPoolId);
    if (!m)
      throw new ConfigError(c.key('user_pool_id'), `must look like "eu-west-1_AbC123" (got "${userPoolId}")`);
    const endpoint = c.url('endpoint', { secure: true });
    cognito = {
      userPoolId,
      region: m[1]!,
      domainUrl: c.url('domain_url', {
        required: true,
        why: 'is required for provider "cognito": the hosted UI domain',
        secure: true,
      })!,
      scopes: c.list('scopes'),
      endpoint,
    };
    issuerDefault = `${endpoint ? endpoint.replace(/\/+$/, '') : `https://cognito-idp.${m[1]}.amazonaws.com`}/${userPoolId}`;
    jwksDefault = `${issuerDefault}/.well-known/jwks.json`;
  } else {
    provider = 'embedded';
    const e = r.obj('embedded');
    const port = e.int('port', 9000, 1, 65535);
    embedded = { issuer: e.url('issuer') ?? `http://localhost:${port}`, port };
    issuerDefault = embedded.issuer;
  }

  const issuer = tok.url('issuer', { secure: true }) ?? issuerDefault;
  if (!issuer) throw new ConfigError('token.issuer', 'is required');
  const algorithms = tok.list('algorithms', DEFAULT_ALGORITHMS);
  for (const a of algorithms) {
    if (!ASYMMETRIC.has(a)) {
      throw new ConfigError(
        'token.algorithms',
        `may only list asymmetric algorithms (${DEFAULT_ALGORITHMS.join(', ')}); got "${a}"`,
      );
    }
  }

  const maxDurationSeconds = stream.int('max_duration_seconds', 840, 1, 900);
  const heartbeatSeconds = stream.int('heartbeat_seconds', 25, 0, 900);
  const identityHeaderPrefix = (r.str('identity_header_prefix') ?? 'x-mcp-auth-').toLowerCase();
  if (!/^x-[a-z0-9-]+-$/.test(identityHeaderPrefix)) {
    throw new ConfigError(
      'identity_header_prefix',
      `must look like "x-something-" (got "${identityHeaderPrefix}")`,
    );
  }

  const pathMappingRaw = r.rawObj('path_mapping') ?? {};
  const pathMapping: Record<string, string> = {};
  for (const [from, to] of Object.entries(pathMappingRaw)) {
    if (typeof to !== 'string' || !from.startsWith('/') || !to.startsWith('/')) {
      throw new ConfigError(`path_mapping.${from}`, 'must map an absolute path to an absolute path');
    }
    pathMapping[from] = to;
  }

  const allowedOrigins = cors.list('allowed_origins');
  for (const o of allowedOrigins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new ConfigError(
        'cors.allowed_origins',
        `entries must be origins like "https://app.example.com" or "*" (got "${o}")`,
      );
    }
  }
  const allowCredentials = cors.bool('allow_credentials', false);
  if (allowCredentials && allowedOrigins.includes('*')) {
    throw new ConfigError(
      'cors.allow_credentials',
      'cannot be true when `cors.allowed_origins` contains "*"',
    );
  }

  const config: Config = {
    provider,
    upstream: { baseUrl: baseUrl.replace(/\/+$/, ''), timeoutSeconds },
    proxyBaseUrl: r.url('proxy_base_url', { secure: true })?.replace(/\/+$/, ''),
    listenPort: r.int('listen_port', 8080, 1, 65535),
    paths: {
      streamableHttp: checkPath(
        'paths.streamable_http',
        paths.str('streamable_http') ?? findLegacy(/mcp/) ?? '/mcp',
      ),
      sse: checkPath('paths.sse', paths.str('sse') ?? findLegacy(/sse/) ?? '/sse'),
      messages: checkPath('paths.messages', paths.str('messages') ?? findLegacy(/message/) ?? '/messages'),
    },
    cors: {
      allowedOrigins,
      allowedMethods: cors.list('allowed_methods', ['GET', 'POST', 'DELETE', 'OPTIONS']),
      allowedHeaders: cors.list('allowed_headers', [
        'Authorization',
        'Content-Type',
        'Accept',
        'Mcp-Session-Id',
        'MCP-Protocol-Version',
        'Last-Event-ID',
        'Mcp-Method',
        'Mcp-Name',
      ]),
      exposedHeaders: cors.list('exposed_headers', [
        'Mcp-Session-Id',
        'MCP-Protocol-Version',
        'WWW-Authenticate',
      ]),
      allowCredentials,
      maxAgeSeconds: cors.int('max_age_seconds', 600, 0, 86400),
    },
    protectedResourceMetadata: {
      resourceIdentifier: prm.url('resource_identifier'),
      authorizationServers: prm
        .list('authorization_servers')
        .map((u, i) => checkSecureUrl(`protected_resource_metadata.authorization_servers[${i}]`, u)),
      scopesSupported: prm.has('scopes_supported') ? prm.list('scopes_supported') : undefined,
      resourceName: prm.str('resource_name'),
      resourceDocumentation: prm.url('resource_documentation'),
    },
    token: {
      issuer,
      jwksUri: tok.url('jwks_uri', { secure: true }) ?? r.url('jwks_url', { secure: true }) ?? jwksDefault,
      audience: tok.list('audience'),
      algorithms,
      clockSkewSeconds: tok.int('clock_skew_seconds', 30, 0, 300),
      jwksCooldownSeconds: tok.int('jwks_cooldown_seconds', 30, 0, 3600),
      acceptedTypes: tok
        .list('accepted_types', ['at+jwt', 'jwt'], /^(application\/)?[a-z0-9.+-]+$/i, 'at+jwt')
        .map((t) => t.toLowerCase().replace(/^application\//, '')),
      requiredScopes: tok.list('required_scopes'),
    },
    identityHeaderPrefix,
    stream: { maxDurationSeconds, heartbeatSeconds },
    discovery: {
      baseUrl: disc.url('base_url', { secure: true })?.replace(/\/+$/, ''),
      allowedRedirectSchemes: disc.list('allowed_redirect_schemes').map((s) => {
        if (
          !/^[a-z][a-z0-9+.-]*$/.test(s) ||
          ['javascript', 'data', 'vbscript', 'file', 'http', 'https'].includes(s)
        ) {
          throw new ConfigError('discovery.allowed_redirect_schemes', `cannot allow the scheme "${s}"`);
        }
        return s;
      }),
      pathMapping,
      signingKey: disc.secret('signing_key'),
      allowedRedirectHosts: disc.list(
        'allowed_redirect_hosts',
        [],
        /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/i,
        'claude.ai',
      ),
      consent: (() => {
        const v = disc.str('consent') ?? 'required';
        if (v !== 'required' && v !== 'off') {
          throw new ConfigError('discovery.consent', `must be "required" or "off" (got "${v}")`);
        }
        return v;
      })(),
    },
    oidc,
    asgardeo,
    cognito,
    embedded,
  };
  const paths3 = [config.paths.streamableHttp, config.paths.sse, config.paths.messages];
  if (new Set(paths3).size !== 3)
    throw new ConfigError('paths', 'streamable_http, sse and messages must be distinct');
  for (const p of paths3) {
    if (p.startsWith('/.well-known'))
      throw new ConfigError('paths', `cannot serve MCP under /.well-known (got "${p}")`);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Environment variable that carries the (raw, already synth-validated) config to the functions. */
export const CONFIG_ENV = 'MCP_AUTH_PROXY_CONFIG';

/**
 * Read the config from the environment at cold start. Deployment-time overrides that CDK
 * cannot bake into the JSON without a dependency cycle come from their own variables.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = env[CONFIG_ENV];
  if (!raw) throw new ConfigError(CONFIG_ENV, 'environment variable is not set');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(CONFIG_ENV, 'is not valid JSON');
  }
  const obj = isObject(parsed) ? { ...parsed } : parsed;
  if (isObject(obj) && env.AUTHORIZATION_SERVER_URL) {
    const prm = isObject(obj.protected_resource_metadata) ? { ...obj.protected_resource_metadata } : {};
    if (!prm.authorization_servers) prm.authorization_servers = [env.AUTHORIZATION_SERVER_URL];
    obj.protected_resource_metadata = prm;
  }
  return parseConfig(obj);
}
