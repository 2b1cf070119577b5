/**
 * `McpAuthProxy`: the reusable L3 construct. Two Lambda functions behind Function URLs:
 * - the streaming proxy (OAuth 2.1 resource server, RFC 9728 metadata) — RESPONSE_STREAM;
 * - the discovery/registration function (authorization-server facade) — BUFFERED.
 * Optionally attached to a VPC, fronted by one CloudFront origin, and with a Cognito user pool.
 *
 * The functions receive the raw config as JSON (`MCP_AUTH_PROXY_CONFIG`) and validate it with the
 * same `parseConfig` that runs here at synth, so a bad config fails `cdk synth` with the message
 * the functions would log. Secrets never enter the environment: only SSM parameter names do.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CloudFrontTarget } from 'aws-cdk-lib/aws-route53-targets';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { bindingScopes } from '../functions/proxy/cognito-scopes.ts';
import { CONFIG_ENV, type Config, ConfigError, parseConfig } from '../functions/shared/config/index.ts';
import { isObject } from '../functions/shared/encoding.ts';
import type { RawConfig } from './config-source.ts';

/** Repository root (lib/..): entries, lock file and tsconfig are resolved from here. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Keys whose value is a secret: inline values are for local runs only. */
const SECRET_KEY = /(^|_)secret$|^signing_key$/;
/** Keys naming an SSM SecureString parameter (see `ConfigReader.secret` in functions/shared/config/reader.ts). */
const SSM_KEY = /_ssm_parameter$/;
/** SSM parameter names (same rule as functions/shared/config/reader.ts): no wildcards. */
const SSM_NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
/** Lambda's limit for all environment variables of a function, in bytes. */
const ENV_LIMIT = 4096;
/** Seconds the proxy needs between the end of its stream bound and the Lambda timeout. */
const STREAM_MARGIN_SECONDS = 5;

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

export interface CognitoUserPoolOptions {
  /**
   * Prefix of the hosted UI domain (`<prefix>.auth.<region>.amazoncognito.com`); unique in the
   * region. Required when a pool is created.
   * @default none: construction fails with a ConfigError naming `deploy.cognito.domain_prefix`
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
   * ARN of a global (us-east-1) WAF web ACL to attach.
   * @default no web ACL
   */
  readonly webAclArn?: string;
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
   * Memory of the proxy function (MB).
   * @default 512
   */
  readonly proxyMemorySize?: number;
  /**
   * Timeout of the proxy function; must exceed `stream.max_duration_seconds` by at least 5 s.
   * @default `stream.max_duration_seconds` + 30 s, at most 15 minutes
   */
  readonly proxyTimeout?: Duration;
  /**
   * Reserved concurrency of the proxy function: caps its concurrent executions (each open
   * stream holds one) and reserves them out of the account's regional pool.
   * @default none (unreserved: shares the account's pool; see docs/deploy.md)
   */
  readonly proxyReservedConcurrency?: number;
  /**
   * Reserved concurrency of the discovery function (caps /register and the facade).
   * @default none (unreserved: shares the account's pool; see docs/deploy.md)
   */
  readonly discoveryReservedConcurrency?: number;
  /**
   * Memory of the discovery function (MB).
   * @default 256
   */
  readonly discoveryMemorySize?: number;
  /**
   * Timeout of the discovery function.
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
  /**
   * Name of the server in the `mcpServers` client snippet output.
   * @default 'mcp-auth-proxy'
   */
  readonly clientName?: string;
}

/** `https://host` of a Function URL (whose `url` attribute ends with `/`). */
function originOfUrl(url: string): string {
  return Fn.join('', ['https://', Fn.select(2, Fn.split('/', url))]);
}

/** Every `*_ssm_parameter` value of the raw config, with its key path. */
export function ssmParameterRefs(raw: RawConfig, prefix = ''): { key: string; name: string }[] {
  const out: { key: string; name: string }[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) out.push(...ssmParameterRefs(v, key));
    else if (SSM_KEY.test(k) && v !== undefined && v !== null && v !== '') {
      // The name becomes an IAM resource: never a wildcard or anything outside SSM's name syntax.
      if (typeof v !== 'string' || !SSM_NAME.test(v)) {
        throw new ConfigError(key, `is not a valid SSM parameter name (got ${JSON.stringify(v)})`);
      }
      out.push({ key, name: v });
    }
  }
  return out;
}

function rejectInlineSecrets(raw: RawConfig, prefix = ''): void {
  for (const [k, v] of Object.entries(raw)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v)) rejectInlineSecrets(v, key);
    else if (Array.isArray(v)) {
      // `addQueryParams` / `addBodyParams` entries are {name, value}: a secret there is inline too.
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        if (typeof item.name === 'string' && SECRET_KEY.test(item.name) && item.value) {
          throw new ConfigError(
            `${key}[${i}]`,
            `must not carry the secret "${item.name}" in a deployed config: the functions' environment is not a secret store`,
          );
        }
        rejectInlineSecrets(item, `${key}[${i}]`);
      });
    } else if (SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '') {
      throw new ConfigError(
        key,
        `must not be inline in a deployed config: store it as an SSM SecureString and set \`${key}_ssm_parameter\` to its name`,
      );
    }
  }
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
  /** URL of the Protected Resource Metadata of the Streamable HTTP endpoint (RFC 9728 §3.1). */
  readonly protectedResourceMetadataUrl: string;
  readonly userPool?: cognito.UserPool;
  readonly userPoolDomain?: cognito.UserPoolDomain;
  readonly distribution?: cloudfront.Distribution;
  readonly proxySecurityGroup?: ec2.SecurityGroup;
  readonly discoverySecurityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: McpAuthProxyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { deploy: _deploy, ...userRaw } = structuredClone(props.config);

    // 1. Validate exactly as the functions will (same messages), with placeholders for the values
    //    this construct fills in, then the deployment-only rules.
    const createPool =
      userRaw.provider === 'cognito' && !(isObject(userRaw.cognito) && userRaw.cognito.user_pool_id);
    const validationRaw = structuredClone(userRaw);
    if (createPool) {
      validationRaw.cognito = {
        ...(isObject(userRaw.cognito) ? userRaw.cognito : {}),
        user_pool_id: 'us-east-1_Placeholder',
        domain_url: 'https://placeholder.auth.us-east-1.amazoncognito.com',
      };
    }
    const publicOrigin = props.cloudFront ? `https://${props.cloudFront.domainName}` : undefined;
    if (publicOrigin) {
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
        const current = get(userRaw);
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
        set(userRaw, publicOrigin);
        set(validationRaw, publicOrigin);
      }
    }
    const config = parseConfig(validationRaw);
    this.config = config;
    if (config.provider === 'embedded') {
      throw new ConfigError(
        'provider',
        'must be oidc, asgardeo or cognito to deploy ("embedded" is the local demo IdP of `npm start`)',
      );
    }
    rejectInlineSecrets(userRaw);
    if (config.provider === 'cognito') {
      // Same rule as the proxy's cold start (functions/proxy/cognito-scopes.ts), at synth. A pool
      // created here without `cognito.scopes` gets its resource server's scopes (step 2).
      const poolScopesDefault = createPool && !(isObject(userRaw.cognito) && userRaw.cognito.scopes);
      bindingScopes(
        poolScopesDefault
          ? { token: config.token, cognito: { ...config.cognito!, scopes: ['resource/scope'] } }
          : config,
      );
    }
    if (createPool && !props.cognitoUserPool?.domainPrefix) {
      throw new ConfigError(
        'deploy.cognito.domain_prefix',
        'is required to create a Cognito user pool (`cognito.user_pool_id` is not set): a prefix unique in the region, like "acme-mcp-auth"',
      );
    }
    const maxStream = config.stream.maxDurationSeconds;
    if (maxStream + STREAM_MARGIN_SECONDS > 900) {
      throw new ConfigError(
        'stream.max_duration_seconds',
        `must be at most ${900 - STREAM_MARGIN_SECONDS} to deploy: Lambda stops a function after 900 seconds (got ${maxStream})`,
      );
    }
    const proxyTimeout = props.proxyTimeout ?? Duration.seconds(Math.min(900, maxStream + 30));
    if (proxyTimeout.toSeconds() < maxStream + STREAM_MARGIN_SECONDS) {
      throw new ConfigError(
        'deploy.proxy.timeout_seconds',
        `must be at least ${maxStream + STREAM_MARGIN_SECONDS}: \`stream.max_duration_seconds\` is ${maxStream} and streams must end before Lambda stops the function (got ${proxyTimeout.toSeconds()})`,
      );
    }
    const readTimeout = props.cloudFront?.originReadTimeout ?? Duration.seconds(30);
    if (
      props.cloudFront &&
      (config.stream.heartbeatSeconds === 0 || config.stream.heartbeatSeconds >= readTimeout.toSeconds())
    ) {
      throw new ConfigError(
        'stream.heartbeat_seconds',
        `must be between 1 and ${readTimeout.toSeconds() - 1} behind CloudFront (origin read timeout ${readTimeout.toSeconds()} s), or idle SSE streams are cut (got ${config.stream.heartbeatSeconds})`,
      );
    }
    for (const [key, n] of [
      ['deploy.proxy.reserved_concurrency', props.proxyReservedConcurrency],
      ['deploy.discovery.reserved_concurrency', props.discoveryReservedConcurrency],
    ] as const) {
      if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
        throw new ConfigError(key, `must be a positive integer, or unset for no reservation (got ${n})`);
      }
    }
    if (props.ssmInterfaceEndpoint && !(props.vpc && props.discoveryInVpc)) {
      throw new ConfigError(
        'deploy.vpc.ssm_endpoint',
        'needs `deploy.vpc.attach_discovery: true`: only the discovery function reads SSM',
      );
    }
    if (props.discoveryInVpc && !props.vpc) {
      throw new ConfigError('deploy.vpc.attach_discovery', 'needs `deploy.vpc.id`');
    }
    const envBytes = Buffer.byteLength(JSON.stringify(validationRaw)) + 512;
    if (envBytes > ENV_LIMIT) {
      throw new ConfigError(
        '(root)',
        `is too large for a Lambda environment (about ${envBytes} of ${ENV_LIMIT} bytes as JSON): remove unused keys or shorten path rules`,
      );
    }

    // 2. Cognito user pool (provider cognito without an existing pool).
    let userPoolArn: string | undefined;
    if (config.provider === 'cognito') {
      if (createPool) {
        const opts = props.cognitoUserPool!;
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
          mfa: cognito.Mfa.OPTIONAL,
          mfaSecondFactor: { otp: true, sms: false },
          accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        });
        Validations.of(pool).acknowledge({
          id: 'AwsSolutions-COG8',
          reason:
            'The Plus feature plan (threat protection) is billed per monthly active user; the pool works on Essentials and operators can upgrade it in place.',
        });
        Validations.of(pool).acknowledge({
          id: 'AwsSolutions-COG2',
          reason:
            'TOTP MFA is offered (optional) to every user; requiring it is an operator decision for the hosted sign-in used by MCP clients.',
        });
        const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: opts.domainPrefix! } });
        pool.addResourceServer('ResourceServer', {
          identifier,
          scopes: scopeNames.map(
            (s) => new cognito.ResourceServerScope({ scopeName: s, scopeDescription: `MCP scope ${s}` }),
          ),
        });
        this.userPool = pool;
        this.userPoolDomain = domain;
        userPoolArn = pool.userPoolArn;
        const userCognito = isObject(userRaw.cognito) ? userRaw.cognito : {};
        userRaw.cognito = {
          ...userCognito,
          user_pool_id: pool.userPoolId,
          domain_url: domain.baseUrl(),
          scopes: userCognito.scopes ?? scopeNames.map((s) => `${identifier}/${s}`),
        };
        new CfnOutput(this, 'UserPoolId', {
          value: pool.userPoolId,
          description: 'Cognito user pool (create users in it)',
        });
        new CfnOutput(this, 'UserPoolDomainUrl', {
          value: domain.baseUrl(),
          description: 'Cognito hosted UI',
        });
      } else {
        const c = config.cognito!;
        userPoolArn = stack.formatArn({
          service: 'cognito-idp',
          region: c.region,
          resource: 'userpool',
          resourceName: c.userPoolId,
        });
      }
    }

    // 3. The two functions.
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const configJson = stack.toJsonString(userRaw);
    const subnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    if (props.vpc) {
      this.proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
        vpc: props.vpc,
        description: 'MCP auth proxy function: egress to the upstream MCP server, JWKS and IdP',
        allowAllOutbound: true,
      });
      if (props.discoveryInVpc) {
        this.discoverySecurityGroup = new ec2.SecurityGroup(this, 'DiscoverySecurityGroup', {
          vpc: props.vpc,
          description: 'MCP auth discovery function: egress to the IdP and SSM',
          allowAllOutbound: true,
        });
      }
    }

    this.discoveryFunction = this.makeFunction('DiscoveryFunction', {
      entry: 'functions/discovery/index.ts',
      description: 'MCP auth proxy: OAuth discovery, registration, authorize/token facade',
      runtime,
      memorySize: props.discoveryMemorySize ?? 256,
      timeout: props.discoveryTimeout ?? Duration.seconds(15),
      reservedConcurrency: props.discoveryReservedConcurrency,
      retention,
      bundleAwsSdk: true,
      environment: { [CONFIG_ENV]: configJson },
      vpc: props.discoveryInVpc ? props.vpc : undefined,
      subnets,
      securityGroup: this.discoverySecurityGroup,
    });
    this.discoveryFunctionUrl = this.discoveryFunction.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
      // No Function URL CORS: see NO_URL_CORS.
    });
    this.discoveryOrigin = config.discovery.baseUrl ?? originOfUrl(this.discoveryFunctionUrl.url);

    // The proxy learns the authorization server (the discovery function's origin) from its
    // environment; the discovery function never references the proxy, so there is no cycle.
    const proxyEnv: Record<string, string> = { [CONFIG_ENV]: configJson };
    if (!config.discovery.baseUrl && !config.protectedResourceMetadata.authorizationServers.length) {
      proxyEnv.AUTHORIZATION_SERVER_URL = this.discoveryOrigin;
    }
    this.proxyFunction = this.makeFunction('ProxyFunction', {
      entry: 'functions/proxy/index.ts',
      description: 'MCP auth proxy: OAuth 2.1 resource server streaming to the MCP server',
      runtime,
      memorySize: props.proxyMemorySize ?? 512,
      timeout: proxyTimeout,
      reservedConcurrency: props.proxyReservedConcurrency,
      retention,
      bundleAwsSdk: false,
      environment: proxyEnv,
      vpc: props.vpc,
      subnets,
      securityGroup: this.proxySecurityGroup,
    });
    this.proxyFunctionUrl = this.proxyFunction.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      // No Function URL CORS: see NO_URL_CORS.
    });
    this.proxyOrigin = config.proxyBaseUrl ?? originOfUrl(this.proxyFunctionUrl.url);

    // 4. Secrets: read access for the discovery function only, on exactly the named parameters.
    ssmParameterRefs(userRaw).forEach(({ name }, i) => {
      const param = ssm.StringParameter.fromSecureStringParameterAttributes(this, `SecretParameter${i}`, {
        parameterName: name,
        encryptionKey: props.secretsKey,
      });
      param.grantRead(this.discoveryFunction);
    });
    if (userPoolArn) {
      this.discoveryFunction.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cognito-idp:CreateUserPoolClient'], resources: [userPoolArn] }),
      );
    }

    // 5. VPC extras.
    if (props.vpc && props.ssmInterfaceEndpoint && this.discoverySecurityGroup) {
      const endpointSg = new ec2.SecurityGroup(this, 'SsmEndpointSecurityGroup', {
        vpc: props.vpc,
        description: 'SSM interface endpoint: HTTPS from the discovery function only',
        allowAllOutbound: false,
      });
      endpointSg.addIngressRule(this.discoverySecurityGroup, ec2.Port.tcp(443), 'discovery function to SSM');
      new ec2.InterfaceVpcEndpoint(this, 'SsmEndpoint', {
        vpc: props.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SSM,
        subnets: { ...subnets, onePerAz: true },
        securityGroups: [endpointSg],
        open: false,
        privateDnsEnabled: true,
      });
    }

    // 6. Optional single origin.
    if (props.cloudFront) {
      this.distribution = this.makeDistribution(props.cloudFront, config, readTimeout);
    }

    // 7. Outputs.
    const { streamableHttp, sse } = config.paths;
    this.mcpEndpoint = `${this.proxyOrigin}${streamableHttp}`;
    this.protectedResourceMetadataUrl = `${this.proxyOrigin}/.well-known/oauth-protected-resource${streamableHttp}`;
    new CfnOutput(this, 'McpEndpoint', {
      value: this.mcpEndpoint,
      description: 'MCP endpoint (Streamable HTTP)',
    });
    new CfnOutput(this, 'SseEndpoint', {
      value: `${this.proxyOrigin}${sse}`,
      description: 'MCP endpoint (legacy HTTP+SSE)',
    });
    new CfnOutput(this, 'ProtectedResourceMetadataUrl', {
      value: this.protectedResourceMetadataUrl,
      description: 'OAuth Protected Resource Metadata (RFC 9728)',
    });
    new CfnOutput(this, 'AuthorizationServerUrl', {
      value: this.discoveryOrigin,
      description: 'Authorization server facade (discovery function); its metadata is under /.well-known/',
    });
    new CfnOutput(this, 'ProxyLogGroupName', {
      value: this.proxyFunction.logGroup.logGroupName,
      description: 'aws logs tail <name> --follow',
    });
    new CfnOutput(this, 'DiscoveryLogGroupName', {
      value: this.discoveryFunction.logGroup.logGroupName,
      description: 'aws logs tail <name> --follow',
    });
    new CfnOutput(this, 'ClientConfig', {
      value: stack.toJsonString({
        mcpServers: { [props.clientName ?? 'mcp-auth-proxy']: { url: this.mcpEndpoint } },
      }),
      description: 'Paste into your MCP client configuration',
    });
  }

  private makeFunction(
    id: string,
    o: {
      entry: string;
      description: string;
      runtime: lambda.Runtime;
      memorySize: number;
      timeout: Duration;
      reservedConcurrency?: number;
      retention: logs.RetentionDays;
      bundleAwsSdk: boolean;
      environment: Record<string, string>;
      vpc?: ec2.IVpc;
      subnets: ec2.SubnetSelection;
      securityGroup?: ec2.ISecurityGroup;
    },
  ): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, { retention: o.retention });
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
    const major = /nodejs(\d+)/.exec(o.runtime.name)?.[1] ?? '22';
    const fn = new NodejsFunction(this, id, {
      entry: join(PROJECT_ROOT, o.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: o.description,
      runtime: o.runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize: o.memorySize,
      timeout: o.timeout,
      reservedConcurrentExecutions: o.reservedConcurrency,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      // Stack traces through the minified bundle point at the TypeScript sources.
      environment: { ...o.environment, NODE_OPTIONS: '--enable-source-maps' },
      vpc: o.vpc,
      vpcSubnets: o.vpc ? o.subnets : undefined,
      securityGroups: o.vpc && o.securityGroup ? [o.securityGroup] : undefined,
      bundling: {
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
        bundleAwsSDK: o.bundleAwsSdk,
        // The proxy must not contain the AWS SDK; nothing is left for the runtime to provide.
        externalModules: [],
        tsconfig: join(PROJECT_ROOT, 'tsconfig.json'),
      },
    });
    if (o.runtime.name !== lambda.Runtime.NODEJS_LATEST.name) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: `${o.runtime.name} is the chosen runtime (deploy.runtime; nodejs22.x is supported until 2027-04-30 and is the default until nodejs24.x has been measured); set deploy.runtime: ${lambda.Runtime.NODEJS_LATEST.name} for the latest.`,
      });
    }
    if (o.vpc) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'A VPC-attached function must create and delete its ENIs; the AWS managed AWSLambdaVPCAccessExecutionRole grants exactly those EC2 actions (which only support Resource "*").',
      });
    }
    return fn;
  }

  private makeDistribution(
    cf: McpAuthProxyCloudFrontOptions,
    config: Config,
    readTimeout: Duration,
  ): cloudfront.Distribution {
    const common = {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // The viewer's Host must not reach the origin (Lambda rejects a foreign Host); the functions
      // take their public origin from config (proxy_base_url / discovery.base_url) instead.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      compress: false,
    } as const;
    const proxyOrigin = new FunctionUrlOrigin(this.proxyFunctionUrl, {
      readTimeout,
      keepaliveTimeout: Duration.seconds(5),
    });
    const discoveryOrigin = new FunctionUrlOrigin(this.discoveryFunctionUrl, {
      readTimeout: Duration.seconds(30),
    });
    const proxyBehavior: cloudfront.BehaviorOptions = { origin: proxyOrigin, ...common };
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    for (const p of [
      '/.well-known/oauth-protected-resource',
      config.paths.streamableHttp,
      config.paths.sse,
      config.paths.messages,
    ]) {
      additionalBehaviors[p] = proxyBehavior;
      additionalBehaviors[`${p}/*`] = proxyBehavior;
    }
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `MCP auth proxy ${cf.domainName}`,
      domainNames: [cf.domainName],
      certificate: cf.certificate,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: cf.webAclArn,
      // Everything that is not an MCP path or PRM is the authorization-server facade.
      defaultBehavior: { origin: discoveryOrigin, ...common },
      additionalBehaviors,
    });
    if (cf.hostedZone) {
      const target = route53.RecordTarget.fromAlias(new CloudFrontTarget(distribution));
      new route53.ARecord(this, 'AliasRecord', { zone: cf.hostedZone, recordName: cf.domainName, target });
      new route53.AaaaRecord(this, 'AliasRecordIpv6', {
        zone: cf.hostedZone,
        recordName: cf.domainName,
        target,
      });
    }
    new CfnOutput(this, 'DistributionDomainName', {
      value: distribution.distributionDomainName,
      description: `Point ${cf.domainName} (CNAME or alias) at this CloudFront domain`,
    });
    if (!cf.webAclArn) {
      Validations.of(distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason:
          'WAF is optional (deploy.cloudfront.web_acl_arn): every request is authenticated by the functions and a web ACL has a monthly cost.',
      });
    }
    Validations.of(distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'MCP clients connect from anywhere; access is controlled by OAuth tokens, not geography.',
    });
    Validations.of(distribution).acknowledge({
      id: 'AwsSolutions-CFR3',
      reason:
        'Both functions write structured JSON logs per request to CloudWatch; CloudFront standard logs would need an extra S3 bucket.',
    });
    return distribution;
  }
}
