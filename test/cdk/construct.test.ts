/**
 * The reusable construct on its own: `McpAuthProxy` with props (no YAML, no `deploy:` block) in a
 * bare `Stack`. Minimal props, VPC props, a created pool, CloudFront, and bad props, whose errors
 * name the prop (the YAML layer's messages in YAML key names are pinned in config-errors.test.ts).
 */
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../functions/shared/config/index.ts';
import type { RawConfig } from '../../lib/config-source.ts';
import { McpAuthProxy, type McpAuthProxyProps, McpAuthProxyPropsError } from '../../lib/mcp-auth-proxy.ts';
import { BASE, evaluate, resource } from './helpers.ts';

const PROXY_URL = 'https://p2m7q4xkz3c5vtr6wbn8yd9fhj2ls4gu.lambda-url.eu-west-1.on.aws/';
const DISCOVERY_URL = 'https://d7k3r9v2x5m8q4t6w1z0n3b5c8f2h6ja.lambda-url.eu-west-1.on.aws/';
const PROXY_ORIGIN = PROXY_URL.slice(0, -1);
const DISCOVERY_ORIGIN = DISCOVERY_URL.slice(0, -1);
const ATTRS = {
  'AWS::Region': 'eu-west-1',
  McpProxyFunctionFunctionUrl: PROXY_URL,
  McpDiscoveryFunctionFunctionUrl: DISCOVERY_URL,
  McpUserPoolDomain: 'acme-mcp-auth',
  McpUserPool: 'eu-west-1_Created1',
};
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const COGNITO_TO_CREATE: RawConfig = { provider: 'cognito', base_url: 'https://mcp.internal.example.com' };

/** A stack without bundling (templates only) and without the YAML layer. */
const bareStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');

function synth(props: (stack: Stack) => McpAuthProxyProps) {
  const stack = bareStack();
  const proxy = new McpAuthProxy(stack, 'Mcp', props(stack));
  return { stack, proxy, t: Template.fromStack(stack) };
}

const fnProps = (t: Template, which: 'Proxy' | 'Discovery') =>
  resource(t, 'AWS::Lambda::Function', `Mcp${which}Function`).props;
const resolved = (stack: Stack, v: unknown) => evaluate(stack.resolve(v), ATTRS);
const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as CfnFunction);

describe('minimal props (a config, nothing else)', () => {
  const { stack, proxy, t } = synth(() => ({ config: BASE }));

  it('creates both functions with their defaults, two URLs and no outputs', () => {
    expect(fnProps(t, 'Proxy')).toMatchObject({ Runtime: 'nodejs22.x', MemorySize: 512, Timeout: 870 });
    expect(fnProps(t, 'Discovery')).toMatchObject({ Runtime: 'nodejs22.x', MemorySize: 256, Timeout: 15 });
    for (const which of ['Proxy', 'Discovery'] as const) {
      expect(fnProps(t, which).VpcConfig).toBeUndefined();
    }
    expect(fnProps(t, 'Proxy').ReservedConcurrentExecutions).toBe(50);
    expect(fnProps(t, 'Discovery').ReservedConcurrentExecutions).toBe(10);
    t.resourceCountIs('AWS::Lambda::Url', 2);
    t.resourceCountIs('AWS::Logs::LogGroup', 2);
    expect(t.toJSON().Outputs).toBeUndefined();
  });

  it('exposes the functions, URLs and endpoints as properties', () => {
    expect(logicalId(stack, proxy.proxyFunction)).toBe(
      resource(t, 'AWS::Lambda::Function', 'McpProxyFunction').id,
    );
    expect(logicalId(stack, proxy.discoveryFunction)).toBe(
      resource(t, 'AWS::Lambda::Function', 'McpDiscoveryFunction').id,
    );
    expect(resolved(stack, proxy.proxyFunctionUrl.url)).toBe(PROXY_URL);
    expect(resolved(stack, proxy.discoveryFunctionUrl.url)).toBe(DISCOVERY_URL);
    expect(resolved(stack, proxy.proxyOrigin)).toBe(PROXY_ORIGIN);
    expect(resolved(stack, proxy.discoveryOrigin)).toBe(DISCOVERY_ORIGIN);
    expect(resolved(stack, proxy.mcpEndpoint)).toBe(`${PROXY_ORIGIN}/mcp`);
    expect(resolved(stack, proxy.sseEndpoint)).toBe(`${PROXY_ORIGIN}/sse`);
    expect(resolved(stack, proxy.protectedResourceMetadataUrl)).toBe(
      `${PROXY_ORIGIN}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(proxy.config.provider).toBe('oidc');
    for (const absent of [
      proxy.userPool,
      proxy.userPoolDomain,
      proxy.distribution,
      proxy.proxySecurityGroup,
      proxy.discoverySecurityGroup,
    ]) {
      expect(absent).toBeUndefined();
    }
  });

  it('gives the proxy the discovery origin as its authorization server', () => {
    const env = evaluate(
      (fnProps(t, 'Proxy').Environment as { Variables: unknown }).Variables,
      ATTRS,
    ) as Record<string, string>;
    expect(JSON.parse(env.MCP_AUTH_PROXY_CONFIG!)).toEqual({
      ...BASE,
      discovery: {
        signing_key_ssm_parameter: expect.stringMatching(
          /^\/aws\/reference\/secretsmanager\/mcp-auth-proxy\//,
        ),
      },
      proxy_secret_ssm_parameter: expect.stringMatching(
        /^\/aws\/reference\/secretsmanager\/mcp-auth-proxy\/.+\/proxy-secret$/,
      ),
    });
    expect(env.AUTHORIZATION_SERVER_URL).toBe(DISCOVERY_ORIGIN);
  });

  it('accepts unresolved numbers (CloudFormation parameters) without judging them', () => {
    const { t: withParam } = synth((s) => ({
      config: BASE,
      proxyMemorySize: new CfnParameter(s, 'ProxyMemory', { type: 'Number' }).valueAsNumber,
    }));
    expect(fnProps(withParam, 'Proxy').MemorySize).toEqual({ Ref: 'ProxyMemory' });
  });
});

describe('VPC props', () => {
  const vpcProps = (stack: Stack): McpAuthProxyProps => {
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'App', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    return { config: BASE, vpc, discoveryInVpc: true, ssmInterfaceEndpoint: true };
  };

  it('attaches both functions to the private subnets with egress, each with its security group, and opens an SSM endpoint to the functions that read parameters', () => {
    const { stack, proxy, t } = synth(vpcProps);
    const vpc = (proxy.node.scope as Stack).node.findChild('Vpc') as ec2.Vpc;
    const subnetIds = stack.resolve(vpc.privateSubnets.map((s) => s.subnetId));
    const sg = (g: ec2.SecurityGroup | undefined) => stack.resolve(g!.securityGroupId);
    expect(fnProps(t, 'Proxy').VpcConfig).toEqual({
      SubnetIds: subnetIds,
      SecurityGroupIds: [sg(proxy.proxySecurityGroup)],
    });
    expect(fnProps(t, 'Discovery').VpcConfig).toEqual({
      SubnetIds: subnetIds,
      SecurityGroupIds: [sg(proxy.discoverySecurityGroup)],
    });
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      SourceSecurityGroupId: sg(proxy.discoverySecurityGroup),
    });
  });

  it('uses the given subnets', () => {
    const { stack, proxy, t } = synth((s) => ({
      ...vpcProps(s),
      ssmInterfaceEndpoint: false,
      vpcSubnets: { subnetGroupName: 'Isolated' },
    }));
    const vpc = (proxy.node.scope as Stack).node.findChild('Vpc') as ec2.Vpc;
    const isolated = stack.resolve(vpc.isolatedSubnets.map((s) => s.subnetId));
    expect((fnProps(t, 'Proxy').VpcConfig as { SubnetIds: unknown }).SubnetIds).toEqual(isolated);
    expect((fnProps(t, 'Discovery').VpcConfig as { SubnetIds: unknown }).SubnetIds).toEqual(isolated);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('Cognito and CloudFront props', () => {
  it('creates a user pool with the given resource server scopes and exposes it', () => {
    const { stack, proxy, t } = synth(() => ({
      config: COGNITO_TO_CREATE,
      cognitoUserPool: { domainPrefix: 'acme-mcp-auth', resourceServerIdentifier: 'api', scopes: ['read'] },
    }));
    expect(logicalId(stack, proxy.userPool!)).toBe(resource(t, 'AWS::Cognito::UserPool', 'McpUserPool').id);
    expect(resolved(stack, proxy.userPoolDomain!.baseUrl())).toBe(
      'https://acme-mcp-auth.auth.eu-west-1.amazoncognito.com',
    );
    const env = evaluate((fnProps(t, 'Discovery').Environment as { Variables: unknown }).Variables, ATTRS);
    expect(configFromEnv(env as Record<string, string>).cognito?.scopes).toEqual(['api/read']);
  });

  it('puts a distribution in front and makes its domain the public origin of both functions', () => {
    const { proxy, t } = synth((s) => ({
      config: BASE,
      cloudFront: {
        domainName: 'mcp.example.com',
        certificate: Certificate.fromCertificateArn(s, 'Certificate', CERTIFICATE_ARN),
      },
    }));
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    expect(proxy.distribution).toBeDefined();
    expect(proxy.mcpEndpoint).toBe('https://mcp.example.com/mcp');
    expect(proxy.discoveryOrigin).toBe('https://mcp.example.com');
    expect(proxy.config.proxyBaseUrl).toBe('https://mcp.example.com');
  });
});

describe('bad props fail before anything is built, naming the prop', () => {
  const vpc = (s: Stack) =>
    ec2.Vpc.fromVpcAttributes(s, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a'],
      privateSubnetIds: ['subnet-0123456789abcdef0'],
    });
  const cloudFront = (s: Stack) => ({
    domainName: 'mcp.example.com',
    certificate: Certificate.fromCertificateArn(s, 'Certificate', CERTIFICATE_ARN),
  });
  const cases: [string, (s: Stack) => McpAuthProxyProps, string][] = [
    [
      'a zero reserved concurrency',
      () => ({ config: BASE, proxyReservedConcurrency: 0 }),
      '`proxyReservedConcurrency` must be a positive integer, or false for no reservation (got 0)',
    ],
    [
      'a fractional reserved concurrency',
      () => ({ config: BASE, discoveryReservedConcurrency: 2.5 }),
      '`discoveryReservedConcurrency` must be a positive integer, or false for no reservation (got 2.5)',
    ],
    [
      'egress ports without a VPC',
      () => ({ config: BASE, proxyEgressPorts: [443] }),
      '`proxyEgressPorts` needs `vpc`',
    ],
    [
      'an egress port out of range',
      (s) => ({ config: BASE, vpc: vpc(s), proxyEgressPorts: [0, 443] }),
      '`proxyEgressPorts` must list TCP ports between 1 and 65535 (got [0,443])',
    ],
    [
      'discovery egress ports without an attached discovery function',
      (s) => ({ config: BASE, vpc: vpc(s), discoveryEgressPorts: [443] }),
      '`discoveryEgressPorts` needs `vpc` and `discoveryInVpc: true`',
    ],
    [
      'a concurrency alarm threshold above 100 %',
      () => ({ config: BASE, alarms: { concurrencyThresholdPercent: 120 } }),
      '`alarms.concurrencyThresholdPercent` must be an integer between 1 and 100 (got 120)',
    ],
    [
      'an alarm e-mail that is not an address',
      () => ({ config: BASE, alarms: { email: 'ops' } }),
      '`alarms.email` must be an e-mail address (got "ops")',
    ],
    [
      'a budget without a positive amount',
      () => ({ config: BASE, budget: { monthlyLimitUsd: 0, email: 'billing@example.com' } }),
      '`budget.monthlyLimitUsd` must be a positive amount (got 0)',
    ],
    [
      'a zero access-log retention',
      (s) => ({ config: BASE, cloudFront: { ...cloudFront(s), accessLogRetentionDays: 0 } }),
      '`cloudFront.accessLogRetentionDays` must be a positive number of days (got 0)',
    ],
    [
      'too little memory',
      () => ({ config: BASE, proxyMemorySize: 64 }),
      '`proxyMemorySize` must be an integer between 128 and 10240 (MB) (got 64)',
    ],
    [
      'a timeout beyond Lambda’s limit',
      () => ({ config: BASE, discoveryTimeout: Duration.minutes(20) }),
      '`discoveryTimeout` must be between 1 and 900 whole seconds (got 20 minutes)',
    ],
    [
      'discovery in a VPC without a VPC',
      () => ({ config: BASE, discoveryInVpc: true }),
      '`discoveryInVpc` needs `vpc`',
    ],
    [
      'subnets without a VPC',
      () => ({ config: BASE, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }),
      '`vpcSubnets` needs `vpc`',
    ],
    [
      'an SSM endpoint for a discovery function outside the VPC',
      (s) => ({ config: BASE, vpc: vpc(s), ssmInterfaceEndpoint: true }),
      '`ssmInterfaceEndpoint` needs `vpc` and `discoveryInVpc: true`: it serves the discovery function in the VPC (and the proxy, for the proxy secret)',
    ],
    [
      'a proxy timeout shorter than the stream bound',
      () => ({ config: BASE, proxyTimeout: Duration.minutes(10) }),
      "`proxyTimeout` must be at least 845 seconds: the config's `stream.max_duration_seconds` is 840 and streams must end before Lambda stops the function (got 600 seconds)",
    ],
    [
      'a pool to create without a domain prefix',
      () => ({ config: COGNITO_TO_CREATE, cognitoUserPool: { scopes: ['tools'] } }),
      '`cognitoUserPool.domainPrefix` is required to create a Cognito user pool (the config has provider "cognito" and no `cognito.user_pool_id`): a prefix unique in the region, like "acme-mcp-auth"',
    ],
    [
      'SSE heartbeats slower than the CloudFront read timeout',
      (s) => ({
        config: BASE,
        cloudFront: { ...cloudFront(s), originReadTimeout: Duration.seconds(20) },
      }),
      '`config.stream.heartbeat_seconds` must be between 1 and 19 behind CloudFront (`cloudFront.originReadTimeout` is 20 seconds), or idle SSE streams are cut (got 25)',
    ],
  ];

  it.each(cases)('%s', (_name, props, problem) => {
    const stack = bareStack();
    let error: unknown;
    try {
      new McpAuthProxy(stack, 'Mcp', props(stack));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(McpAuthProxyPropsError);
    expect((error as Error).message).toBe(`invalid McpAuthProxy props: ${problem}`);
    expect(stack.node.findChild('Mcp').node.children).toHaveLength(0);
  });

  it('lists every bad prop in one error', () => {
    const build = () =>
      new McpAuthProxy(bareStack(), 'Mcp', {
        config: BASE,
        proxyReservedConcurrency: 0,
        discoveryInVpc: true,
      });
    expect(build).toThrow(
      'invalid McpAuthProxy props:\n- `proxyReservedConcurrency` must be a positive integer, or false for no reservation (got 0)\n- `discoveryInVpc` needs `vpc`',
    );
    const error = (() => {
      try {
        build();
      } catch (e) {
        return e as McpAuthProxyPropsError;
      }
    })();
    expect(error?.problems.map((p) => p.prop)).toEqual(['proxyReservedConcurrency', 'discoveryInVpc']);
  });

  it('checks the props alone before the config, whose errors name the config key', () => {
    const badConfig = { ...BASE, default: { base_url: 'idp.example.com' } };
    expect(() => new McpAuthProxy(bareStack(), 'Mcp', { config: badConfig, proxyMemorySize: 1 })).toThrow(
      McpAuthProxyPropsError,
    );
    const build = () => new McpAuthProxy(bareStack(), 'Mcp', { config: badConfig });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(
      'invalid config: `default.base_url` must be an absolute URL (got "idp.example.com")',
    );
  });
});
