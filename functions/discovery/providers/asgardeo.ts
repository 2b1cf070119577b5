/**
 * Asgardeo (WSO2's IDaaS) as the IdP behind the facade: the original proxy's `--asgardeo` mode
 * and its `demo` block.
 *
 * Asgardeo has no open RFC 7591 endpoint, so each accepted registration becomes one application
 * created through Asgardeo's Application Management API
 * (`POST <api>/t/<org>/api/server/v1/applications`): an OIDC *public* client (no secret), PKCE
 * mandatory with S256 only (`plain` is refused, RFC 7636 §7.2 / OAuth 2.1), code (+ refresh) grant,
 * and the exact redirect URIs. The API call is authorized by an M2M token obtained with the
 * configured application's credentials (RFC 6749 §4.4 client_credentials, §2.3.1 Basic auth).
 *
 * Least privilege: by default the proxy chooses the client id itself (a CSPRNG value sent with
 * the application), so the M2M token asks only for `internal_application_mgt_create`. With
 * `client_id_mode: read_back` Asgardeo chooses it and the proxy reads it back from
 * `GET .../applications/{id}/inbound-protocols/oidc`, which needs `internal_application_mgt_view`
 * too (a scope that can read every application's OIDC settings, secrets included).
 *
 * Redirect URIs: one URI is sent verbatim (Asgardeo matches it exactly). Several URIs need
 * Asgardeo's `regexp=` form; that pattern is built only from URIs with every regex metacharacter
 * escaped, each anchored, never from raw input (the original joined raw URIs into a regex).
 *
 * TLS is always verified: the global fetch is used as is, and plain http is accepted for the API
 * base only on loopback (local contract tests).
 */
import { randomInt } from 'node:crypto';
import { asgardeoTenantBase, type Config, checkSecureUrl } from '../../shared/config/index.ts';
import { basicAuth } from '../../shared/encoding.ts';
import { badRequest, toOAuthError } from '../../shared/errors.ts';
import { type Logger, silentLogger } from '../../shared/log.ts';
import { type IdpReply, idpCall, jsonObject } from '../idp-http.ts';
import {
  type ClientRegistration,
  type IdentityProvider,
  type IdpMetadata,
  type ProviderDeps,
  REGISTRATION_UNAVAILABLE,
  type RegisteredClient,
  registrationFailed,
  registrationUnavailable,
} from './types.ts';

type AsgardeoConfig = NonNullable<Config['asgardeo']>;

export const SCOPE_CREATE = 'internal_application_mgt_create';
export const SCOPE_VIEW = 'internal_application_mgt_view';

// ---------------------------------------------------------------------------------------------
// Pure policy

/** Asgardeo's OIDC endpoints for the organization (its issuer is the token endpoint URL). */
export function asgardeoMetadata(a: AsgardeoConfig): IdpMetadata {
  const oauth2 = `${asgardeoTenantBase(a)}/oauth2`;
  return {
    issuer: `${oauth2}/token`,
    authorization_endpoint: `${oauth2}/authorize`,
    token_endpoint: `${oauth2}/token`,
    jwks_uri: `${oauth2}/jwks`,
    revocation_endpoint: `${oauth2}/revoke`,
    userinfo_endpoint: `${oauth2}/userinfo`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
  };
}

/** The M2M token's scope: nothing beyond what the chosen client-id mode needs. */
export function m2mScope(a: AsgardeoConfig): string {
  return a.clientIdMode === 'read_back' ? `${SCOPE_CREATE} ${SCOPE_VIEW}` : SCOPE_CREATE;
}

/** Every character with a meaning in Java (and JS) regular expressions, backslash-escaped. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
}

/**
 * Asgardeo's `callbackURLs` value for the registered redirect URIs: the URI itself when there is
 * one; else `regexp=(^u1$|^u2$)` with each URI fully escaped and anchored.
 */
export function callbackUrls(uris: readonly string[]): string[] {
  if (uris.length === 0) throw badRequest('invalid_redirect_uri', 'redirect_uris is required');
  for (const u of uris) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(u);
    } catch {
      parsed = undefined;
    }
    // Defense in depth (the facade validates first): an absolute URI, no fragment, and nothing
    // that Asgardeo could read as its own `regexp=` syntax.
    if (!parsed || parsed.hash || /^regexp=/i.test(u) || /\s/.test(u)) {
      throw badRequest(
        'invalid_redirect_uri',
        'a redirect URI is not acceptable',
        `rejected redirect URI ${JSON.stringify(u)}`,
      );
    }
  }
  if (uris.length === 1) return [uris[0]!];
  return [`regexp=(${uris.map((u) => `^${escapeRegex(u)}$`).join('|')})`];
}

/** Asgardeo application names: letters, digits, space, `.`, `_`, `-`; a random suffix keeps them unique. */
export function applicationName(requested: string | undefined, suffix: string): string {
  const cleaned = (requested ?? '')
    .replace(/[^A-Za-z0-9 ._-]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 40);
  return `mcp-${cleaned || 'client'}-${suffix}`;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** A CSPRNG string over [A-Za-z0-9] (unbiased). */
export function randomAlnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** A client id we choose: 28 characters of [A-Za-z0-9] (≈ 164 bits), inside WSO2's default client-id pattern. */
export function newClientId(): string {
  return `mcp${randomAlnum(25)}`;
}

/** The Application Management API body for one registration (an OIDC public client). */
export function applicationBody(
  reg: ClientRegistration,
  opts: { clientId?: string; nameSuffix: string },
): Record<string, unknown> {
  const grantTypes = [
    'authorization_code',
    ...(reg.grant_types.includes('refresh_token') ? ['refresh_token'] : []),
  ];
  return {
    name: applicationName(reg.client_name, opts.nameSuffix),
    templateId: 'custom-application-oidc',
    inboundProtocolConfiguration: {
      oidc: {
        ...(opts.clientId ? { clientId: opts.clientId } : {}),
        grantTypes,
        callbackURLs: callbackUrls(reg.redirect_uris),
        allowedOrigins: [],
        publicClient: true,
        pkce: { mandatory: true, supportPlainTransformAlgorithm: false },
        accessToken: {
          type: 'JWT',
          userAccessTokenExpiryInSeconds: 3600,
          applicationAccessTokenExpiryInSeconds: 3600,
        },
        refreshToken: { expiryInSeconds: 86400, renewRefreshToken: true },
      },
    },
    advancedConfigurations: { skipLoginConsent: false, skipLogoutConsent: false },
  };
}

/** The application id at the end of the `Location` of a 201, if it is a plain id. */
export function applicationIdFromLocation(location: string | null): string | undefined {
  if (!location) return undefined;
  const m = /\/applications\/([A-Za-z0-9-]{1,128})\/?$/.exec(location.split('?')[0]!);
  return m?.[1];
}

// ---------------------------------------------------------------------------------------------
// I/O edge

/** Asgardeo's error body `{code, message, description, traceId}` as a log-only reason. */
function apiReason(what: string, r: IdpReply): string {
  const b = jsonObject(r.text);
  const parts = [b?.code, b?.message, b?.description, b?.traceId].filter((x) => typeof x === 'string');
  return `${what}: HTTP ${r.status}${parts.length ? ` (${parts.join('; ')})` : ''}`;
}

/** The JSON body of a reply that must be 2xx: a 5xx is Asgardeo's outage, anything else our misconfiguration. */
function okBody(what: string, r: IdpReply, hint = ''): Record<string, unknown> | undefined {
  if (r.status >= 500) throw registrationUnavailable(apiReason(what, r));
  if (r.status < 200 || r.status >= 300) throw registrationFailed(apiReason(`${what}${hint}`, r));
  return jsonObject(r.text);
}

/**
 * One closure (hence its length): the cached M2M token and the Application Management calls
 * below share the API base, the credentials and that cache.
 */
export function createAsgardeoProvider(config: Config, deps: ProviderDeps): IdentityProvider {
  const a = config.asgardeo;
  if (!a) throw new Error('createAsgardeoProvider: config.asgardeo is missing');
  checkSecureUrl('asgardeo.api_base_url', a.apiBaseUrl);
  const http = deps.fetch ?? fetch;
  const log: Logger = deps.log ?? silentLogger;
  const metadata = asgardeoMetadata(a);
  const base = asgardeoTenantBase(a);
  const scope = m2mScope(a);
  const readBack = a.clientIdMode === 'read_back';

  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  // Never follows redirects with credentials attached; bounded in time (idp-http.ts). The
  // provider's failures are OAuthErrors, transport failures included.
  const call = async (what: string, url: string, init: RequestInit): Promise<IdpReply> => {
    try {
      return await idpCall(http, what, url, init, { description: REGISTRATION_UNAVAILABLE });
    } catch (e) {
      throw toOAuthError(e);
    }
  };

  /** M2M access token (RFC 6749 §4.4), cached until shortly before it expires. */
  const fetchToken = async (): Promise<string> => {
    let secret: string;
    try {
      secret = await deps.secrets.resolve(a.clientSecret);
    } catch (e) {
      throw registrationUnavailable(`asgardeo client secret unavailable: ${(e as Error).message}`);
    }
    const res = await call('asgardeo token request', `${base}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(a.clientId, secret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    const body = okBody('asgardeo token request', res, ' (check client_id/secret)');
    const token = body?.access_token;
    if (typeof token !== 'string' || !token)
      throw registrationFailed('asgardeo token response has no access_token');
    if (typeof body?.scope === 'string') {
      const granted = new Set(body.scope.split(' '));
      const missing = scope.split(' ').filter((s) => !granted.has(s));
      if (missing.length) {
        throw registrationFailed(
          `asgardeo M2M application is not authorized for ${missing.join(', ')} (Application Management API)`,
        );
      }
    }
    const ttl = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
    cached = { token, expiresAt: Date.now() + Math.max(ttl - 60, 10) * 1000 };
    return token;
  };

  const m2mToken = async (): Promise<string> => {
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  /** A management API call with the M2M token; one retry with a fresh token on 401. */
  const managementCall = async (what: string, url: string, init: RequestInit): Promise<IdpReply> => {
    for (let attempt = 0; ; attempt++) {
      const token = await m2mToken();
      const res = await call(what, url, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          authorization: `Bearer ${token}`,
          accept: 'application/json',
        },
      });
      if (res.status === 401 && attempt === 0) {
        cached = undefined;
        continue;
      }
      return res;
    }
  };

  const createApplication = async (reg: ClientRegistration) => {
    for (let attempt = 0; ; attempt++) {
      const clientId = readBack ? undefined : newClientId();
      const body = applicationBody(reg, { clientId, nameSuffix: randomAlnum(6) });
      const res = await managementCall('asgardeo create application', `${base}/api/server/v1/applications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status === 201) {
        const appId = applicationIdFromLocation(res.headers.get('location'));
        if (!appId)
          throw registrationFailed('asgardeo created an application but sent no usable Location header');
        return { appId, clientId };
      }
      // A name or client id clash (409): both are random, so one fresh attempt settles it.
      if (res.status === 409 && attempt === 0) continue;
      if (res.status === 400) {
        throw badRequest(
          'invalid_client_metadata',
          'the identity provider rejected the client metadata',
          apiReason('asgardeo create application', res),
        );
      }
      if (res.status >= 500 || res.status === 429)
        throw registrationUnavailable(apiReason('asgardeo create application', res));
      throw registrationFailed(apiReason('asgardeo create application', res));
    }
  };

  const readClientId = async (appId: string): Promise<string> => {
    const res = await managementCall(
      'asgardeo read inbound oidc',
      `${base}/api/server/v1/applications/${encodeURIComponent(appId)}/inbound-protocols/oidc`,
      { method: 'GET' },
    );
    const body = okBody('asgardeo read inbound oidc', res);
    const id = body?.clientId;
    if (typeof id !== 'string' || !id)
      throw registrationFailed('asgardeo inbound oidc configuration has no clientId');
    return id;
  };

  return {
    name: 'asgardeo',
    metadata: async () => metadata,

    async register(reg: ClientRegistration): Promise<RegisteredClient> {
      let result: { appId: string; clientId?: string };
      let clientId: string;
      try {
        result = await createApplication(reg);
        clientId = result.clientId ?? (await readClientId(result.appId));
      } catch (e) {
        const err = toOAuthError(e);
        log.warn('asgardeo client registration failed', { reason: err.reason, status: err.status });
        throw e;
      }
      log.info('asgardeo client registered', {
        applicationId: result.appId,
        clientId,
        redirectUris: reg.redirect_uris.length,
      });
      return {
        client_id: clientId,
        client_id_issued_at: Math.floor(Date.now() / 1000),
        metadata: {
          redirect_uris: [...reg.redirect_uris],
          grant_types: reg.grant_types.includes('refresh_token')
            ? ['authorization_code', 'refresh_token']
            : ['authorization_code'],
          response_types: ['code'],
          // RFC 7591 §3.2.1: the server may replace requested values; these clients are public.
          token_endpoint_auth_method: 'none',
          ...(reg.client_name ? { client_name: reg.client_name } : {}),
          ...(reg.application_type ? { application_type: reg.application_type } : {}),
        },
      };
    },

    // Parameters pass through unchanged; `resource` (RFC 8707) included, for Asgardeo to honour
    // or ignore. PKCE S256 is enforced by the facade and, per application, by Asgardeo.
    authorizeParams: (p) => new URLSearchParams(p),
    tokenParams: (p) => new URLSearchParams(p),
  };
}
