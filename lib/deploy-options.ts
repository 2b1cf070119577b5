/**
 * The `deploy:` block of `config.yaml`: settings only the CDK app reads (Lambda sizing, VPC,
 * CloudFront, a Cognito user pool to create). The functions never see it (it is stripped from
 * their environment) and `parseConfig` ignores it. Errors are `ConfigError`s naming the key,
 * exactly like the rest of the config: `parseDeployOptions` checks the block alone,
 * `validateDeployOptions` the rules that involve the rest of the config. The stack maps the
 * result onto `McpAuthProxy` props, which the construct validates again in prop names.
 */
import {
  ConfigError,
  ConfigReader,
  checkKnownKeys,
  type KnownKeys,
  section,
} from '../functions/shared/config/index.ts';
import { isObject } from '../functions/shared/encoding.ts';
import type { RawConfig } from './config-source.ts';
import {
  checkDeployedConfigFits,
  checkStreamBound,
  defaultProxyTimeoutSeconds,
  resolveDeployedConfig,
  STREAM_MARGIN_SECONDS,
} from './deployed-config.ts';
import { DEFAULT_ACCESS_LOG_RETENTION_DAYS, DEFAULT_CONCURRENCY_THRESHOLD_PERCENT } from './observability.ts';
import { DEFAULT_RATE_LIMIT, MAX_RATE_LIMIT, MIN_RATE_LIMIT } from './web-acl.ts';

export type RuntimeName = 'nodejs22.x' | 'nodejs24.x';
export const RUNTIMES: readonly RuntimeName[] = ['nodejs22.x', 'nodejs24.x'];

/** CloudWatch Logs retention periods (days) accepted by CloudFormation. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export interface VpcOptions {
  readonly vpcId: string;
  /** Look the VPC up at synth (needs credentials and an explicit account/region). */
  readonly lookup: boolean;
  readonly availabilityZones: readonly string[];
  readonly privateSubnetIds: readonly string[];
  /** Attach the discovery function too (only needed when the IdP is reachable only from the VPC). */
  readonly attachDiscovery: boolean;
  /** Create an SSM interface endpoint (for a discovery function in subnets without NAT). */
  readonly ssmEndpoint: boolean;
  /** TCP ports the proxy may connect to (unset: the upstream's port and 443). */
  readonly proxyEgressPorts?: readonly number[];
  /** TCP ports the attached discovery function may connect to (unset: 443). */
  readonly discoveryEgressPorts?: readonly number[];
}

export interface CloudFrontOptions {
  readonly domainName: string;
  /** ACM certificate in us-east-1 covering `domainName`. */
  readonly certificateArn: string;
  readonly hostedZoneId?: string;
  readonly hostedZoneName?: string;
  readonly originReadTimeoutSeconds: number;
  readonly webAclArn?: string;
  /** Requests per viewer address per 5 minutes to /register and /token in the created web ACL; 0 = none. */
  readonly wafRateLimit: number;
  /** Version of the origin secret CloudFront sends (rotation). */
  readonly originSecretVersionId?: string;
  /** CloudFront standard logs to an S3 bucket (default on). */
  readonly accessLogs: boolean;
  readonly accessLogRetentionDays: number;
}

export interface AlarmOptions {
  readonly email?: string;
  readonly snsTopicArn?: string;
  readonly concurrencyThresholdPercent: number;
}

export interface BudgetOptions {
  readonly monthlyLimitUsd: number;
  readonly email: string;
}

export interface CognitoCreateOptions {
  readonly domainPrefix?: string;
  readonly resourceServerIdentifier: string;
  readonly scopes: readonly string[];
  readonly mfa: 'required' | 'optional';
  readonly featurePlan: 'essentials' | 'plus';
  /** With the plus plan only. */
  readonly threatProtection: 'enforced' | 'audit';
  readonly deletionProtection: boolean;
}

function oneOf<T extends string>(b: ConfigReader | undefined, key: string, values: readonly T[]): T {
  const v = b?.str(key) ?? values[0]!;
  if (!values.includes(v as T)) {
    throw new ConfigError(`deploy.cognito.${key}`, `must be one of ${values.join(', ')} (got "${v}")`);
  }
  return v as T;
}

export interface DeployOptions {
  readonly stackName: string;
  readonly account?: string;
  readonly region?: string;
  readonly runtime: RuntimeName;
  readonly proxy: {
    readonly memoryMb: number;
    readonly timeoutSeconds?: number;
    /** Unset = the construct's default; `false` (`none`) = unreserved (docs/deploy.md, "Concurrency"). */
    readonly reservedConcurrency?: number | false;
  };
  readonly discovery: {
    readonly memoryMb: number;
    readonly timeoutSeconds: number;
    readonly reservedConcurrency?: number | false;
  };
  /** X-Ray active tracing on both functions (default on). */
  readonly tracing: boolean;
  /** A generated signing key when the config names none (default on; lib/signing-key.ts). */
  readonly generateSigningKey: boolean;
  /** A generated proxy secret when the config uses one and names none (default on; lib/proxy-secret.ts). */
  readonly generateProxySecret: boolean;
  /** KMS encryption of the log groups (default on): a created key, or `logKmsKeyArn`. */
  readonly logEncryption: boolean;
  readonly logKmsKeyArn?: string;
  /** CloudWatch alarms (undefined: `deploy.alarms.enabled: false`). */
  readonly alarms?: AlarmOptions;
  /** An AWS Budgets alarm (opt-in). */
  readonly budget?: BudgetOptions;
  readonly logRetentionDays: number;
  readonly ssmKmsKeyArn?: string;
  readonly vpc?: VpcOptions;
  readonly cloudfront?: CloudFrontOptions;
  readonly cognito: CognitoCreateOptions;
  /** Name of the server in the printed `mcpServers` client snippet. */
  readonly clientName: string;
}

/**
 * Every key of the `deploy:` block: any other is refused, naming the closest of these. A key the
 * parsers below read must be listed here (test/unit/known-keys.test.ts checks both ways).
 */
export const DEPLOY_KEYS: KnownKeys = section(
  'stack_name',
  'account',
  'region',
  'runtime',
  'log_retention_days',
  'ssm_kms_key_arn',
  'client_name',
  'tracing',
  'generate_signing_key',
  'generate_proxy_secret',
  'log_encryption',
  'log_kms_key_arn',
  ['alarms', section('enabled', 'email', 'sns_topic_arn', 'concurrency_threshold_percent')],
  ['budget', section('monthly_limit_usd', 'email')],
  ['proxy', section('memory_mb', 'timeout_seconds', 'reserved_concurrency')],
  ['discovery', section('memory_mb', 'timeout_seconds', 'reserved_concurrency')],
  [
    'vpc',
    section(
      'id',
      'lookup',
      'availability_zones',
      'private_subnet_ids',
      'attach_discovery',
      'ssm_endpoint',
      'proxy_egress_ports',
      'discovery_egress_ports',
    ),
  ],
  [
    'cloudfront',
    section(
      'domain_name',
      'certificate_arn',
      'hosted_zone_id',
      'hosted_zone_name',
      'origin_read_timeout_seconds',
      'web_acl_arn',
      'origin_secret_version_id',
      'waf_rate_limit',
      'access_logs',
      'access_log_retention_days',
    ),
  ],
  [
    'cognito',
    section(
      'domain_prefix',
      'resource_server_identifier',
      'scopes',
      'mfa',
      'feature_plan',
      'threat_protection',
      'deletion_protection',
    ),
  ],
);

/**
 * Upper bound accepted for `deploy.*.reserved_concurrency`: a sanity limit, not the account's
 * quota (1,000 by default, often 10 on new accounts), which only CloudFormation can check; 0
 * would throttle every request, so it is refused.
 */
const MAX_RESERVED_CONCURRENCY = 100_000;

/** `reserved_concurrency`: unset (the default), `none` (no reservation) or 1 to the sanity limit. */
function parseReservation(b: ConfigReader | undefined): number | false | undefined {
  if (b?.value('reserved_concurrency') === 'none') return false;
  try {
    return b?.int('reserved_concurrency', undefined, 1, MAX_RESERVED_CONCURRENCY);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // The same check as `int`, with the way to turn the reservation off.
    throw new ConfigError(
      b!.key('reserved_concurrency'),
      `must be an integer between 1 and ${MAX_RESERVED_CONCURRENCY}, or none for no reservation (got ${JSON.stringify(b!.value('reserved_concurrency'))})`,
    );
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A list of TCP ports (YAML integers or a comma-separated string). */
function parsePorts(b: ConfigReader, k: string): number[] | undefined {
  const v = b.value(k);
  if (v === undefined || v === null) return undefined;
  const items = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v;
  const ports = Array.isArray(items)
    ? items.map((x) => (typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x))
    : [];
  if (!ports.length || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) {
    throw new ConfigError(
      b.key(k),
      `must be a list of TCP ports between 1 and 65535 (got ${JSON.stringify(v)})`,
    );
  }
  return ports as number[];
}

/** `deploy.alarms` (on by default; `enabled: false` turns them off). */
function parseAlarms(b: ConfigReader | undefined): AlarmOptions | undefined {
  if (b && !b.bool('enabled', true)) return undefined;
  const email = b?.str('email', EMAIL, 'ops@example.com');
  const snsTopicArn = b?.str(
    'sns_topic_arn',
    /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
    'arn:aws:sns:eu-west-1:123456789012:ops-alarms',
  );
  if (email && snsTopicArn) {
    throw new ConfigError(
      'deploy.alarms.email',
      'cannot be combined with `deploy.alarms.sns_topic_arn`: subscribe the address to that topic instead',
    );
  }
  const percent =
    b?.int('concurrency_threshold_percent', DEFAULT_CONCURRENCY_THRESHOLD_PERCENT, 1, 100) ??
    DEFAULT_CONCURRENCY_THRESHOLD_PERCENT;
  return { email, snsTopicArn, concurrencyThresholdPercent: percent };
}

/** `deploy.budget` (opt-in): both keys required. */
function parseBudget(b: ConfigReader | undefined): BudgetOptions | undefined {
  if (!b) return undefined;
  const monthlyLimitUsd = b.int('monthly_limit_usd', undefined, 1, 1_000_000_000);
  if (monthlyLimitUsd === undefined) {
    throw new ConfigError(
      b.key('monthly_limit_usd'),
      'is required when `deploy.budget` is set (whole US dollars)',
    );
  }
  const email = b.str('email', EMAIL, 'billing@example.com');
  if (!email) throw new ConfigError(b.key('email'), 'is required when `deploy.budget` is set');
  return { monthlyLimitUsd, email };
}

/** Tracing, log encryption, alarms and budget (issue 13: what a production team expects). */
function parseVisibility(d: ConfigReader) {
  const logEncryption = d.bool('log_encryption', true);
  const logKmsKeyArn = d.str(
    'log_kms_key_arn',
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/,
    'arn:aws:kms:eu-west-1:123456789012:key/…',
  );
  if (logKmsKeyArn && !logEncryption) {
    throw new ConfigError('deploy.log_kms_key_arn', 'cannot be combined with `deploy.log_encryption: false`');
  }
  return {
    tracing: d.bool('tracing', true),
    generateSigningKey: d.bool('generate_signing_key', true),
    generateProxySecret: d.bool('generate_proxy_secret', true),
    logEncryption,
    logKmsKeyArn,
    alarms: parseAlarms(d.optObj('alarms')),
    budget: parseBudget(d.optObj('budget')),
  };
}

function parseVpc(b: ConfigReader): VpcOptions {
  const vpcId = b.str('id', /^vpc-[0-9a-f]{8,17}$/, 'vpc-0123456789abcdef0');
  if (!vpcId) throw new ConfigError(b.key('id'), 'is required when `deploy.vpc` is set');
  const lookup = b.bool('lookup', false);
  const privateSubnetIds = b.list(
    'private_subnet_ids',
    [],
    /^subnet-[0-9a-f]{8,17}$/,
    'subnet-0123456789abcdef0',
  );
  const availabilityZones = b.list('availability_zones', [], /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'eu-west-1a');
  if (lookup) {
    if (privateSubnetIds.length || availabilityZones.length) {
      throw new ConfigError(
        b.key('lookup'),
        'cannot be combined with `deploy.vpc.private_subnet_ids` or `deploy.vpc.availability_zones`',
      );
    }
  } else {
    if (!privateSubnetIds.length) {
      throw new ConfigError(
        b.key('private_subnet_ids'),
        'is required: list the private subnets (with a NAT route) for the proxy, or set `deploy.vpc.lookup: true` to look them up at synth (needs AWS credentials)',
      );
    }
    if (!availabilityZones.length || privateSubnetIds.length % availabilityZones.length !== 0) {
      throw new ConfigError(
        b.key('availability_zones'),
        `must list the availability zone of each private subnet, in order (${privateSubnetIds.length} subnet(s), ${availabilityZones.length} zone(s))`,
      );
    }
  }
  const attachDiscovery = b.bool('attach_discovery', false);
  const ssmEndpoint = b.bool('ssm_endpoint', false);
  if (ssmEndpoint && !attachDiscovery) {
    throw new ConfigError(
      b.key('ssm_endpoint'),
      'needs `deploy.vpc.attach_discovery: true`: it serves the discovery function in the VPC (and the proxy, for the proxy secret)',
    );
  }
  const discoveryEgressPorts = parsePorts(b, 'discovery_egress_ports');
  if (discoveryEgressPorts && !attachDiscovery) {
    throw new ConfigError(b.key('discovery_egress_ports'), 'needs `deploy.vpc.attach_discovery: true`');
  }
  return {
    vpcId,
    lookup,
    availabilityZones,
    privateSubnetIds,
    attachDiscovery,
    ssmEndpoint,
    proxyEgressPorts: parsePorts(b, 'proxy_egress_ports'),
    discoveryEgressPorts,
  };
}

function parseCloudFront(b: ConfigReader): CloudFrontOptions {
  const domainName = b.str(
    'domain_name',
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'mcp.example.com',
  );
  if (!domainName) {
    throw new ConfigError(
      b.key('domain_name'),
      'is required when `deploy.cloudfront` is set: the functions must know their public host from config (a CloudFront host cannot be passed to them safely)',
    );
  }
  const certificateArn = b.str(
    'certificate_arn',
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
    'arn:aws:acm:us-east-1:123456789012:certificate/…',
  );
  if (!certificateArn)
    throw new ConfigError(b.key('certificate_arn'), 'is required when `deploy.cloudfront` is set');
  if (!certificateArn.split(':')[3]!.startsWith('us-east-1')) {
    throw new ConfigError(
      b.key('certificate_arn'),
      `must be an ACM certificate in us-east-1, as CloudFront requires (got "${certificateArn}")`,
    );
  }
  const hostedZoneId = b.str('hosted_zone_id', /^Z[A-Z0-9]{1,32}$/, 'Z0123456789ABCDEFGHIJ');
  const hostedZoneName = b.str('hosted_zone_name');
  if (hostedZoneId && !hostedZoneName) {
    throw new ConfigError(b.key('hosted_zone_name'), 'is required with `deploy.cloudfront.hosted_zone_id`');
  }
  if (hostedZoneName && !(domainName === hostedZoneName || domainName.endsWith(`.${hostedZoneName}`))) {
    throw new ConfigError(
      b.key('hosted_zone_name'),
      `must contain \`deploy.cloudfront.domain_name\` (got "${hostedZoneName}" for "${domainName}")`,
    );
  }
  return {
    domainName,
    certificateArn,
    hostedZoneId,
    hostedZoneName: hostedZoneId ? hostedZoneName : undefined,
    originReadTimeoutSeconds: b.int('origin_read_timeout_seconds', 30, 1, 180),
    webAclArn: b.str(
      'web_acl_arn',
      /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/.+$/,
      'arn:aws:wafv2:us-east-1:123456789012:global/webacl/name/id',
    ),
    wafRateLimit: parseRateLimit(b),
    originSecretVersionId: b.str(
      'origin_secret_version_id',
      /^[A-Za-z0-9-]{32,64}$/,
      'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    ),
    accessLogs: b.bool('access_logs', true),
    accessLogRetentionDays: b.int('access_log_retention_days', DEFAULT_ACCESS_LOG_RETENTION_DAYS, 1, 3653),
  };
}

function parseRateLimit(b: ConfigReader): number {
  const n = b.int('waf_rate_limit', DEFAULT_RATE_LIMIT, 0, MAX_RATE_LIMIT);
  if (n !== 0 && n < MIN_RATE_LIMIT) {
    throw new ConfigError(
      b.key('waf_rate_limit'),
      `must be 0 (no web ACL) or at least ${MIN_RATE_LIMIT}, WAF's smallest rate limit (got ${n})`,
    );
  }
  return n;
}

/**
 * A web ACL for CloudFront can only be created in us-east-1. The stack's region is known when
 * `deploy.region` is set, or from the CDK CLI (`CDK_DEFAULT_REGION`, where an environment-agnostic
 * stack is deployed): another region is refused at synth, not at deploy.
 */
function checkWebAclRegion(d: DeployOptions, cliRegion: string | undefined): void {
  const cf = d.cloudfront;
  const region = d.region ?? cliRegion;
  if (!cf || cf.webAclArn || cf.wafRateLimit === 0 || !region || region === 'us-east-1') return;
  throw new ConfigError(
    'deploy.cloudfront.waf_rate_limit',
    `creates a web ACL, which CloudFront needs in us-east-1, but the stack deploys to ${region}: set \`deploy.region: us-east-1\`, or \`deploy.cloudfront.web_acl_arn\` to a web ACL created in us-east-1 (docs/deploy.md §6 shows its rule), or \`waf_rate_limit: 0\` for none`,
  );
}

function parseCognito(b: ConfigReader | undefined): CognitoCreateOptions {
  const scopes = b?.list('scopes', [], /^[\x21\x23-\x2e\x30-\x5b\x5d-\x7e]{1,256}$/, 'tools') ?? [];
  return {
    domainPrefix: b?.str('domain_prefix', /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'acme-mcp-auth'),
    resourceServerIdentifier:
      b?.str('resource_server_identifier', /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/, 'mcp') ?? 'mcp',
    scopes: scopes.length ? scopes : ['tools'],
    mfa: oneOf(b, 'mfa', ['required', 'optional'] as const),
    featurePlan: oneOf(b, 'feature_plan', ['essentials', 'plus'] as const),
    threatProtection: oneOf(b, 'threat_protection', ['enforced', 'audit'] as const),
    deletionProtection: b?.bool('deletion_protection', true) ?? true,
  };
}

/** Parse the `deploy:` block (absent = all defaults). */
export function parseDeployOptions(raw: RawConfig): DeployOptions {
  const v = raw.deploy;
  if (v !== undefined && v !== null && !isObject(v)) throw new ConfigError('deploy', 'must be a mapping');
  if (isObject(v)) checkKnownKeys(v, DEPLOY_KEYS, 'deploy');
  const d = new ConfigReader(isObject(v) ? v : {}, 'deploy');
  const runtime = d.str('runtime') ?? 'nodejs22.x';
  if (!RUNTIMES.includes(runtime as RuntimeName)) {
    throw new ConfigError('deploy.runtime', `must be one of ${RUNTIMES.join(', ')} (got "${runtime}")`);
  }
  const retention = d.int('log_retention_days', 30, 1, 3653);
  if (!RETENTION_DAYS.includes(retention)) {
    throw new ConfigError(
      'deploy.log_retention_days',
      `must be one of ${RETENTION_DAYS.join(', ')} (got ${retention})`,
    );
  }
  const proxy = d.optObj('proxy');
  const discovery = d.optObj('discovery');
  const vpc = d.optObj('vpc');
  const cloudfront = d.optObj('cloudfront');
  return {
    stackName: d.str('stack_name', /^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'McpAuthProxy') ?? 'McpAuthProxy',
    account: d.str('account', /^\d{12}$/, '123456789012'),
    region: d.str('region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'eu-west-1'),
    runtime: runtime as RuntimeName,
    proxy: {
      memoryMb: proxy?.int('memory_mb', 512, 128, 10240) ?? 512,
      timeoutSeconds: proxy?.int('timeout_seconds', undefined, 1, 900),
      reservedConcurrency: parseReservation(proxy),
    },
    discovery: {
      memoryMb: discovery?.int('memory_mb', 256, 128, 10240) ?? 256,
      timeoutSeconds: discovery?.int('timeout_seconds', 15, 1, 900) ?? 15,
      reservedConcurrency: parseReservation(discovery),
    },
    logRetentionDays: retention,
    ...parseVisibility(d),
    ssmKmsKeyArn: d.str(
      'ssm_kms_key_arn',
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/,
      'arn:aws:kms:eu-west-1:123456789012:key/…',
    ),
    vpc: vpc ? parseVpc(vpc) : undefined,
    cloudfront: cloudfront ? parseCloudFront(cloudfront) : undefined,
    cognito: parseCognito(d.optObj('cognito')),
    clientName: d.str('client_name', /^[A-Za-z0-9_.-]{1,64}$/, 'my-mcp-server') ?? 'mcp-auth-proxy',
  };
}

/**
 * The rules of the `deploy:` block that depend on the rest of the config, with the config's own
 * deployment rules, in YAML key names and in the order `cdk synth` reports them.
 */
export function validateDeployOptions(raw: RawConfig, d: DeployOptions): void {
  const deployed = resolveDeployedConfig(raw, d.cloudfront && `https://${d.cloudfront.domainName}`);
  const { config } = deployed;
  if (deployed.createPool && !d.cognito.domainPrefix) {
    throw new ConfigError(
      'deploy.cognito.domain_prefix',
      'is required to create a Cognito user pool (`cognito.user_pool_id` is not set): a prefix unique in the region, like "acme-mcp-auth"',
    );
  }
  checkStreamBound(config);
  const maxStream = config.stream.maxDurationSeconds;
  const proxyTimeout = d.proxy.timeoutSeconds ?? defaultProxyTimeoutSeconds(config);
  if (proxyTimeout < maxStream + STREAM_MARGIN_SECONDS) {
    throw new ConfigError(
      'deploy.proxy.timeout_seconds',
      `must be at least ${maxStream + STREAM_MARGIN_SECONDS}: \`stream.max_duration_seconds\` is ${maxStream} and streams must end before Lambda stops the function (got ${proxyTimeout})`,
    );
  }
  const heartbeat = config.stream.heartbeatSeconds;
  const readTimeout = d.cloudfront?.originReadTimeoutSeconds;
  if (readTimeout !== undefined && (heartbeat === 0 || heartbeat >= readTimeout)) {
    throw new ConfigError(
      'stream.heartbeat_seconds',
      `must be between 1 and ${readTimeout - 1} behind CloudFront (origin read timeout ${readTimeout} s), or idle SSE streams are cut (got ${heartbeat})`,
    );
  }
  checkWebAclRegion(d, process.env.CDK_DEFAULT_REGION);
  checkDeployedConfigFits(deployed);
}
