/**
 * `McpAuthProxy`: the reusable L3 construct. Two Lambda functions behind Function URLs:
 * - the streaming proxy (OAuth 2.1 resource server, RFC 9728 metadata) — RESPONSE_STREAM;
 * - the discovery/registration function (authorization-server facade) — BUFFERED.
 * Optionally attached to a VPC, fronted by one CloudFront origin, and with a Cognito user pool.
 * Safe by default (each with a switch): reserved concurrency, alarms, X-Ray, KMS-encrypted log
 * groups, CloudFront access logs, least-privilege SSM and egress (lib/observability.ts).
 *
 * `validateProps` checks the props first and names the prop at fault (`McpAuthProxyPropsError`).
 * The functions receive the raw config as JSON (`MCP_AUTH_PROXY_CONFIG`) and validate it with the
 * same `parseConfig` that runs here at synth, so a bad config fails `cdk synth` with the message
 * the functions would log (a `ConfigError` naming the config key; lib/deployed-config.ts).
 * Secrets never enter the environment: only SSM parameter names do. The construct emits no
 * outputs: it exposes URLs and resources as properties (the stack turns them into outputs).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CloudFrontTarget } from 'aws-cdk-lib/aws-route53-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { CONFIG_ENV, type Config, ConfigError } from '../functions/shared/config/index.ts';
import { isObject } from '../functions/shared/encoding.ts';
import type { RawConfig } from './config-source.ts';
import {
  annotateDeployedConfig,
  checkDeployedConfigFits,
  checkStreamBound,
  type DeployedConfig,
  defaultProxyTimeoutSeconds,
  LAMBDA_MAX_SECONDS,
  resolveDeployedConfig,
  STREAM_MARGIN_SECONDS,
  ssmParameterRefs,
} from './deployed-config.ts';
import { acknowledge, inPacks } from './nag.ts';
import {
  addAccessLogBucket,
  addAlarms,
  addBudget,
  addLogKey,
  DEFAULT_ACCESS_LOG_RETENTION_DAYS,
  DEFAULT_RESERVED_CONCURRENCY,
  type McpAuthProxyAlarmOptions,
  type McpAuthProxyBudgetOptions,
} from './observability.ts';
import { OriginSecret, paramsAndSecretsExtension } from './origin-secret.ts';
import {
  GeneratedProxySecret,
  grantProxySecretParameter,
  needsProxySecret,
  PROXY_SECRET_KEY,
  usesProxySecret,
} from './proxy-secret.ts';
import { GeneratedSigningKey, needsSigningKey } from './signing-key.ts';
import { createRateLimitWebAcl, DEFAULT_RATE_LIMIT, MAX_RATE_LIMIT, MIN_RATE_LIMIT } from './web-acl.ts';

export type { McpAuthProxyAlarmOptions, McpAuthProxyBudgetOptions } from './observability.ts';

/** Repository root (lib/..): entries, lock file and tsconfig are resolved from here. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * NO_URL_CORS: the functions apply `cors.*` themselves, per route (public metadata readable from
 * any origin, MCP endpoints only from allowed origins; functions/shared/cors.ts). A Function URL
 * CORS configuration would answer preflights without that distinction and, on other responses,
 * Lambda sends its headers *and* the function's: a duplicated `Access-Control-Allow-Origin` that
 * browsers reject (aws-powertools/powertools-lambda-python#4163). So the URLs carry no CORS block.
 */

/** ESM output still contains CommonJS dependencies that call `require` (undici, ...). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** Default CloudFront origin read timeout. */
const DEFAULT_ORIGIN_READ_TIMEOUT = Duration.seconds(30);

export interface CognitoUserPoolOptions {
  /**
   * Prefix of the hosted UI domain (`<prefix>.auth.<region>.amazoncognito.com`); unique in the
   * region. Required when a pool is created.
   * @default none: construction fails with a `McpAuthProxyPropsError` naming `cognitoUserPool.domainPrefix`
   */
  readonly domainPrefix?: string;
  /**
   * Identifier of the resource server; scopes become `<identifier>/<scope>`.
   * @default 'mcp'
   */
  readonly resourceServerIdentifier?: string;
  /**
   * Scopes of the resource server.
   * @default ['tools']
   */
  readonly scopes?: readonly string[];
  /**
   * MFA of the pool's users (TOTP only, never SMS).
   * @default cognito.Mfa.REQUIRED
   */
  readonly mfa?: cognito.Mfa;
  /**
   * Feature plan. Threat protection needs PLUS (billed per monthly active user).
   * @default cognito.FeaturePlan.ESSENTIALS
   */
  readonly featurePlan?: cognito.FeaturePlan;
  /**
   * Threat protection with the PLUS plan (ignored on other plans).
   * @default cognito.StandardThreatProtectionMode.FULL_FUNCTION (enforced)
   */
  readonly threatProtection?: cognito.StandardThreatProtectionMode;
  /**
   * Deletion protection: the pool cannot be deleted until it is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

export interface McpAuthProxyCloudFrontOptions {
  /** Public host name, e.g. `mcp.example.com`. It becomes `proxy_base_url` and `discovery.base_url`. */
  readonly domainName: string;
  /** ACM certificate in us-east-1 covering `domainName`. */
  readonly certificate: ICertificate;
  /**
   * Hosted zone in which to create alias records for `domainName`.
   * @default no DNS records (point a CNAME at the distribution yourself)
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * CloudFront origin read timeout: the longest gap between two bytes of a response. SSE
   * heartbeats (`stream.heartbeat_seconds`) must be shorter. More than 60 s needs a quota increase.
   * @default Duration.seconds(30)
   */
  readonly originReadTimeout?: Duration;
  /**
   * ARN of a global (us-east-1) WAF web ACL to attach instead of the one created.
   * @default a web ACL with a rate-based rule on /register and /token is created (`rateLimit`)
   */
  readonly webAclArn?: string;
  /**
   * Requests per viewer address per five minutes to `/register` and `/token` in the web ACL
   * created when `webAclArn` is not given (10 to 2,000,000,000); 0 creates no web ACL. A web ACL
   * for CloudFront can only be created in a us-east-1 stack.
   * @default 100
   */
  readonly rateLimit?: number;
  /**
   * Version of the origin secret CloudFront sends (rotation: docs/deploy.md §6).
   * @default the secret's current version when the distribution was last updated
   */
  readonly originSecretVersionId?: string;
  /**
   * CloudFront standard access logs, to an S3 bucket created for them (SSE-S3, no public access,
   * TLS only, expired after `accessLogRetentionDays`).
   * @default true
   */
  readonly accessLogs?: boolean;
  /**
   * Days the access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
}

export interface McpAuthProxyProps {
  /**
   * The raw configuration (parsed `config.yaml`, snake_case keys), validated with `parseConfig`.
   * A `deploy` key, if present, is ignored here and not passed to the functions.
   */
  readonly config: RawConfig;
  /**
   * Node.js runtime of both functions.
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Memory of the proxy function (MB, 128 to 10240).
   * @default 512
   */
  readonly proxyMemorySize?: number;
  /**
   * Timeout of the proxy function (at most 900 whole seconds); must exceed the config's
   * `stream.max_duration_seconds` by at least 5 s.
   * @default `stream.max_duration_seconds` + 30 s, at most 15 minutes
   */
  readonly proxyTimeout?: Duration;
  /**
   * Reserved concurrency of the proxy function: caps its concurrent executions (each open
   * stream holds one), hence its cost per hour, and reserves them out of the account's regional
   * pool (which must keep 100 unreserved). `false`: no reservation (shares the account's pool).
   * @default 50 (see docs/deploy.md, "Concurrency")
   */
  readonly proxyReservedConcurrency?: number | false;
  /**
   * Reserved concurrency of the discovery function (caps /register and the facade); `false`: none.
   * @default 10
   */
  readonly discoveryReservedConcurrency?: number | false;
  /**
   * X-Ray active tracing on both functions.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Generate the facade's signing key in Secrets Manager when the config names none
   * (`discovery.signing_key_ssm_parameter`): the relay — RFC 9207 `iss` in every authorization
   * response, the facade's `/callback` as the only redirect URI at the IdP — is then on without a
   * manual step. `false` leaves the relay off in that case.
   * @default true
   */
  readonly generateSigningKey?: boolean;
  /**
   * Generate the proxy secret (session-id binding, identity JWT key: lib/proxy-secret.ts) in
   * Secrets Manager when the config names none (`proxy_secret_ssm_parameter`) and uses it.
   * `false` then makes synth refuse the config.
   * @default true
   */
  readonly generateProxySecret?: boolean;
  /**
   * KMS key of both log groups (its key policy must let `logs.<region>.amazonaws.com` use it);
   * `false`: CloudWatch Logs' own encryption, no customer key.
   * @default a key created for them (yearly rotation; CloudWatch Logs may use it for this stack's log groups only)
   */
  readonly logEncryptionKey?: IKey | false;
  /**
   * CloudWatch alarms on concurrency (near the reservation), errors and throttles of both
   * functions, with an optional SNS target; `false`: no alarms.
   * @default alarms without a notification target
   */
  readonly alarms?: McpAuthProxyAlarmOptions | false;
  /**
   * An AWS Budgets monthly cost budget (account-wide) with e-mail notifications.
   * @default no budget
   */
  readonly budget?: McpAuthProxyBudgetOptions;
  /**
   * TCP ports the proxy's security group may reach (any IPv4 address). Needs `vpc`.
   * @default the upstream `base_url`'s port and 443 (JWKS, IdP)
   */
  readonly proxyEgressPorts?: readonly number[];
  /**
   * TCP ports the discovery function's security group may reach. Needs `discoveryInVpc`.
   * @default [443] (IdP, SSM)
   */
  readonly discoveryEgressPorts?: readonly number[];
  /**
   * Memory of the discovery function (MB, 128 to 10240).
   * @default 256
   */
  readonly discoveryMemorySize?: number;
  /**
   * Timeout of the discovery function (1 to 900 whole seconds).
   * @default Duration.seconds(15)
   */
  readonly discoveryTimeout?: Duration;
  /**
   * Retention of both functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer managed KMS key encrypting the SecureString parameters; the discovery function
   * gets `kms:Decrypt` on it.
   * @default the AWS managed key `aws/ssm` (no key policy statement needed)
   */
  readonly secretsKey?: IKey;
  /**
   * VPC for the proxy (for upstream MCP servers reachable only from it).
   * @default no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the VPC-attached functions. They need a route to the internet (NAT) for the
   * JWKS and IdP calls unless those are inside the VPC.
   * @default private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Attach the discovery function to the VPC as well (only when the IdP is reachable only from it).
   * @default false
   */
  readonly discoveryInVpc?: boolean;
  /**
   * Create an SSM interface endpoint reachable from the discovery function's security group.
   * Requires `discoveryInVpc`.
   * @default false
   */
  readonly ssmInterfaceEndpoint?: boolean;
  /**
   * Options of the Cognito user pool created when the provider is `cognito` and the config has
   * no `cognito.user_pool_id`.
   * @default no pool is created (an existing pool is configured)
   */
  readonly cognitoUserPool?: CognitoUserPoolOptions;
  /**
   * Put one CloudFront distribution (custom domain) in front of both functions.
   * @default the two Function URLs are used directly
   */
  readonly cloudFront?: McpAuthProxyCloudFrontOptions;
}

/** One invalid prop: `prop` is its path in the props (`cloudFront.originReadTimeout`). */
export interface PropProblem {
  readonly prop: string;
  readonly message: string;
}

/** Invalid `McpAuthProxy` props; the message lists every problem found, each naming its prop. */
export class McpAuthProxyPropsError extends Error {
  constructor(readonly problems: readonly PropProblem[]) {
    const lines = problems.map((p) => `\`${p.prop}\` ${p.message}`);
    super(
      lines.length === 1
        ? `invalid McpAuthProxy props: ${lines[0]}`
        : `invalid McpAuthProxy props:\n${lines.map((l) => `- ${l}`).join('\n')}`,
    );
    this.name = 'McpAuthProxyPropsError';
  }
}

/** The props after `validateProps`: the config resolved for deployment and derived values. */
export interface ValidatedProps {
  readonly deployed: DeployedConfig;
  readonly proxyTimeout: Duration;
  readonly originReadTimeout: Duration;
}

const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);

/** Checks of props that need no config. */
function checkPropsAlone(props: McpAuthProxyProps): PropProblem[] {
  const problems: PropProblem[] = [];
  const check = (ok: unknown, prop: string, message: string) => {
    if (!ok) problems.push({ prop, message });
  };
  for (const [prop, n] of [
    ['proxyMemorySize', props.proxyMemorySize],
    ['discoveryMemorySize', props.discoveryMemorySize],
  ] as const) {
    check(
      !known(n) || (Number.isInteger(n) && n >= 128 && n <= 10240),
      prop,
      `must be an integer between 128 and 10240 (MB) (got ${n})`,
    );
  }
  for (const [prop, d] of [
    ['proxyTimeout', props.proxyTimeout],
    ['discoveryTimeout', props.discoveryTimeout],
  ] as const) {
    const ms = d?.toMilliseconds();
    check(
      ms === undefined || (ms % 1000 === 0 && ms >= 1000 && ms <= LAMBDA_MAX_SECONDS * 1000),
      prop,
      `must be between 1 and ${LAMBDA_MAX_SECONDS} whole seconds (got ${d?.toHumanString()})`,
    );
  }
  const rate = props.cloudFront?.rateLimit;
  check(
    !known(rate) ||
      rate === 0 ||
      (Number.isInteger(rate) && rate >= MIN_RATE_LIMIT && rate <= MAX_RATE_LIMIT),
    'cloudFront.rateLimit',
    `must be 0 (no web ACL) or an integer between ${MIN_RATE_LIMIT} and ${MAX_RATE_LIMIT} (got ${rate})`,
  );
  check(!props.vpcSubnets || props.vpc, 'vpcSubnets', 'needs `vpc`');
  check(!props.discoveryInVpc || props.vpc, 'discoveryInVpc', 'needs `vpc`');
  check(
    !props.ssmInterfaceEndpoint || (props.vpc && props.discoveryInVpc),
    'ssmInterfaceEndpoint',
    'needs `vpc` and `discoveryInVpc: true`: it serves the discovery function in the VPC (and the proxy, for the proxy secret)',
  );
  return [...checkGuardProps(props), ...problems];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks of the cost and visibility props (reservations, egress, alarms, budget, access logs). */
function checkGuardProps(props: McpAuthProxyProps): PropProblem[] {
  const problems: PropProblem[] = [];
  const check = (ok: unknown, prop: string, message: string) => {
    if (!ok) problems.push({ prop, message });
  };
  for (const [prop, n] of [
    ['proxyReservedConcurrency', props.proxyReservedConcurrency],
    ['discoveryReservedConcurrency', props.discoveryReservedConcurrency],
  ] as const) {
    check(
      n === false || !known(n) || (Number.isInteger(n) && n >= 1),
      prop,
      `must be a positive integer, or false for no reservation (got ${n})`,
    );
  }
  for (const [prop, ports, needs] of [
    ['proxyEgressPorts', props.proxyEgressPorts, props.vpc],
    ['discoveryEgressPorts', props.discoveryEgressPorts, props.vpc && props.discoveryInVpc],
  ] as const) {
    if (ports === undefined) continue;
    check(
      needs,
      prop,
      prop === 'proxyEgressPorts' ? 'needs `vpc`' : 'needs `vpc` and `discoveryInVpc: true`',
    );
    check(
      ports.length > 0 && ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535),
      prop,
      `must list TCP ports between 1 and 65535 (got ${JSON.stringify(ports)})`,
    );
  }
  const alarms = props.alarms || undefined;
  const percent = alarms?.concurrencyThresholdPercent;
  check(
    percent === undefined || (Number.isInteger(percent) && percent >= 1 && percent <= 100),
    'alarms.concurrencyThresholdPercent',
    `must be an integer between 1 and 100 (got ${percent})`,
  );
  const email = alarms?.email;
  check(
    email === undefined || EMAIL.test(email),
    'alarms.email',
    `must be an e-mail address (got "${email}")`,
  );
  check(
    !(email && alarms?.topic),
    'alarms.email',
    'cannot be combined with `alarms.topic`: subscribe the address to that topic instead',
  );
  if (props.budget) {
    const { monthlyLimitUsd: usd, email: to } = props.budget;
    check(known(usd) ? usd > 0 : true, 'budget.monthlyLimitUsd', `must be a positive amount (got ${usd})`);
    check(EMAIL.test(to), 'budget.email', `must be an e-mail address (got "${to}")`);
  }
  const days = props.cloudFront?.accessLogRetentionDays;
  check(
    days === undefined || (Number.isInteger(days) && days >= 1),
    'cloudFront.accessLogRetentionDays',
    `must be a positive number of days (got ${days})`,
  );
  return problems;
}

/** Checks of props against the config they deploy. */
function checkPropsAgainstConfig(props: McpAuthProxyProps, v: ValidatedProps): PropProblem[] {
  const problems: PropProblem[] = [];
  const { config, createPool } = v.deployed;
  if (createPool && !props.cognitoUserPool?.domainPrefix) {
    problems.push({
      prop: 'cognitoUserPool.domainPrefix',
      message:
        'is required to create a Cognito user pool (the config has provider "cognito" and no `cognito.user_pool_id`): a prefix unique in the region, like "acme-mcp-auth"',
    });
  }
  const maxStream = config.stream.maxDurationSeconds;
  const timeout = v.proxyTimeout.toSeconds();
  if (timeout < maxStream + STREAM_MARGIN_SECONDS) {
    problems.push({
      prop: 'proxyTimeout',
      message: `must be at least ${maxStream + STREAM_MARGIN_SECONDS} seconds: the config's \`stream.max_duration_seconds\` is ${maxStream} and streams must end before Lambda stops the function (got ${timeout} seconds)`,
    });
  }
  const heartbeat = config.stream.heartbeatSeconds;
  const readTimeout = v.originReadTimeout.toSeconds();
  if (props.cloudFront && (heartbeat === 0 || heartbeat >= readTimeout)) {
    problems.push({
      prop: 'config.stream.heartbeat_seconds',
      message: `must be between 1 and ${readTimeout - 1} behind CloudFront (\`cloudFront.originReadTimeout\` is ${readTimeout} seconds), or idle SSE streams are cut (got ${heartbeat})`,
    });
  }
  return problems;
}

function throwIfAny(problems: PropProblem[]): void {
  if (problems.length) throw new McpAuthProxyPropsError(problems);
}

/**
 * Validates the props before anything is built: first the props alone, then the config (a
 * `ConfigError` naming the config key, as the functions would report it), then the props against
 * the config. Prop problems throw one `McpAuthProxyPropsError` naming every prop at fault.
 */
export function validateProps(props: McpAuthProxyProps): ValidatedProps {
  throwIfAny(checkPropsAlone(props));
  const publicOrigin = props.cloudFront ? `https://${props.cloudFront.domainName}` : undefined;
  const deployed = resolveDeployedConfig(props.config, publicOrigin);
  checkStreamBound(deployed.config);
  checkDeployedConfigFits(deployed);
  const validated: ValidatedProps = {
    deployed,
    proxyTimeout: props.proxyTimeout ?? Duration.seconds(defaultProxyTimeoutSeconds(deployed.config)),
    originReadTimeout: props.cloudFront?.originReadTimeout ?? DEFAULT_ORIGIN_READ_TIMEOUT,
  };
  throwIfAny(checkPropsAgainstConfig(props, validated));
  return validated;
}

/** The created pool's hardening (issue 13 item 7): required TOTP, threat protection on PLUS, deletion protection. */
function hardening(opts: CognitoUserPoolOptions): Partial<cognito.UserPoolProps> {
  const featurePlan = opts.featurePlan ?? cognito.FeaturePlan.ESSENTIALS;
  return {
    mfa: opts.mfa ?? cognito.Mfa.REQUIRED,
    featurePlan,
    standardThreatProtectionMode:
      featurePlan === cognito.FeaturePlan.PLUS
        ? (opts.threatProtection ?? cognito.StandardThreatProtectionMode.FULL_FUNCTION)
        : undefined,
    deletionProtection: opts.deletionProtection ?? true,
  };
}

/** The reservation of one function: the prop, its default, or none (`false`). */
function reservation(prop: number | false | undefined, fn: 'proxy' | 'discovery'): number | undefined {
  return prop === false ? undefined : (prop ?? DEFAULT_RESERVED_CONCURRENCY[fn]);
}

/** The TCP port of an http(s) URL. */
function portOf(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443;
}

/**
 * Egress to any IPv4 address on exactly these TCP ports (DNS to the VPC resolver is not subject
 * to security groups). Every other outbound connection is refused.
 */
function allowEgress(sg: ec2.SecurityGroup, ports: readonly number[], who: string): void {
  for (const port of new Set(ports)) {
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `${who} to TCP ${port}`);
  }
}

/** `https://host` of a Function URL (whose `url` attribute ends with `/`). */
function originOfUrl(url: string): string {
  return Fn.join('', ['https://', Fn.select(2, Fn.split('/', url))]);
}

/** What both functions share. */
interface FunctionBasics {
  readonly runtime: lambda.Runtime;
  readonly retention: logs.RetentionDays;
  readonly configJson: string;
  readonly subnets: ec2.SubnetSelection;
  readonly tracing: lambda.Tracing;
  /** KMS key of the log groups (none: CloudWatch Logs' own encryption). */
  readonly logKey?: IKey;
  /** `logging.debug_sample_percent` > 0: Lambda must keep DEBUG lines, the functions log INFO unless sampled. */
  readonly sampledDebug: boolean;
}

/** Options of one function (see `McpAuthProxy.makeFunction`). */
interface FunctionOptions {
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly reservedConcurrency?: number;
  readonly bundleAwsSdk: boolean;
  readonly environment: Record<string, string>;
  readonly vpc?: ec2.IVpc;
  readonly securityGroup?: ec2.ISecurityGroup;
  /** The Parameters and Secrets extension (the CloudFront variant's origin secret). */
  readonly paramsAndSecrets?: lambda.ParamsAndSecretsLayerVersion;
}

/** esbuild options of both functions. */
function bundling(runtime: lambda.Runtime, bundleAwsSdk: boolean): BundlingOptions {
  const major = /nodejs(\d+)/.exec(runtime.name)?.[1] ?? '22';
  return {
    format: OutputFormat.ESM,
    target: `node${major}`,
    platform: 'node',
    minify: true,
    sourceMap: true,
    // Linked: the `sourceMappingURL` comment lets --enable-source-maps find the map.
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    bundleAwsSDK: bundleAwsSdk,
    // The proxy must not contain the AWS SDK; nothing is left for the runtime to provide.
    externalModules: [],
    tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
    // Errors only: esbuild's summary marks a bundle over 1 MB (discovery, with the AWS SDK) with
    // a warning sign at every synth, though nothing is wrong (bundles.test.ts budgets the sizes);
    // the bundled code is the project's, so its build warnings are the tests' to catch, not users'.
    logLevel: LogLevel.ERROR,
  };
}

export class McpAuthProxy extends Construct {
  /** The config as the functions will see it (placeholders for values CDK fills in at deploy). */
  readonly config: Config;
  readonly proxyFunction: NodejsFunction;
  readonly discoveryFunction: NodejsFunction;
  readonly proxyFunctionUrl: lambda.FunctionUrl;
  readonly discoveryFunctionUrl: lambda.FunctionUrl;
  /** Public origin of the proxy (`https://host`, no trailing slash). */
  readonly proxyOrigin: string;
  /** Public origin of the discovery function: the authorization server URL listed in PRM. */
  readonly discoveryOrigin: string;
  /** URL of the Streamable HTTP endpoint. */
  readonly mcpEndpoint: string;
  /** URL of the legacy HTTP+SSE endpoint. */
  readonly sseEndpoint: string;
  /** URL of the Protected Resource Metadata of the Streamable HTTP endpoint (RFC 9728 §3.1). */
  readonly protectedResourceMetadataUrl: string;
  /** The created pool (`cognitoUserPool`); its hosted UI is `userPoolDomain.baseUrl()`. */
  readonly userPool?: cognito.UserPool;
  readonly userPoolDomain?: cognito.UserPoolDomain;
  readonly distribution?: cloudfront.Distribution;
  /** CloudFront variant: the secret CloudFront sends to both functions (lib/origin-secret.ts). */
  readonly originSecret?: OriginSecret;
  /** The generated signing key, when the config named none (`generateSigningKey`). */
  readonly signingKey?: secretsmanager.ISecret;
  /** The generated proxy secret, when the config named none (`generateProxySecret`). */
  readonly proxySecret?: secretsmanager.ISecret;
  /** CloudFront variant: the web ACL created when no `webAclArn` is given. */
  readonly webAcl?: wafv2.CfnWebACL;
  readonly proxySecurityGroup?: ec2.SecurityGroup;
  readonly discoverySecurityGroup?: ec2.SecurityGroup;
  /** The KMS key of both log groups (`logEncryptionKey`), created or given. */
  readonly logKey?: IKey;
  /** The CloudWatch alarms (`alarms`) and the topic they notify, if any. */
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly alarmTopic?: sns.ITopic;
  /** The bucket of the CloudFront access logs (`cloudFront.accessLogs`). */
  readonly accessLogBucket?: s3.Bucket;

  constructor(scope: Construct, id: string, given: McpAuthProxyProps) {
    super(scope, id);
    // No signing key named: one is generated (lib/signing-key.ts), so the relay is always on.
    const generate = given.generateSigningKey !== false && needsSigningKey(given.config);
    const props = this.withGeneratedSecrets(given, generate);
    const { deployed, proxyTimeout, originReadTimeout } = validateProps(props);
    const generated = generate
      ? new GeneratedSigningKey(this, 'SigningKey', GeneratedSigningKey.nameFor(this))
      : undefined;
    this.signingKey = generated?.secret;
    const proxySecret = needsProxySecret(given.config)
      ? new GeneratedProxySecret(this, 'ProxySecret', GeneratedProxySecret.nameFor(this))
      : undefined;
    this.proxySecret = proxySecret?.secret;
    annotateDeployedConfig(this, deployed);
    const config = deployed.config;
    this.config = config;
    // What the functions receive; a created pool adds its ids.
    const functionRaw = structuredClone(deployed.functionRaw);

    if (deployed.createPool) {
      const { pool, domain } = this.addUserPool(props.cognitoUserPool!, functionRaw);
      this.userPool = pool;
      this.userPoolDomain = domain;
    }
    if (props.cloudFront) this.originSecret = new OriginSecret(this, 'OriginSecret');
    const sgs = this.addSecurityGroups(props);
    this.proxySecurityGroup = sgs.proxy;
    this.discoverySecurityGroup = sgs.discovery;

    this.logKey =
      props.logEncryptionKey === false ? undefined : (props.logEncryptionKey ?? addLogKey(this, 'LogKey'));
    const basics: FunctionBasics = {
      tracing: props.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      logKey: this.logKey,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_22_X,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      configJson: Stack.of(this).toJsonString(functionRaw),
      subnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      sampledDebug: config.logging.debugSamplePercent > 0,
    };
    this.discoveryFunction = this.addDiscoveryFunction(props, basics);
    this.discoveryFunctionUrl = this.addFunctionUrl(this.discoveryFunction, lambda.InvokeMode.BUFFERED);
    this.discoveryOrigin = config.discovery.baseUrl ?? originOfUrl(this.discoveryFunctionUrl.url);
    this.proxyFunction = this.addProxyFunction(props, basics, proxyTimeout);
    this.proxyFunctionUrl = this.addFunctionUrl(this.proxyFunction, lambda.InvokeMode.RESPONSE_STREAM);
    this.proxyOrigin = config.proxyBaseUrl ?? originOfUrl(this.proxyFunctionUrl.url);

    generated?.grantRead(this.discoveryFunction);
    proxySecret?.grantRead(this.proxyFunction);
    // A generated secret is under the account's Secrets Manager key, not the config's SSM key.
    this.grantProxySecret(functionRaw, proxySecret ? undefined : props.secretsKey);
    this.originSecret?.attach(this.discoveryFunction);
    this.originSecret?.attach(this.proxyFunction);
    this.grantSecrets(functionRaw, props.secretsKey);
    this.grantCreateUserPoolClient();
    if (props.vpc && props.ssmInterfaceEndpoint && this.discoverySecurityGroup) {
      this.addSsmEndpoint(props.vpc, this.discoverySecurityGroup, basics.subnets, functionRaw);
    }
    if (props.cloudFront) {
      this.webAcl = this.addWebAcl(props.cloudFront);
      if (props.cloudFront.accessLogs !== false) {
        const days = props.cloudFront.accessLogRetentionDays ?? DEFAULT_ACCESS_LOG_RETENTION_DAYS;
        this.accessLogBucket = addAccessLogBucket(this, days);
      }
      this.distribution = this.addDistribution(props.cloudFront, originReadTimeout);
    }
    const watched = this.addWatchers(props);
    this.alarms = watched.alarms;
    this.alarmTopic = watched.topic;

    const { streamableHttp, sse } = config.paths;
    this.mcpEndpoint = `${this.proxyOrigin}${streamableHttp}`;
    this.sseEndpoint = `${this.proxyOrigin}${sse}`;
    this.protectedResourceMetadataUrl = `${this.proxyOrigin}/.well-known/oauth-protected-resource${streamableHttp}`;
    this.acknowledgeNagFindings(props);
  }

  /** Cognito: a pool (no self sign-up), its hosted UI domain and resource server; ids into `raw`. */
  private addUserPool(
    opts: CognitoUserPoolOptions,
    raw: RawConfig,
  ): { pool: cognito.UserPool; domain: cognito.UserPoolDomain } {
    const identifier = opts.resourceServerIdentifier ?? 'mcp';
    const scopeNames = opts.scopes?.length ? opts.scopes : ['tools'];
    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      ...hardening(opts),
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    });
    const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: opts.domainPrefix! } });
    pool.addResourceServer('ResourceServer', {
      identifier,
      scopes: scopeNames.map(
        (s) => new cognito.ResourceServerScope({ scopeName: s, scopeDescription: `MCP scope ${s}` }),
      ),
    });
    const userCognito = isObject(raw.cognito) ? raw.cognito : {};
    raw.cognito = {
      ...userCognito,
      user_pool_id: pool.userPoolId,
      domain_url: domain.baseUrl(),
      scopes: userCognito.scopes ?? scopeNames.map((s) => `${identifier}/${s}`),
    };
    return { pool, domain };
  }

  /** VPC: one security group per attached function, egress only. */
  private addSecurityGroups(props: McpAuthProxyProps): {
    proxy?: ec2.SecurityGroup;
    discovery?: ec2.SecurityGroup;
  } {
    if (!props.vpc) return {};
    const proxy = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: props.vpc,
      description: 'MCP auth proxy function: egress to the upstream MCP server, JWKS and IdP',
      allowAllOutbound: false,
    });
    const upstreamPort = portOf(this.config.upstream.baseUrl);
    allowEgress(proxy, props.proxyEgressPorts ?? [upstreamPort, 443], 'proxy function');
    const discovery = props.discoveryInVpc
      ? new ec2.SecurityGroup(this, 'DiscoverySecurityGroup', {
          vpc: props.vpc,
          description: 'MCP auth discovery function: egress to the IdP and SSM',
          allowAllOutbound: false,
        })
      : undefined;
    if (discovery) allowEgress(discovery, props.discoveryEgressPorts ?? [443], 'discovery function');
    return { proxy, discovery };
  }

  /** The discovery function (authorization-server facade); it never references the proxy. */
  private addDiscoveryFunction(props: McpAuthProxyProps, basics: FunctionBasics): NodejsFunction {
    return this.makeFunction('DiscoveryFunction', basics, {
      entry: 'functions/discovery/index.ts',
      description: 'MCP auth proxy: OAuth discovery, registration, authorize/token facade',
      memorySize: props.discoveryMemorySize ?? 256,
      timeout: props.discoveryTimeout ?? Duration.seconds(15),
      reservedConcurrency: reservation(props.discoveryReservedConcurrency, 'discovery'),
      bundleAwsSdk: true,
      environment: { [CONFIG_ENV]: basics.configJson },
      vpc: props.discoveryInVpc ? props.vpc : undefined,
      securityGroup: this.discoverySecurityGroup,
      paramsAndSecrets: this.originSecret?.extension,
    });
  }

  /**
   * The streaming proxy. It learns the authorization server (the discovery function's origin)
   * from its environment, unless the config names one; so there is no reference cycle.
   */
  private addProxyFunction(
    props: McpAuthProxyProps,
    basics: FunctionBasics,
    timeout: Duration,
  ): NodejsFunction {
    const environment: Record<string, string> = { [CONFIG_ENV]: basics.configJson };
    if (
      !this.config.discovery.baseUrl &&
      !this.config.protectedResourceMetadata.authorizationServers.length
    ) {
      environment.AUTHORIZATION_SERVER_URL = this.discoveryOrigin;
    }
    return this.makeFunction('ProxyFunction', basics, {
      entry: 'functions/proxy/index.ts',
      description: 'MCP auth proxy: OAuth 2.1 resource server streaming to the MCP server',
      memorySize: props.proxyMemorySize ?? 512,
      timeout,
      reservedConcurrency: reservation(props.proxyReservedConcurrency, 'proxy'),
      bundleAwsSdk: false,
      environment,
      vpc: props.vpc,
      securityGroup: this.proxySecurityGroup,
      // The proxy secret is read through the same extension (functions/proxy/proxy-keys.ts).
      paramsAndSecrets:
        this.originSecret?.extension ??
        (usesProxySecret(props.config) ? paramsAndSecretsExtension() : undefined),
    });
  }

  /**
   * A public Function URL (auth NONE: `addFunctionUrl` grants `lambda:InvokeFunctionUrl` and
   * `lambda:InvokeFunction` via Function URL to everyone; the functions authenticate requests).
   * No Function URL CORS: see NO_URL_CORS.
   */
  private addFunctionUrl(fn: NodejsFunction, invokeMode: lambda.InvokeMode): lambda.FunctionUrl {
    return fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode });
  }

  /** One function with its own log group and role (logs only to that group). */
  private makeFunction(id: string, basics: FunctionBasics, o: FunctionOptions): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, {
      retention: basics.retention,
      encryptionKey: basics.logKey,
    });
    // Our own role: logs only to this function's log group (no AWSLambdaBasicExecutionRole).
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${o.description} (execution role)`,
    });
    logGroup.grantWrite(role);
    if (o.vpc) {
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
    }
    return new NodejsFunction(this, id, {
      entry: join(PROJECT_ROOT, o.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: o.description,
      runtime: basics.runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: o.memorySize,
      timeout: o.timeout,
      reservedConcurrentExecutions: o.reservedConcurrency,
      tracing: basics.tracing,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Lambda drops JSON lines below this level (EMF lines have none: INFO). Sampled debug lines
      // (shared/log.ts) need DEBUG; the functions' own level then stays INFO.
      applicationLogLevelV2: basics.sampledDebug
        ? lambda.ApplicationLogLevel.DEBUG
        : lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      // Stack traces through the minified bundle point at the TypeScript sources.
      environment: {
        ...o.environment,
        NODE_OPTIONS: '--enable-source-maps',
        ...(basics.sampledDebug ? { MCP_AUTH_PROXY_LOG_LEVEL: 'INFO' } : {}),
      },
      vpc: o.vpc,
      vpcSubnets: o.vpc ? basics.subnets : undefined,
      securityGroups: o.vpc && o.securityGroup ? [o.securityGroup] : undefined,
      bundling: bundling(basics.runtime, o.bundleAwsSdk),
      paramsAndSecrets: o.paramsAndSecrets,
    });
  }

  /**
   * SSM: for the discovery function only, `ssm:GetParameters` (the one call functions/discovery/
   * secrets.ts makes) on exactly the named parameters; not `grantRead`, whose `GetParameter`,
   * `DescribeParameters` and `GetParameterHistory` (earlier values) the code never needs. With a
   * customer key, `kms:Decrypt` only through SSM of this region and for these parameters.
   */
  private grantSecrets(functionRaw: RawConfig, secretsKey: IKey | undefined): void {
    const arns = this.secretParameterArns(functionRaw);
    if (!arns.length) return;
    this.discoveryFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameters'], resources: arns }),
    );
    if (secretsKey) this.grantDecryptThroughSsm(this.discoveryFunction, secretsKey, arns);
  }

  /** `kms:Decrypt` with a customer key, only through SSM of this region and for these parameters. */
  private grantDecryptThroughSsm(fn: NodejsFunction, key: IKey, parameterArns: string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `ssm.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:PARAMETER_ARN': parameterArns,
          },
        },
      }),
    );
  }

  /** The ARN of each SSM parameter the discovery function reads (all but the proxy secret). */
  private secretParameterArns(functionRaw: RawConfig): string[] {
    const refs = ssmParameterRefs(functionRaw).filter((r) => r.key !== PROXY_SECRET_KEY);
    return [...new Set(refs.map((r) => r.name))].map((name) => this.parameterArn(name));
  }

  /** An SSM parameter's ARN (a name may start with `/` or not). */
  private parameterArn(name: string): string {
    const resourceName = name.replace(/^\//, '');
    return Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName });
  }

  /** The config with the secrets the deployment generates named in it (lib/signing-key.ts, proxy-secret.ts). */
  private withGeneratedSecrets(given: McpAuthProxyProps, signingKey: boolean): McpAuthProxyProps {
    let config = given.config;
    if (signingKey)
      config = GeneratedSigningKey.configWithKey(config, GeneratedSigningKey.parameterFor(this));
    if (needsProxySecret(config)) {
      if (given.generateProxySecret === false) {
        throw new ConfigError(
          PROXY_SECRET_KEY,
          'is required with session_binding or upstream_identity enabled when deploy.generate_proxy_secret is false',
        );
      }
      config = GeneratedProxySecret.configWithSecret(config, GeneratedProxySecret.parameterFor(this));
    }
    return config === given.config ? given : { ...given, config };
  }

  /** The proxy secret's parameter: the proxy reads it (GetParameter), with a customer key through SSM only. */
  private grantProxySecret(functionRaw: RawConfig, secretsKey: IKey | undefined): void {
    const name = functionRaw[PROXY_SECRET_KEY];
    if (typeof name !== 'string') return;
    const arn = this.parameterArn(name);
    grantProxySecretParameter(this.proxyFunction, arn);
    if (secretsKey) this.grantDecryptThroughSsm(this.proxyFunction, secretsKey, [arn]);
  }

  /** Alarms (`alarms`) on both functions and the optional budget (`budget`): lib/observability.ts. */
  private addWatchers(props: McpAuthProxyProps): { alarms: cloudwatch.Alarm[]; topic?: sns.ITopic } {
    if (props.budget) addBudget(this, props.budget);
    if (props.alarms === false) return { alarms: [] };
    const functions = [
      { id: 'Proxy', fn: this.proxyFunction, cap: props.proxyReservedConcurrency, which: 'proxy' },
      {
        id: 'Discovery',
        fn: this.discoveryFunction,
        cap: props.discoveryReservedConcurrency,
        which: 'discovery',
      },
    ] as const;
    return addAlarms(
      this,
      functions.map((f) => ({ id: f.id, fn: f.fn, reservedConcurrency: reservation(f.cap, f.which) })),
      props.alarms ?? {},
    );
  }

  /** Cognito: the discovery function registers app clients in the pool (created or configured). */
  private grantCreateUserPoolClient(): void {
    if (this.config.provider !== 'cognito') return;
    const c = this.config.cognito!;
    const userPoolArn =
      this.userPool?.userPoolArn ??
      Stack.of(this).formatArn({
        service: 'cognito-idp',
        region: c.region,
        resource: 'userpool',
        resourceName: c.userPoolId,
      });
    this.discoveryFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cognito-idp:CreateUserPoolClient'], resources: [userPoolArn] }),
    );
  }

  /**
   * VPC: an SSM interface endpoint reachable from the discovery function and, when it reads the
   * proxy secret (through the Parameters and Secrets extension), the proxy; its policy allows
   * only the discovery role's `ssm:GetParameters` on the named parameters and the proxy role's
   * `ssm:GetParameter` on the proxy secret's.
   */
  private addSsmEndpoint(
    vpc: ec2.IVpc,
    discoverySg: ec2.ISecurityGroup,
    subnets: ec2.SubnetSelection,
    functionRaw: RawConfig,
  ): void {
    const endpointSg = new ec2.SecurityGroup(this, 'SsmEndpointSecurityGroup', {
      vpc,
      description: 'SSM interface endpoint: HTTPS from the functions that read parameters only',
      allowAllOutbound: false,
    });
    endpointSg.addIngressRule(discoverySg, ec2.Port.tcp(443), 'discovery function to SSM');
    const endpoint = new ec2.InterfaceVpcEndpoint(this, 'SsmEndpoint', {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.SSM,
      subnets: { ...subnets, onePerAz: true },
      securityGroups: [endpointSg],
      open: false,
      privateDnsEnabled: true,
    });
    const statements: iam.PolicyStatement[] = [];
    const arns = this.secretParameterArns(functionRaw);
    if (arns.length) {
      statements.push(
        new iam.PolicyStatement({
          principals: [this.discoveryFunction.role!],
          actions: ['ssm:GetParameters'],
          resources: arns,
        }),
      );
    }
    const proxySecret = functionRaw[PROXY_SECRET_KEY];
    if (typeof proxySecret === 'string' && this.proxySecurityGroup) {
      endpointSg.addIngressRule(this.proxySecurityGroup, ec2.Port.tcp(443), 'proxy function to SSM');
      statements.push(
        new iam.PolicyStatement({
          principals: [this.proxyFunction.role!],
          actions: ['ssm:GetParameter'],
          resources: [this.parameterArn(proxySecret)],
        }),
      );
    }
    // Without any statement the endpoint would allow everything: a config naming no parameter
    // gets an explicit deny instead.
    if (!statements.length) {
      statements.push(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['ssm:*'],
          resources: ['*'],
        }),
      );
    }
    for (const st of statements) endpoint.addToPolicy(st);
  }

  /** CloudFront: one origin for both functions; MCP paths and PRM to the proxy, the rest to discovery. */
  private addDistribution(cf: McpAuthProxyCloudFrontOptions, readTimeout: Duration): cloudfront.Distribution {
    const common = {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // The viewer's Host must not reach the origin (Lambda rejects a foreign Host); the functions
      // take their public origin from config (proxy_base_url / discovery.base_url) instead.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      compress: false,
    } as const;
    // Both functions refuse requests without it (functions/shared/origin-secret.ts).
    const customHeaders = this.originSecret!.originHeaders(cf.originSecretVersionId);
    const proxyOrigin = new FunctionUrlOrigin(this.proxyFunctionUrl, {
      readTimeout,
      keepaliveTimeout: Duration.seconds(5),
      customHeaders,
    });
    const discoveryOrigin = new FunctionUrlOrigin(this.discoveryFunctionUrl, {
      readTimeout: DEFAULT_ORIGIN_READ_TIMEOUT,
      customHeaders,
    });

    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `MCP auth proxy ${cf.domainName}`,
      domainNames: [cf.domainName],
      certificate: cf.certificate,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: cf.webAclArn ?? this.webAcl?.attrArn,
      // Standard logging (`accessLogs`); the bucket is created with the construct.
      logBucket: this.accessLogBucket,
      // Everything that is not an MCP path or PRM is the authorization-server facade.
      defaultBehavior: { origin: discoveryOrigin, ...common },
      additionalBehaviors: this.proxyBehaviors({ origin: proxyOrigin, ...common }),
    });
    if (cf.hostedZone) this.addAliasRecords(cf.hostedZone, cf.domainName, distribution);
    return distribution;
  }

  /** CloudFront: the rate-limiting web ACL (lib/web-acl.ts), unless one is given or it is turned off. */
  private addWebAcl(cf: McpAuthProxyCloudFrontOptions): wafv2.CfnWebACL | undefined {
    const rateLimit = cf.rateLimit ?? DEFAULT_RATE_LIMIT;
    if (cf.webAclArn || rateLimit === 0) return undefined;
    const acl = createRateLimitWebAcl(this, 'WebAcl', rateLimit);
    acknowledge(
      acl,
      inPacks('WAFv2LoggingEnabled'),
      'The web ACL carries only the rate rule; every request it sees is in the CloudFront access logs (on by default). WAF logging needs a Firehose or an aws-waf-logs- bucket: bring your own web ACL (deploy.cloudfront.web_acl_arn) with logging to have it.',
    );
    return acl;
  }

  /** The same behaviour for PRM and each MCP path, with and without a sub-path. */
  private proxyBehaviors(behavior: cloudfront.BehaviorOptions): Record<string, cloudfront.BehaviorOptions> {
    const { streamableHttp, sse, messages } = this.config.paths;
    const behaviors: Record<string, cloudfront.BehaviorOptions> = {};
    for (const p of ['/.well-known/oauth-protected-resource', streamableHttp, sse, messages]) {
      behaviors[p] = behavior;
      behaviors[`${p}/*`] = behavior;
    }
    return behaviors;
  }

  /** Route 53: A and AAAA alias records for the domain. */
  private addAliasRecords(
    zone: route53.IHostedZone,
    recordName: string,
    distribution: cloudfront.Distribution,
  ): void {
    const target = route53.RecordTarget.fromAlias(new CloudFrontTarget(distribution));
    new route53.ARecord(this, 'AliasRecord', { zone, recordName, target });
    new route53.AaaaRecord(this, 'AliasRecordIpv6', { zone, recordName, target });
  }

  /** cdk-nag: each accepted finding with its reason, on the construct it concerns. */
  private acknowledgeNagFindings(props: McpAuthProxyProps): void {
    const pool = props.cognitoUserPool;
    if (this.userPool && (pool?.featurePlan ?? cognito.FeaturePlan.ESSENTIALS) !== cognito.FeaturePlan.PLUS) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan (threat protection) is billed per monthly active user; deploy.cognito.feature_plan: plus turns it on (enforced).',
      });
    }
    if (this.userPool && (pool?.mfa ?? cognito.Mfa.REQUIRED) !== cognito.Mfa.REQUIRED) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          'MFA was made optional by the operator (deploy.cognito.mfa); TOTP is still offered to every user.',
      });
    }
    for (const [fn, inVpc] of [
      [this.discoveryFunction, props.discoveryInVpc && props.vpc],
      [this.proxyFunction, props.vpc],
    ] as const) {
      const runtime = fn.runtime.name;
      if (runtime !== lambda.Runtime.NODEJS_LATEST.name) {
        Validations.of(fn).acknowledge({
          id: 'AwsSolutions-L1',
          reason: `${runtime} is the chosen runtime (deploy.runtime; nodejs22.x is supported until 2027-04-30 and is the default until nodejs24.x has been measured); set deploy.runtime: ${lambda.Runtime.NODEJS_LATEST.name} for the latest.`,
        });
      }
      if (inVpc) {
        Validations.of(fn.role!).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
          reason:
            'A VPC-attached function must create and delete its ENIs; the AWS managed AWSLambdaVPCAccessExecutionRole grants exactly those EC2 actions (which only support Resource "*").',
        });
      }
    }
    if (this.distribution) this.acknowledgeDistributionFindings(this.distribution, props.cloudFront!);
    this.acknowledgeFunctionPackFindings(props);
  }

  /** cdk-nag Serverless, NIST 800-53 R5 and HIPAA findings on the functions, with their reasons. */
  private acknowledgeFunctionPackFindings(props: McpAuthProxyProps): void {
    for (const [fn, inVpc, reserved, key] of [
      [
        this.discoveryFunction,
        props.discoveryInVpc && props.vpc,
        props.discoveryReservedConcurrency,
        'deploy.discovery.reserved_concurrency',
      ],
      [this.proxyFunction, props.vpc, props.proxyReservedConcurrency, 'deploy.proxy.reserved_concurrency'],
    ] as const) {
      const ack = (ids: string[], reason: string, on: Construct = fn) => acknowledge(on, ids, reason);
      const runtime = fn.runtime.name;
      if (runtime !== lambda.Runtime.NODEJS_LATEST.name) {
        ack(
          ['Serverless-LambdaLatestVersion'],
          `${runtime} is the chosen runtime (deploy.runtime, as for AwsSolutions-L1); set deploy.runtime: ${lambda.Runtime.NODEJS_LATEST.name} for the latest.`,
        );
      }
      ack(
        ['Serverless-LambdaDLQ', ...inPacks('LambdaDLQ')],
        'Only its Function URL invokes the function, synchronously: the caller gets every error as the HTTP response, and a dead-letter queue only receives failed asynchronous invocations, of which there are none.',
      );
      ack(
        inPacks('LambdaFunctionPublicAccessProhibited'),
        'The public Function URL (auth NONE) is the service: MCP clients and browsers call it without AWS credentials, and the function authenticates every request itself (OAuth access tokens, registration and consent rules); reserved concurrency caps what anonymous calls can cost.',
      );
      ack(
        inPacks('IAMNoInlinePolicy'),
        "The role's only policy is created, attached and deleted with this one role and lists exact resources; a customer managed policy would be a second, reusable object with the same statements.",
        fn.role!,
      );
      if (!inVpc) {
        ack(
          inPacks('LambdaInsideVPC'),
          'The function calls only public HTTPS endpoints (IdP, JWKS, SSM, the upstream MCP server); attaching it to a VPC (deploy.vpc, which the operator chooses when the upstream is private) would add a NAT gateway and protect nothing here.',
        );
      }
      this.acknowledgeOptOuts(fn, reserved === false ? key : undefined, props);
      if (props.tracing !== false) {
        ack(
          ['AwsSolutions-IAM5[Resource::*]'],
          'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support only Resource "*" (no resource-level permissions).',
          fn.role!,
        );
      }
    }
  }

  /** Findings that exist only because the operator turned a default off (each names its switch). */
  private acknowledgeOptOuts(fn: NodejsFunction, unreservedBy: string | undefined, props: McpAuthProxyProps) {
    if (unreservedBy) {
      acknowledge(
        fn,
        inPacks('LambdaConcurrency'),
        `Reservation turned off by the operator (${unreservedBy}: none), e.g. where the account's concurrency quota cannot keep 100 executions unreserved; the Throttles and Errors alarms still apply.`,
      );
    }
    if (props.tracing === false) {
      acknowledge(
        fn,
        ['Serverless-LambdaTracing'],
        'X-Ray tracing turned off by the operator (deploy.tracing: false).',
      );
    }
    if (props.logEncryptionKey === false) {
      acknowledge(
        fn.logGroup,
        inPacks('CloudWatchLogGroupEncrypted'),
        'Customer key turned off by the operator (deploy.log_encryption: false); CloudWatch Logs still encrypts the log data at rest with keys it manages.',
      );
    }
  }

  private acknowledgeDistributionFindings(
    distribution: cloudfront.Distribution,
    cf: McpAuthProxyCloudFrontOptions,
  ): void {
    if (!cf.webAclArn && !this.webAcl) {
      Validations.of(distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason:
          'The web ACL was turned off (deploy.cloudfront.waf_rate_limit: 0): every request is authenticated by the functions, registrations are limited per instance, and a web ACL has a monthly cost.',
      });
    }
    Validations.of(distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'MCP clients connect from anywhere; access is controlled by OAuth tokens, not geography.',
    });
    if (cf.accessLogs === false) {
      Validations.of(distribution).acknowledge({
        id: 'AwsSolutions-CFR3',
        reason:
          'Access logs turned off by the operator (deploy.cloudfront.access_logs: false); both functions still write a structured JSON log line per request to CloudWatch.',
      });
    }
  }
}
