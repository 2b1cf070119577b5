/**
 * One typed configuration schema for both functions, the CDK app and the local runner.
 *
 * The input is the YAML/JSON shape users write (snake_case keys, compatible with the original
 * Go proxy's `config.yaml` where the keys apply); the output is a frozen, fully defaulted
 * `Config`. `parseConfig` is the only place that validates: it runs at synth (bin/app.ts),
 * at cold start (functions/*\/index.ts) and in the local runner, and every error names the key.
 *
 * One module per YAML section, each with its key table (keys.ts): the defaults the parser uses
 * and what test/unit/config-docs.test.ts checks docs/configuration.md against.
 */
import { isObject } from '../encoding.ts';
import type { Logger } from '../log.ts';
import { parseAcknowledge } from './acknowledge.ts';
import { parseProviderName, parseProxyOrigin, parseUpstream } from './base.ts';
import { parseCors } from './cors.ts';
import { parseDiscovery } from './discovery.ts';
import { ConfigError } from './errors.ts';
import { parseIdentityHeaderPrefix } from './identity-headers.ts';
import { rejectInlineSecrets } from './inline-secrets.ts';
import { keyTables } from './keys.ts';
import { checkKnownKeys, type KnownKeys, shapeOfTables } from './known-keys.ts';
import { parseLogging } from './logging.ts';
import { parseMcpPolicy } from './mcp-policy.ts';
import {
  keysWithoutEffect,
  liftOriginalKeys,
  originalJwksUri,
  parseBearerMethods,
  parseTransport,
  renameError,
} from './original.ts';
import { checkPaths, parsePaths } from './paths.ts';
import { parseProtectedResourceMetadata } from './protected-resource-metadata.ts';
import { parseProvider } from './providers/index.ts';
import { needsProxySecret, parseProxySecret } from './proxy-secret.ts';
import { ConfigReader } from './reader.ts';
import { parseStream } from './stream.ts';
import { parseToken } from './token.ts';
import type { Config } from './types.ts';

export { checkAcknowledged, type RiskySetting, riskWarning, riskySettings } from './acknowledge.ts';
export { PROVIDERS, type ProviderName } from './base.ts';
export { ConfigError } from './errors.ts';
export { looksSecret, rejectInlineSecrets } from './inline-secrets.ts';
export { checkKnownKeys, type KnownKeys, section } from './known-keys.ts';
export type { McpPolicyConfig, ScopeHierarchy, ScopeRules } from './mcp-policy.ts';
export type { StdioServerConfig, TransportConfig } from './original.ts';
export type { AsgardeoConfig } from './providers/asgardeo.ts';
export { asgardeoTenantBase } from './providers/asgardeo.ts';
export type { CognitoConfig } from './providers/cognito.ts';
export { cognitoIssuer, cognitoJwksUri } from './providers/cognito.ts';
export type { ParamOverride, PathRule } from './providers/oidc.ts';
export type { UpstreamIdentityConfig } from './proxy-secret.ts';
export { ConfigReader, type SecretRef } from './reader.ts';
export { DEFAULT_ALGORITHMS } from './token.ts';
export type { Config } from './types.ts';
export { checkSecureUrl, checkUrl, isSecureUrl } from './urls.ts';

/** The keys of every table (built once all section modules have registered theirs). */
let shape: KnownKeys | undefined;

/** What the caller of `parseConfig` can do. */
export interface ParseOptions {
  /** It can spawn a stdio MCP server (`transport_mode: stdio`): the local runner only. */
  readonly spawnStdio?: boolean;
}

/**
 * Validate and default a raw config object (parsed YAML or JSON). Throws `ConfigError`, first
 * for a key no table knows (`deploy` is the CDK app's, checked there).
 */
export function parseConfig(input: unknown, opts: ParseOptions = {}): Config {
  if (!isObject(input)) throw new ConfigError('(root)', 'must be a mapping');
  shape ??= shapeOfTables(keyTables(), ['deploy']);
  checkKnownKeys(input, shape);
  const { raw, renamed } = liftOriginalKeys(input);
  try {
    return parseLifted(new ConfigReader(raw, ''), new ConfigReader(input, ''), opts);
  } catch (e) {
    throw renameError(e, renamed);
  }
}

/** `parseConfig` once the original's keys are written as ours (`input`: as the config has them). */
function parseLifted(r: ConfigReader, input: ConfigReader, opts: ParseOptions): Config {
  const providerName = parseProviderName(r);
  const upstream = parseUpstream(r);
  const { blocks, token: tokenDefaults } = parseProvider(r, providerName);
  const parsedToken = parseToken(r, tokenDefaults);
  const stream = parseStream(r);
  const logging = parseLogging(r);
  const identityHeaderPrefix = parseIdentityHeaderPrefix(r);
  const proxyKeys = parseProxySecret(r, upstream.baseUrl, identityHeaderPrefix);
  const cors = parseCors(r);
  const { proxyBaseUrl, listenPort } = parseProxyOrigin(r);
  const paths = parsePaths(r);
  const { prm: protectedResourceMetadata, scopeMap } = parseProtectedResourceMetadata(r);
  const mcpPolicy = parseMcpPolicy(r, scopeMap);
  // The original's `protected_resource_metadata.audience` is the audience its tokens carry.
  const prmAudience = protectedResourceMetadata.audience;
  const withAudience =
    parsedToken.audience.length || !prmAudience ? parsedToken : { ...parsedToken, audience: [prmAudience] };
  // Its `protected_resource_metadata.jwks_uri` is where the keys of its tokens are.
  const jwksUri = originalJwksUri(r);
  const token = jwksUri ? { ...withAudience, jwksUri } : withAudience;
  const notes = parseBearerMethods(r);
  const transport = parseTransport(r, opts.spawnStdio === true);
  const discovery = parseDiscovery(r, blocks.provider);
  const acknowledged = parseAcknowledge(r);
  checkPaths(paths);
  return deepFreeze({
    provider: blocks.provider,
    upstream,
    proxyBaseUrl,
    listenPort,
    paths,
    cors,
    protectedResourceMetadata,
    token,
    mcpPolicy,
    identityHeaderPrefix,
    ...proxyKeys,
    stream,
    logging,
    discovery,
    oidc: blocks.oidc,
    asgardeo: blocks.asgardeo,
    cognito: blocks.cognito,
    embedded: blocks.embedded,
    acknowledged,
    transport,
    ignoredKeys: keysWithoutEffect(input, transport),
    notes,
  });
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
  const config = parseConfig(obj);
  // Deployed: no secret in clear text (as at synth); the SSM names are resolved by the discovery function.
  rejectInlineSecrets(obj as Record<string, unknown>);
  // On Lambda every instance must derive the same keys (a random one per instance would not be).
  if (env.AWS_LAMBDA_FUNCTION_NAME !== undefined && needsProxySecret(config) && !config.proxySecret) {
    throw new ConfigError(
      'proxy_secret_ssm_parameter',
      'is required in a deployed config with session_binding or upstream_identity enabled (cdk deploy generates one)',
    );
  }
  return config;
}

/**
 * Cold start: one info line naming the original's keys the config has without effect here, and
 * one per note on how one of its keys is honoured.
 */
export function logIgnoredKeys(config: Config, log: Logger): void {
  if (config.ignoredKeys.length) {
    log.info('config keys of the original Go proxy have no effect here', { keys: config.ignoredKeys });
  }
  for (const note of config.notes) log.info(note);
}
