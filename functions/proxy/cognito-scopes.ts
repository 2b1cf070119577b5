/**
 * Which scopes bind a Cognito access token to this MCP server (pure policy).
 *
 * Cognito access tokens carry no `aud` claim, so the RFC 8707 audience check cannot be made; the
 * only claim that says which resource a token is for is a resource-server scope (`<identifier>/
 * <name>`, e.g. `mcp/tools`). The OpenID Connect and Cognito built-in scopes below can be granted
 * to any app client of the pool, so a token carrying only them may have been issued to an
 * unrelated application: they never count as binding, whatever the config lists.
 */
import { type Config, ConfigError } from '../shared/config/index.ts';

/** Scopes any app client of a pool can hold: they say nothing about the resource. */
export const GENERIC_COGNITO_SCOPES: ReadonlySet<string> = new Set([
  'openid',
  'profile',
  'email',
  'phone',
  'aws.cognito.signin.user.admin',
  'offline_access',
]);

const specific = (scopes: readonly string[]) => scopes.filter((s) => !GENERIC_COGNITO_SCOPES.has(s));

/**
 * The resource-server scopes of which a token must carry at least one: those of
 * `token.required_scopes`, else (when it lists none) those of `cognito.scopes`.
 * Throws `ConfigError` when neither lists one.
 */
export function bindingScopes(config: Pick<Config, 'token' | 'cognito'>): string[] {
  const fromRequired = specific(config.token.requiredScopes);
  if (fromRequired.length) return fromRequired;
  const fromCognito = specific(config.cognito?.scopes ?? []);
  if (fromCognito.length) return fromCognito;
  throw new ConfigError(
    'cognito.scopes',
    `(or \`token.required_scopes\`) must list a resource-server scope such as "mcp/tools" for provider "cognito": Cognito access tokens have no aud, and ${[...GENERIC_COGNITO_SCOPES].join(', ')} can be held by any app client of the pool`,
  );
}
