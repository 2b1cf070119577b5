/**
 * Amazon Cognito user pool as the IdP behind the facade.
 *
 * Cognito has no RFC 7591 registration endpoint, so registration is emulated: every accepted
 * registration becomes one `CreateUserPoolClient` call creating a public app client (no secret,
 * authorization-code flow only, PKCE enforced by the facade and by Cognito for public clients, the
 * resource server's scopes, the exact callback URLs). Cognito matches callback URLs exactly,
 * including the port, so RFC 8252 §7.3 "any loopback port" does not hold here: clients must
 * register the exact loopback URL they will use.
 *
 * Authorization-server metadata is built from the pool and its hosted-UI domain (pure, no call).
 * Cognito does not implement RFC 8707 resource indicators, so `resource` is dropped from
 * authorize and token requests rather than sent to an endpoint that ignores it: the
 * binding of tokens to this MCP server comes from the resource server's custom scopes instead
 * (Cognito access tokens carry no `aud`), which the proxy's Cognito verifier requires.
 */
import {
  CognitoIdentityProviderClient,
  type CognitoIdentityProviderClientConfig,
  CreateUserPoolClientCommand,
  type CreateUserPoolClientCommandInput,
  type CreateUserPoolClientCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import { type Config, cognitoIssuer, cognitoJwksUri } from '../../shared/config/index.ts';
import { badRequest, type DependencyError, type OAuthError, toOAuthError } from '../../shared/errors.ts';
import { silentLogger } from '../../shared/log.ts';
import {
  type ClientRegistration,
  type IdentityProvider,
  type IdpMetadata,
  type ProviderDeps,
  type RegisteredClient,
  registrationFailed,
  registrationUnavailable,
} from './types.ts';

type CognitoConfig = NonNullable<Config['cognito']>;

export interface CognitoDeps extends ProviderDeps {
  /** A ready client (tests, custom credentials); else one is built from `config.cognito`. */
  readonly client?: CognitoIdentityProviderClient;
  /** Extra client options (e.g. static credentials for a local endpoint). */
  readonly clientConfig?: CognitoIdentityProviderClientConfig;
}

// ---------------------------------------------------------------------------------------------
// Pure policy

/** Scopes every app client gets; Cognito needs at least one when OAuth flows are enabled. */
export function cognitoScopes(c: CognitoConfig): string[] {
  return c.scopes.length ? [...c.scopes] : ['openid'];
}

/** RFC 8414 metadata of the pool's hosted UI (Cognito's own OIDC endpoints). */
export function cognitoMetadata(c: CognitoConfig): IdpMetadata {
  const domain = c.domainUrl.replace(/\/+$/, '');
  const issuer = cognitoIssuer(c);
  return {
    issuer,
    authorization_endpoint: `${domain}/oauth2/authorize`,
    token_endpoint: `${domain}/oauth2/token`,
    revocation_endpoint: `${domain}/oauth2/revoke`,
    userinfo_endpoint: `${domain}/oauth2/userInfo`,
    jwks_uri: cognitoJwksUri(issuer),
    scopes_supported: cognitoScopes(c),
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
  };
}

/**
 * Every app client the facade creates is named with this prefix: the stale-client clean-up
 * (docs/deploy.md, "Stale app clients") only ever considers clients so named.
 */
export const FACADE_CLIENT_PREFIX = 'mcp-';

/** Cognito's ClientName pattern is `[\w\s+=,.@-]+`, at most 128 characters. */
export function cognitoClientName(requested: string | undefined): string {
  const cleaned = (requested ?? '').replace(/[^\w\s+=,.@-]/g, '-').trim();
  return `${FACADE_CLIENT_PREFIX}${cleaned || 'client'}`.slice(0, 128);
}

/** Seconds a rotated-out refresh token still works (a client's retry after a lost response). */
export const REFRESH_RETRY_GRACE_SECONDS = 10;

/** The `CreateUserPoolClient` input for one registration (public client, code flow, exact URLs). */
export function createClientInput(
  c: CognitoConfig,
  reg: ClientRegistration,
): CreateUserPoolClientCommandInput {
  return {
    UserPoolId: c.userPoolId,
    ClientName: cognitoClientName(reg.client_name),
    GenerateSecret: false,
    AllowedOAuthFlowsUserPoolClient: true,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: cognitoScopes(c),
    CallbackURLs: [...reg.redirect_uris],
    SupportedIdentityProviders: ['COGNITO'],
    ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    PreventUserExistenceErrors: 'ENABLED',
    EnableTokenRevocation: true,
    // Explicit, not Cognito's defaults (a 30-day refresh token).
    AccessTokenValidity: c.accessTokenMinutes,
    IdTokenValidity: c.accessTokenMinutes,
    RefreshTokenValidity: c.refreshTokenDays,
    TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
    // OAuth 2.1 / MCP 2026-07-28: public clients' refresh tokens rotate on every use.
    RefreshTokenRotation: c.refreshTokenRotation
      ? { Feature: 'ENABLED', RetryGracePeriodSeconds: REFRESH_RETRY_GRACE_SECONDS }
      : { Feature: 'DISABLED' },
  };
}

/** Drop RFC 8707 `resource` (Cognito has no resource indicators); everything else passes. */
export function withoutResource(params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(params);
  out.delete('resource');
  return out;
}

// ---------------------------------------------------------------------------------------------
// I/O edge

function registrationError(e: unknown): OAuthError | DependencyError {
  const err = e as { name?: string; message?: string };
  const name = err.name ?? 'Error';
  const reason = `CreateUserPoolClient failed: ${name}: ${err.message ?? ''}`;
  if (name === 'InvalidParameterException') {
    // Cognito refused a value (typically a callback URL it does not accept, e.g. plain http on a
    // host other than localhost). RFC 7591 §3.2.2.
    return badRequest(
      'invalid_client_metadata',
      'the identity provider rejected the client metadata',
      reason,
    );
  }
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (
    name === 'LimitExceededException' ||
    name === 'TooManyRequestsException' ||
    status === undefined ||
    status >= 500
  ) {
    // Quota of app clients per pool, throttling, Cognito failing, or the API not reachable.
    return registrationUnavailable(reason);
  }
  // ResourceNotFound (wrong pool), NotAuthorized (missing IAM permission), ...: our misconfiguration.
  return registrationFailed(reason);
}

/** One closure (hence its length): the lazily built SDK client is shared by every registration. */
export function createCognitoProvider(config: Config, deps: CognitoDeps): IdentityProvider {
  const c = config.cognito;
  if (!c) throw new Error('createCognitoProvider: config.cognito is missing');
  const log = deps.log ?? silentLogger;
  const metadata = cognitoMetadata(c);
  let client = deps.client;
  const api = () => {
    client ??= new CognitoIdentityProviderClient({
      region: c.region,
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
      ...deps.clientConfig,
    });
    return client;
  };

  return {
    name: 'cognito',
    metadata: async () => metadata,

    async register(reg: ClientRegistration): Promise<RegisteredClient> {
      const input = createClientInput(c, reg);
      let created: CreateUserPoolClientCommandOutput;
      try {
        created = await api().send(new CreateUserPoolClientCommand(input));
      } catch (e) {
        const err = registrationError(e);
        log.warn('cognito client registration failed', {
          reason: err.reason,
          status: toOAuthError(err).status,
        });
        throw err;
      }
      const upc = created.UserPoolClient;
      if (!upc?.ClientId) {
        throw registrationFailed('CreateUserPoolClient returned no ClientId');
      }
      log.info('cognito client registered', {
        clientId: upc.ClientId,
        redirectUris: input.CallbackURLs?.length,
      });
      const issuedAt =
        upc.CreationDate instanceof Date
          ? Math.floor(upc.CreationDate.getTime() / 1000)
          : Math.floor(Date.now() / 1000);
      return {
        client_id: upc.ClientId,
        client_id_issued_at: issuedAt,
        metadata: {
          // RFC 7591 §3.2.1: the server may replace requested values; Cognito clients made here are
          // always public (no secret), code flow with refresh, and get the resource server's scopes.
          redirect_uris: upc.CallbackURLs ?? input.CallbackURLs!,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          client_name: reg.client_name ?? upc.ClientName,
          scope: (upc.AllowedOAuthScopes ?? input.AllowedOAuthScopes!).join(' '),
          ...(reg.application_type ? { application_type: reg.application_type } : {}),
        },
      };
    },

    authorizeParams: withoutResource,
    tokenParams: withoutResource,
  };
}
