/**
 * The config as the deployed functions receive it, and the rules it must meet beyond
 * `parseConfig` (which the functions run at cold start) to be deployed. Used by the construct
 * (lib/mcp-auth-proxy.ts, `validateProps`) and by the YAML layer (lib/deploy-options.ts,
 * `validateDeployOptions`). Errors are `ConfigError`s naming the key of the config.
 */
import { Annotations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { bindingScopes } from '../functions/proxy/cognito-scopes.ts';
import {
  type Config,
  ConfigError,
  checkAcknowledged,
  parseConfig,
  rejectInlineSecrets,
  riskWarning,
  riskySettings,
} from '../functions/shared/config/index.ts';
import { isObject } from '../functions/shared/encoding.ts';
import type { RawConfig } from './config-source.ts';

/** Keys naming an SSM SecureString parameter (see `ConfigReader.secret` in functions/shared/config/reader.ts). */
const SSM_KEY = /_ssm_parameter$/;
/** SSM parameter names (same rule as functions/shared/config/reader.ts): no wildcards. */
const SSM_NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
/** Lambda's limit for all environment variables of a function, in bytes. */
const ENV_LIMIT = 4096;
/** Lambda stops a function after this many seconds. */
export const LAMBDA_MAX_SECONDS = 900;
/** Seconds the proxy needs between the end of its stream bound and the Lambda timeout. */
export const STREAM_MARGIN_SECONDS = 5;

/** A config resolved for deployment (see `resolveDeployedConfig`). */
export interface DeployedConfig {
  /** Parsed as the functions will parse it (placeholders for the ids of a pool still to create). */
  readonly config: Config;
  /**
   * What the functions receive as `MCP_AUTH_PROXY_CONFIG`: the raw config without `deploy`, with
   * the CloudFront origin as its base URLs. The ids of a created pool are added by the construct.
   */
  readonly functionRaw: RawConfig;
  /** `functionRaw` with the placeholders `config` was parsed from. */
  readonly validationRaw: RawConfig;
  /** Provider `cognito` without `cognito.user_pool_id`: the construct creates the pool. */
  readonly createPool: boolean;
  /** Acknowledged risky settings (`acknowledge`), each a CDK warning: its id and message. */
  readonly warnings: readonly { readonly id: string; readonly message: string }[];
}

/** Every `*_ssm_parameter` value of the raw config, with its key path. */
export function ssmParameterRefs(raw: RawConfig, prefix = ''): { key: string; name: string }[] {
  const out: { key: string; name: string }[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) out.push(...ssmParameterRefs(v, key));
    else if (Array.isArray(v)) {
      // `addBodyParams` entries: `value_ssm_parameter`.
      v.forEach((item, i) => {
        if (isObject(item)) out.push(...ssmParameterRefs(item, `${key}[${i}]`));
      });
    } else if (SSM_KEY.test(k) && v !== undefined && v !== null && v !== '') {
      // The name becomes an IAM resource: never a wildcard or anything outside SSM's name syntax.
      if (typeof v !== 'string' || !SSM_NAME.test(v)) {
        throw new ConfigError(key, `is not a valid SSM parameter name (got ${JSON.stringify(v)})`);
      }
      out.push({ key, name: v });
    }
  }
  return out;
}

/** Sets `proxy_base_url` and `discovery.base_url` to the CloudFront origin (each unset or equal). */
function setPublicOrigin(functionRaw: RawConfig, validationRaw: RawConfig, publicOrigin: string): void {
  for (const [key, get, set] of [
    [
      'proxy_base_url',
      (r: RawConfig) => r.proxy_base_url,
      (r: RawConfig, v: string) => (r.proxy_base_url = v),
    ],
    [
      'discovery.base_url',
      (r: RawConfig) => (isObject(r.discovery) ? r.discovery.base_url : undefined),
      (r: RawConfig, v: string) =>
        (r.discovery = { ...(isObject(r.discovery) ? r.discovery : {}), base_url: v }),
    ],
  ] as const) {
    const current = get(functionRaw);
    if (
      current !== undefined &&
      current !== null &&
      current !== '' &&
      String(current).replace(/\/+$/, '') !== publicOrigin
    ) {
      throw new ConfigError(
        key,
        `must be "${publicOrigin}" (the CloudFront domain) or unset (got "${String(current)}")`,
      );
    }
    set(functionRaw, publicOrigin);
    set(validationRaw, publicOrigin);
  }
}

/**
 * Validates `raw` exactly as the functions will (same messages), with placeholders for the values
 * the construct fills in, then the deployment-only rules of the config alone: a deployable
 * provider, no inline secrets, risky settings acknowledged, binding Cognito scopes.
 * @param publicOrigin `https://<CloudFront domain>` when a distribution fronts the functions
 */
export function resolveDeployedConfig(raw: RawConfig, publicOrigin?: string): DeployedConfig {
  const { deploy: _deploy, ...functionRaw } = structuredClone(raw);
  const createPool =
    functionRaw.provider === 'cognito' &&
    !(isObject(functionRaw.cognito) && functionRaw.cognito.user_pool_id);
  const validationRaw = structuredClone(functionRaw);
  if (createPool) {
    validationRaw.cognito = {
      ...(isObject(functionRaw.cognito) ? functionRaw.cognito : {}),
      user_pool_id: 'us-east-1_Placeholder',
      domain_url: 'https://placeholder.auth.us-east-1.amazoncognito.com',
    };
  }
  if (publicOrigin) setPublicOrigin(functionRaw, validationRaw, publicOrigin);
  const config = parseConfig(validationRaw);
  // The original's `stdio` block has no effect deployed (stdio mode is refused just above) and its
  // `env` may hold the server's own secrets: it stays out of the functions' environment.
  delete functionRaw.stdio;
  delete validationRaw.stdio;
  if (config.provider === 'embedded') {
    throw new ConfigError(
      'provider',
      'must be oidc, asgardeo or cognito to deploy ("embedded" is the local demo IdP of `npm start`)',
    );
  }
  rejectInlineSecrets(functionRaw);
  checkAcknowledged(config);
  if (config.provider === 'cognito') {
    // Same rule as the proxy's cold start (functions/proxy/cognito-scopes.ts), at synth. A pool
    // created without `cognito.scopes` gets its resource server's scopes (the construct adds them).
    const poolScopesDefault = createPool && !(isObject(functionRaw.cognito) && functionRaw.cognito.scopes);
    bindingScopes(
      poolScopesDefault
        ? { token: config.token, cognito: { ...config.cognito!, scopes: ['resource/scope'] } }
        : config,
    );
  }
  const warnings = riskySettings(config).map((r) => ({ id: r.id, message: riskWarning(r) }));
  return { config, functionRaw, validationRaw, createPool, warnings };
}

/** The stream bound must leave the proxy time to end a stream before Lambda stops it. */
export function checkStreamBound(config: Config): void {
  const maxStream = config.stream.maxDurationSeconds;
  if (maxStream + STREAM_MARGIN_SECONDS > LAMBDA_MAX_SECONDS) {
    throw new ConfigError(
      'stream.max_duration_seconds',
      `must be at most ${LAMBDA_MAX_SECONDS - STREAM_MARGIN_SECONDS} to deploy: Lambda stops a function after ${LAMBDA_MAX_SECONDS} seconds (got ${maxStream})`,
    );
  }
}

/** The proxy timeout when none is given: the stream bound + 30 s, at most Lambda's limit. */
export function defaultProxyTimeoutSeconds(config: Config): number {
  return Math.min(LAMBDA_MAX_SECONDS, config.stream.maxDurationSeconds + 30);
}

/** The config fits a Lambda environment and names only valid SSM parameters. */
export function checkDeployedConfigFits(c: DeployedConfig): void {
  const envBytes = Buffer.byteLength(JSON.stringify(c.validationRaw)) + 512;
  if (envBytes > ENV_LIMIT) {
    throw new ConfigError(
      '(root)',
      `is too large for a Lambda environment (about ${envBytes} of ${ENV_LIMIT} bytes as JSON): remove unused keys or shorten path rules`,
    );
  }
  ssmParameterRefs(c.functionRaw);
}

/**
 * What synth reports about the config on `scope`: a warning per acknowledged risky setting (id
 * `mcp-auth-proxy:<acknowledge entry>`), an info line naming the original's keys without effect,
 * one per note on how one of its keys is honoured.
 */
export function annotateDeployedConfig(scope: IConstruct, c: DeployedConfig): void {
  for (const w of c.warnings) Annotations.of(scope).addWarningV2(`mcp-auth-proxy:${w.id}`, w.message);
  const ignored = c.config.ignoredKeys;
  if (ignored.length) {
    Annotations.of(scope).addInfo(
      `config keys of the original Go proxy without effect here: ${ignored.map((k) => `\`${k}\``).join(', ')} (docs/migration.md)`,
    );
  }
  for (const note of c.config.notes) Annotations.of(scope).addInfo(note);
}
