/**
 * What each IdP expects of ONE pre-registered client (`discovery.upstream_client`), as data (pure,
 * no imports: the config validates against the same table). MCP clients speak RFC 8707
 * (`resource`) and the PRM's scope names; IdPs differ:
 *
 * | dialect  | `resource` sent | instead                                  | scope                              |
 * |----------|-----------------|------------------------------------------|------------------------------------|
 * | generic  | yes             | —                                        | the client's                       |
 * | entra    | no (AADSTS9010010) | —                                     | `upstream_client.scope` (required) |
 * | google   | no              | `access_type=offline` (refresh tokens)   | the client's or configured         |
 * | okta     | no              | audience fixed by the custom AS          | the client's or configured         |
 * | auth0    | no              | `audience` (configured, else `resource`) | the client's or configured         |
 * | keycloak | no              | audience from an Audience mapper         | the client's or configured         |
 * | cognito  | no              | resource server scopes                   | the client's or configured         |
 * | asgardeo | yes             | —                                        | the client's or configured         |
 *
 * `upstream_client.scope`, when set, replaces the client's `scope` at /authorize and (when the
 * client sends one; Entra: always) at /token; `upstream_client.audience` is sent at /authorize by any dialect.
 */

export type DialectName =
  | 'generic'
  | 'entra'
  | 'google'
  | 'okta'
  | 'auth0'
  | 'keycloak'
  | 'cognito'
  | 'asgardeo';

export interface Dialect {
  /** RFC 8707 `resource` is forwarded to /authorize and /token; else it is dropped. */
  readonly resource: boolean;
  /** The client's first `resource` becomes this /authorize parameter when none is configured. */
  readonly resourceAs?: 'audience';
  /** Fixed /authorize parameters (they replace the client's). */
  readonly authorize: Readonly<Record<string, string>>;
  /** `discovery.upstream_client.scope` must be set: the IdP's scope names are not the PRM's. */
  readonly scopeRequired: boolean;
  /** The configured scope goes into every token request, not only those that carry one. */
  readonly scopeAtToken?: true;
  /** The providers (`provider:`) this dialect is for. */
  readonly providers: readonly string[];
  /** Whether the IdP's access tokens are JWTs the proxy can verify (Google's are opaque). */
  readonly jwtAccessTokens: boolean;
}

const STANDARD = ['oidc', 'embedded'] as const;

export const DIALECTS: Readonly<Record<DialectName, Dialect>> = {
  generic: {
    resource: true,
    authorize: {},
    scopeRequired: false,
    providers: STANDARD,
    jwtAccessTokens: true,
  },
  // Entra v2 asks for `scope` when a refresh token is redeemed, too.
  entra: {
    resource: false,
    authorize: {},
    scopeRequired: true,
    scopeAtToken: true,
    providers: STANDARD,
    jwtAccessTokens: true,
  },
  google: {
    resource: false,
    authorize: { access_type: 'offline' },
    scopeRequired: false,
    providers: STANDARD,
    jwtAccessTokens: false,
  },
  okta: { resource: false, authorize: {}, scopeRequired: false, providers: STANDARD, jwtAccessTokens: true },
  auth0: {
    resource: false,
    resourceAs: 'audience',
    authorize: {},
    scopeRequired: false,
    providers: STANDARD,
    jwtAccessTokens: true,
  },
  keycloak: {
    resource: false,
    authorize: {},
    scopeRequired: false,
    providers: STANDARD,
    jwtAccessTokens: true,
  },
  cognito: {
    resource: false,
    authorize: {},
    scopeRequired: false,
    providers: ['cognito'],
    jwtAccessTokens: true,
  },
  asgardeo: {
    resource: true,
    authorize: {},
    scopeRequired: false,
    providers: ['asgardeo'],
    jwtAccessTokens: true,
  },
};

export const DIALECT_NAMES = Object.keys(DIALECTS) as DialectName[];

/** The dialect a provider speaks when `discovery.upstream_client.dialect` is not set. */
export function defaultDialect(provider: string): DialectName {
  return provider === 'cognito' || provider === 'asgardeo' ? provider : 'generic';
}

/** What the parameters sent to the IdP are made of, besides the dialect. */
export interface DialectSettings {
  readonly scope?: string;
  readonly audience?: string;
}

/** The /authorize parameters for the IdP, from the client's (a copy; pure). */
export function dialectAuthorizeParams(
  d: Dialect,
  s: DialectSettings,
  params: URLSearchParams,
): URLSearchParams {
  const out = new URLSearchParams(params);
  const resource = out.get('resource');
  if (!d.resource) out.delete('resource');
  const audience = s.audience ?? (d.resourceAs === 'audience' ? (resource ?? undefined) : undefined);
  if (audience !== undefined) out.set('audience', audience);
  if (s.scope !== undefined) out.set('scope', s.scope);
  for (const [k, v] of Object.entries(d.authorize)) out.set(k, v);
  return out;
}

/** The /token body for the IdP, from the client's (a copy; pure). */
export function dialectTokenParams(d: Dialect, s: DialectSettings, params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(params);
  if (!d.resource) out.delete('resource');
  if (s.scope !== undefined && (out.has('scope') || d.scopeAtToken)) out.set('scope', s.scope);
  return out;
}
