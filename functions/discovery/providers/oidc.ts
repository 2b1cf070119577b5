/**
 * `oidc` provider: any standards-compliant OAuth 2 / OpenID Connect server (the original's
 * "standard OAuth server" mode: Auth0, Keycloak, Okta, ...). I/O edge.
 *
 * IdP endpoints, most explicit first:
 * 1. `default.path./.well-known/oauth-authorization-server.response.<endpoint>` (the original's
 *    static metadata document; here its endpoint members say where the IdP is, they are NOT
 *    published as the facade's endpoints);
 * 2. `path_mapping` (`/authorize`, `/token`, `/register` → path on `default.base_url`);
 * 3. the IdP's own metadata, fetched from `default.base_url` (OpenID Connect Discovery §4, then
 *    RFC 8414 §3.1), or from the path `path_mapping` gives for a well-known URI.
 * Discovered metadata must carry exactly the issuer it was fetched for (RFC 8414 §3.3,
 * shared/issuer-metadata.ts): `token.issuer` (or the static document's `issuer`), byte for byte.
 *
 * Registration (RFC 7591) is forwarded to the IdP's registration endpoint: one IdP client per
 * registration, never a shared static client id (confused-deputy rule). When `default.client_id`
 * and `default.client_secret` are set, the request carries a bearer token the proxy obtains with
 * `client_credentials` (RFC 7591 §3 "initial access token"; Keycloak and Okta need one).
 */
import type { Config, PathRule, SecretRef } from '../../shared/config/index.ts';
import { basicAuth } from '../../shared/encoding.ts';
import { badRequest, OAuthError } from '../../shared/errors.ts';
import {
  AS_WELL_KNOWN,
  discoverMetadata,
  metadataUrls,
  OIDC_WELL_KNOWN,
} from '../../shared/issuer-metadata.ts';
import { type Logger, silentLogger } from '../../shared/log.ts';
import { checkIdpUrl, idpCall, unavailable } from '../idp-http.ts';
import {
  type ClientRegistration,
  type IdentityProvider,
  type IdpMetadata,
  type ProviderDeps,
  type RegisteredClient,
  registrationFailed,
} from './types.ts';

export interface StandardIdpSettings {
  readonly name: 'oidc' | 'embedded';
  /** IdP base URL (issuer, or the host the original's `path_mapping` paths are relative to). */
  readonly baseUrl: string;
  readonly jwksUrl?: string;
  readonly path: Readonly<Record<string, PathRule>>;
  readonly pathMapping: Readonly<Record<string, string>>;
  readonly clientId?: string;
  readonly clientSecret?: SecretRef;
  /** Static initial access token for registration; else one from client_credentials, if configured. */
  readonly registrationToken?: SecretRef;
  /** Issuer the IdP's metadata must carry (default: `baseUrl`). */
  readonly issuer?: string;
  /** `issuer` is the base URL: the metadata's spelling (one trailing slash more or less) is exact. */
  readonly issuerFromBaseUrl?: boolean;
}

const WELL_KNOWN = [AS_WELL_KNOWN, OIDC_WELL_KNOWN] as const;
const REGISTRATION_ERRORS = new Set([
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
]);
/** Metadata is re-fetched after this long (keys and endpoints rarely move). */
const METADATA_TTL_MS = 60 * 60 * 1000;

/** The static response document of the original's config, if any (pure). */
export function staticResponse(
  path: Readonly<Record<string, PathRule>>,
): Readonly<Record<string, unknown>> | undefined {
  for (const p of WELL_KNOWN) if (path[p]?.response) return path[p]!.response;
  return undefined;
}

/** Candidate metadata URLs for an IdP base URL: `path_mapping`'s well-known paths, else the standard ones (pure). */
export function idpMetadataUrls(baseUrl: string, pathMapping: Readonly<Record<string, string>>): string[] {
  const mapped = WELL_KNOWN.map((w) => pathMapping[w]).filter((p): p is string => !!p);
  if (!mapped.length) return metadataUrls(baseUrl);
  const origin = new URL(baseUrl).origin;
  return mapped.map((p) => `${origin}${p}`);
}

/** Endpoints the config states explicitly (pure). */
export function configuredEndpoints(s: StandardIdpSettings): Partial<IdpMetadata> {
  const out: Record<string, unknown> = {};
  const origin = new URL(s.baseUrl).origin;
  const map: Record<string, string> = {
    '/authorize': 'authorization_endpoint',
    '/token': 'token_endpoint',
    '/register': 'registration_endpoint',
  };
  for (const [facadePath, member] of Object.entries(map)) {
    const to = s.pathMapping[facadePath];
    if (to) out[member] = `${origin}${to}`;
  }
  const resp = staticResponse(s.path);
  for (const member of [
    'issuer',
    'authorization_endpoint',
    'token_endpoint',
    'registration_endpoint',
    'jwks_uri',
  ]) {
    if (typeof resp?.[member] === 'string' && resp[member]) out[member] = resp[member];
  }
  if (s.jwksUrl && !out.jwks_uri) out.jwks_uri = s.jwksUrl;
  return out as Partial<IdpMetadata>;
}

function safeText(v: unknown, max = 200): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters
  return typeof v === 'string' ? v.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, max) : undefined;
}

/**
 * One closure (hence its length): the metadata cache and the cached initial access token are
 * shared by the provider's methods below.
 */
export function createStandardProvider(s: StandardIdpSettings, deps: ProviderDeps): IdentityProvider {
  const http = deps.fetch ?? fetch;
  const log: Logger = deps.log ?? silentLogger;
  const fixed = configuredEndpoints(s);
  const rules = s.path;
  let cached: { meta: IdpMetadata; at: number } | undefined;
  let loading: Promise<IdpMetadata> | undefined;

  const discover = async (): Promise<Record<string, unknown>> => {
    const issuer = typeof fixed.issuer === 'string' ? fixed.issuer : (s.issuer ?? s.baseUrl);
    const found = await discoverMetadata(
      issuer,
      idpMetadataUrls(s.baseUrl, s.pathMapping),
      (url) => idpCall(http, 'IdP metadata', url, { headers: { accept: 'application/json' } }),
      [],
      typeof fixed.issuer !== 'string' && s.issuerFromBaseUrl === true,
    );
    if (!found.ok) throw unavailable(`IdP metadata not found: ${found.reason}`);
    return found.doc;
  };

  const load = async (): Promise<IdpMetadata> => {
    const needDiscovery =
      !fixed.authorization_endpoint || !fixed.token_endpoint || !fixed.registration_endpoint;
    const found = needDiscovery ? await discover() : {};
    const meta = { ...found, ...fixed } as Record<string, unknown>;
    meta.issuer ??= s.baseUrl;
    checkIdpUrl('IdP authorization_endpoint', meta.authorization_endpoint);
    checkIdpUrl('IdP token_endpoint', meta.token_endpoint);
    if (meta.registration_endpoint !== undefined)
      checkIdpUrl('IdP registration_endpoint', meta.registration_endpoint);
    return meta as IdpMetadata;
  };

  const metadata = async (): Promise<IdpMetadata> => {
    if (cached && Date.now() - cached.at < METADATA_TTL_MS) return cached.meta;
    loading ??= load()
      .then((meta) => {
        cached = { meta, at: Date.now() };
        return meta;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  // Initial access token for registration (client_credentials), cached until shortly before expiry.
  let iat: { token: string; until: number } | undefined;
  const initialAccessToken = async (tokenEndpoint: string): Promise<string | undefined> => {
    if (s.registrationToken) return deps.secrets.resolve(s.registrationToken);
    if (!s.clientId || !s.clientSecret) return undefined;
    if (iat && iat.until > Date.now()) return iat.token;
    const secret = await deps.secrets.resolve(s.clientSecret);
    const r = await idpCall(http, 'IdP client_credentials', tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: basicAuth(s.clientId, secret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    });
    const token = r.json?.access_token;
    if (r.status !== 200 || typeof token !== 'string') {
      throw registrationFailed(`client_credentials for registration: HTTP ${r.status}`);
    }
    const ttl = typeof r.json?.expires_in === 'number' ? r.json.expires_in : 300;
    iat = { token, until: Date.now() + Math.max(0, ttl - 30) * 1000 };
    return token;
  };

  /** `/token` or `/register` body params, SSM-backed values read through the secret cache. */
  const bodyParams = (p: string, forMachine = false): Promise<[string, string][]> =>
    Promise.all(
      (rules[p]?.addBodyParams ?? [])
        .filter((r) => !forMachine || !authenticatesClient(r))
        .map(
          async ({ name, value, secret }): Promise<[string, string]> => [
            name,
            secret ? await deps.secrets.resolve(secret) : value!,
          ],
        ),
    );

  return {
    name: s.name,
    metadata,

    async register(reg: ClientRegistration): Promise<RegisteredClient> {
      const meta = await metadata();
      if (!meta.registration_endpoint) {
        throw new OAuthError({
          status: 501,
          code: 'server_error',
          description: 'dynamic client registration is not available',
          reason: 'the IdP has no registration_endpoint (set path_mapping./register)',
        });
      }
      const body: Record<string, unknown> = { ...reg };
      for (const [name, value] of await bodyParams('/register')) body[name] = value;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      const token = await initialAccessToken(meta.token_endpoint);
      if (token) headers.authorization = `Bearer ${token}`;
      const r = await idpCall(http, 'IdP registration', meta.registration_endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      const j = r.json;
      if ((r.status === 201 || r.status === 200) && j && typeof j.client_id === 'string' && j.client_id) {
        const { client_id, client_secret, client_id_issued_at, client_secret_expires_at, ...rest } = j;
        return {
          client_id,
          client_secret: typeof client_secret === 'string' ? client_secret : undefined,
          client_id_issued_at: typeof client_id_issued_at === 'number' ? client_id_issued_at : undefined,
          client_secret_expires_at:
            typeof client_secret_expires_at === 'number' ? client_secret_expires_at : undefined,
          metadata: rest,
        };
      }
      if (r.status === 400 && j && typeof j.error === 'string') {
        const code = REGISTRATION_ERRORS.has(j.error) ? j.error : 'invalid_client_metadata';
        throw badRequest(
          code as 'invalid_client_metadata',
          safeText(j.error_description) ?? 'the identity provider refused the client metadata',
          `IdP registration refused: ${j.error}`,
        );
      }
      if (r.status >= 500) throw unavailable(`IdP registration answered HTTP ${r.status}`);
      log.error('IdP registration failed', { status: r.status, endpoint: meta.registration_endpoint });
      throw registrationFailed(`IdP registration answered HTTP ${r.status}: ${r.text.slice(0, 200)}`);
    },

    authorizeParams(params: URLSearchParams): URLSearchParams {
      const out = new URLSearchParams(params);
      // Inline values only: the config refuses `value_ssm_parameter` here (the browser sees the query).
      for (const { name, value } of rules['/authorize']?.addQueryParams ?? []) out.set(name, value!);
      return out;
    },

    async tokenParams(params: URLSearchParams): Promise<URLSearchParams> {
      const out = new URLSearchParams(params);
      // A client_credentials request is the client's own authentication: the facade never lends it
      // a secret of the deployment's (else anyone could get a machine token with a junk secret).
      const machine = params.get('grant_type') === 'client_credentials';
      for (const [name, value] of await bodyParams('/token', machine)) out.set(name, value);
      return out;
    },

    metadataOverrides() {
      return staticResponse(rules) ?? {};
    },
  };
}

/** Parameters that authenticate a client (RFC 6749 §2.3.1, RFC 7523), or a value from SSM. */
function authenticatesClient(r: { readonly name: string; readonly secret?: unknown }): boolean {
  return r.secret !== undefined || /^client_(id|secret|assertion|assertion_type)$/.test(r.name);
}

export function createOidcProvider(config: Config, deps: ProviderDeps): IdentityProvider {
  const o = config.oidc;
  if (!o) throw new Error('createOidcProvider: config.oidc (the `default` block) is missing');
  return createStandardProvider(
    {
      name: 'oidc',
      baseUrl: o.baseUrl,
      jwksUrl: o.jwksUrl,
      path: o.path,
      pathMapping: config.discovery.pathMapping,
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      registrationToken: o.registrationToken,
      issuer: config.token.issuer,
      issuerFromBaseUrl: config.token.issuerFromBaseUrl,
    },
    deps,
  );
}
