/**
 * The synthesized template of the stack, per configuration (templates only, no bundling):
 * runtime, architecture, invoke modes, public-URL permissions, environment, exact IAM
 * resources, VPC, Cognito and CloudFront variants, outputs.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../functions/shared/config/index.ts';
import type { RawConfig } from '../../lib/config-source.ts';
import {
  BASE,
  evaluate,
  GENERATED_KEY_PARAMETER,
  GENERATED_PROXY_SECRET_PARAMETER,
  resource,
  template,
} from './helpers.ts';

const PROXY_URL = 'https://p2m7q4xkz3c5vtr6wbn8yd9fhj2ls4gu.lambda-url.eu-west-1.on.aws/';
const DISCOVERY_URL = 'https://d7k3r9v2x5m8q4t6w1z0n3b5c8f2h6ja.lambda-url.eu-west-1.on.aws/';
const ATTRS = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  McpAuthProxyProxyFunctionFunctionUrl: PROXY_URL,
  McpAuthProxyDiscoveryFunctionFunctionUrl: DISCOVERY_URL,
  McpAuthProxyUserPoolDomain: 'acme-mcp-auth',
  McpAuthProxyUserPool: 'eu-west-1_Created1',
  McpAuthProxyDistribution: 'd111111abcdef8.cloudfront.net',
  McpAuthProxyOriginSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:origin-AbCdEf',
  McpAuthProxyProxyFunctionLogGroup: 'McpAuthProxy-ProxyFunctionLogGroup-abc',
  McpAuthProxyDiscoveryFunctionLogGroup: 'McpAuthProxy-DiscoveryFunctionLogGroup-abc',
};

const fn = (t: Template, which: 'Proxy' | 'Discovery') =>
  resource(t, 'AWS::Lambda::Function', `McpAuthProxy${which}Function`);
const env = (t: Template, which: 'Proxy' | 'Discovery') =>
  evaluate(
    (fn(t, which).props.Environment as { Variables: Record<string, unknown> }).Variables,
    ATTRS,
  ) as Record<string, string>;
const policy = (t: Template, which: 'Proxy' | 'Discovery') =>
  resource(t, 'AWS::IAM::Policy', `McpAuthProxy${which}FunctionRoleDefaultPolicy`).props.PolicyDocument as {
    Statement: { Action: string | string[]; Resource: unknown }[];
  };
const outputs = (t: Template) =>
  Object.fromEntries(
    Object.entries(t.toJSON().Outputs as Record<string, { Value: unknown }>).map(([k, v]) => [
      k.replace(/^McpAuthProxy/, '').replace(/[0-9A-F]{8}$/, ''),
      evaluate(v.Value, ATTRS),
    ]),
  );
const withDeploy = (deploy: RawConfig, extra: RawConfig = {}): RawConfig => ({ ...BASE, ...extra, deploy });

const VPC = {
  id: 'vpc-0123456789abcdef0',
  availability_zones: ['eu-west-1a', 'eu-west-1b'],
  private_subnet_ids: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
};
const CLOUDFRONT = {
  domain_name: 'mcp.example.com',
  certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
};

describe('default deployment (oidc, Function URLs only)', () => {
  const t = template(BASE);

  it('runs both functions on arm64 with nodejs22.x, JSON logs, bundled ESM handlers', () => {
    for (const which of ['Proxy', 'Discovery'] as const) {
      expect(fn(t, which).props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' },
      });
      expect(env(t, which).NODE_OPTIONS).toBe('--enable-source-maps');
    }
    expect(fn(t, 'Proxy').props).toMatchObject({ MemorySize: 512, Timeout: 870 });
    expect(fn(t, 'Discovery').props).toMatchObject({ MemorySize: 256, Timeout: 15 });
  });

  it('streams the proxy URL and buffers the discovery URL, both without IAM auth', () => {
    const urls = t.findResources('AWS::Lambda::Url');
    expect(Object.keys(urls)).toHaveLength(2);
    t.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fn(t, 'Proxy').id, 'Arn'] },
    });
    t.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      TargetFunctionArn: { 'Fn::GetAtt': [fn(t, 'Discovery').id, 'Arn'] },
    });
    // No CORS block on the URLs: the functions answer CORS themselves.
    for (const u of Object.values(urls))
      expect((u as { Properties: RawConfig }).Properties.Cors).toBeUndefined();
  });

  it('grants both lambda:InvokeFunctionUrl and lambda:InvokeFunction (via Function URL) to everyone, per function', () => {
    for (const which of ['Proxy', 'Discovery'] as const) {
      const target = { 'Fn::GetAtt': [fn(t, which).id, 'Arn'] };
      t.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunctionUrl',
        FunctionName: target,
        Principal: '*',
        FunctionUrlAuthType: 'NONE',
      });
      t.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: target,
        Principal: '*',
        InvokedViaFunctionUrl: true,
      });
    }
    expect(Object.keys(t.findResources('AWS::Lambda::Permission'))).toHaveLength(4);
  });

  it('passes the raw config (SSM names, no secrets, no deploy block) and the authorization server origin', () => {
    const proxy = env(t, 'Proxy');
    const discovery = env(t, 'Discovery');
    // No signing key named: the generated one (lib/signing-key.ts), by its SSM reference name.
    expect(JSON.parse(proxy.MCP_AUTH_PROXY_CONFIG!)).toEqual({
      ...BASE,
      discovery: { signing_key_ssm_parameter: GENERATED_KEY_PARAMETER },
      // Session binding is on by default: the generated proxy secret (lib/proxy-secret.ts).
      proxy_secret_ssm_parameter: GENERATED_PROXY_SECRET_PARAMETER,
    });
    expect(discovery.MCP_AUTH_PROXY_CONFIG).toBe(proxy.MCP_AUTH_PROXY_CONFIG);
    expect(proxy.AUTHORIZATION_SERVER_URL).toBe(
      'https://d7k3r9v2x5m8q4t6w1z0n3b5c8f2h6ja.lambda-url.eu-west-1.on.aws',
    );
    expect(discovery.AUTHORIZATION_SERVER_URL).toBeUndefined();
    // What the proxy will compute at cold start: PRM lists the discovery origin byte for byte.
    const cfg = configFromEnv(proxy);
    expect(cfg.protectedResourceMetadata.authorizationServers).toEqual([
      'https://d7k3r9v2x5m8q4t6w1z0n3b5c8f2h6ja.lambda-url.eu-west-1.on.aws',
    ]);
  });

  it('lets only the discovery function read exactly the named SSM parameter (GetParameters only, no wildcard, no KMS statement)', () => {
    const d = policy(t, 'Discovery').Statement;
    const ssmStatements = d.filter((s) => [s.Action].flat().some((a) => a.startsWith('ssm:')));
    expect(ssmStatements).toHaveLength(1);
    // Exactly the call the code makes: not GetParameter, DescribeParameters, GetParameterHistory.
    expect(ssmStatements[0]!.Action).toBe('ssm:GetParameters');
    expect(evaluate(ssmStatements[0]!.Resource, ATTRS)).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/oidc/client-secret',
      `arn:aws:ssm:eu-west-1:123456789012:parameter${GENERATED_KEY_PARAMETER}`,
    ]);
    expect(d.some((s) => [s.Action].flat().some((a) => a.startsWith('kms:')))).toBe(false);
    const xray = {
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      Effect: 'Allow',
      Resource: '*',
    };
    const p = policy(t, 'Proxy').Statement;
    expect(p.map((s) => s.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      xray.Action,
      ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      'ssm:GetParameter',
    ]);
    // The proxy reads its own secret's parameter (the extension's GetParameter) and nothing else in SSM.
    expect(evaluate(p[3]!.Resource, ATTRS)).toBe(
      `arn:aws:ssm:eu-west-1:123456789012:parameter${GENERATED_PROXY_SECRET_PARAMETER}`,
    );
    // The only "*": X-Ray's two actions, which have no resource-level permissions.
    for (const which of ['Proxy', 'Discovery'] as const) {
      const wild = policy(t, which).Statement.filter((s) => JSON.stringify(s).includes('*'));
      expect(wild).toEqual([xray]);
    }
    expect(
      t.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: Match.anyValue() } }),
    ).toEqual({});
  });

  it('has no VPC, Cognito or CloudFront resources', () => {
    expect(fn(t, 'Proxy').props.VpcConfig).toBeUndefined();
    expect(fn(t, 'Discovery').props.VpcConfig).toBeUndefined();
    for (const type of [
      'AWS::EC2::SecurityGroup',
      'AWS::EC2::VPCEndpoint',
      'AWS::Cognito::UserPool',
      'AWS::CloudFront::Distribution',
    ]) {
      t.resourceCountIs(type, 0);
    }
  });

  it('outputs the MCP endpoints, PRM URL, authorization server and a client snippet', () => {
    const o = outputs(t);
    const proxy = 'https://p2m7q4xkz3c5vtr6wbn8yd9fhj2ls4gu.lambda-url.eu-west-1.on.aws';
    expect(o.McpEndpoint).toBe(`${proxy}/mcp`);
    expect(o.SseEndpoint).toBe(`${proxy}/sse`);
    expect(o.ProtectedResourceMetadataUrl).toBe(`${proxy}/.well-known/oauth-protected-resource/mcp`);
    expect(o.AuthorizationServerUrl).toBe(
      'https://d7k3r9v2x5m8q4t6w1z0n3b5c8f2h6ja.lambda-url.eu-west-1.on.aws',
    );
    expect(JSON.parse(o.ClientConfig as string)).toEqual({
      mcpServers: { 'mcp-auth-proxy': { url: `${proxy}/mcp` } },
    });
    expect(o.ProxyLogGroupName).toBe('McpAuthProxy-ProxyFunctionLogGroup-abc');
    expect(o.DiscoveryLogGroupName).toBe('McpAuthProxy-DiscoveryFunctionLogGroup-abc');
    expect(Object.keys(o).sort()).toEqual([
      'AuthorizationServerUrl',
      'ClientConfig',
      'DiscoveryLogGroupName',
      'McpEndpoint',
      'ProtectedResourceMetadataUrl',
      'ProxyLogGroupName',
      'SseEndpoint',
    ]);
  });
});

describe('configurable details', () => {
  it('takes runtime, memory, timeouts and retention from deploy', () => {
    const t = template(
      withDeploy(
        {
          runtime: 'nodejs24.x',
          log_retention_days: 7,
          proxy: { memory_mb: 1024, timeout_seconds: 300 },
          discovery: { memory_mb: 512, timeout_seconds: 20 },
        },
        { stream: { max_duration_seconds: 240 } },
      ),
    );
    expect(fn(t, 'Proxy').props).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 1024, Timeout: 300 });
    expect(fn(t, 'Discovery').props).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 512, Timeout: 20 });
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup')) as {
      Properties: { RetentionInDays: number };
    }[];
    expect(groups.map((g) => g.Properties.RetentionInDays)).toEqual([7, 7]);
  });

  it('reserves 50 (proxy) and 10 (discovery) by default, and none when told `none`', () => {
    const t = template(BASE);
    expect(fn(t, 'Proxy').props.ReservedConcurrentExecutions).toBe(50);
    expect(fn(t, 'Discovery').props.ReservedConcurrentExecutions).toBe(10);
    const off = template(
      withDeploy({ proxy: { reserved_concurrency: 'none' }, discovery: { reserved_concurrency: 'none' } }),
    );
    expect(fn(off, 'Proxy').props.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn(off, 'Discovery').props.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('sets reserved concurrency per function from deploy.*.reserved_concurrency', () => {
    const t = template(
      withDeploy({ proxy: { reserved_concurrency: 50 }, discovery: { reserved_concurrency: 5 } }),
    );
    expect(fn(t, 'Proxy').props.ReservedConcurrentExecutions).toBe(50);
    expect(fn(t, 'Discovery').props.ReservedConcurrentExecutions).toBe(5);
    const onlyDiscovery = template(withDeploy({ discovery: { reserved_concurrency: '3' } }));
    expect(fn(onlyDiscovery, 'Proxy').props.ReservedConcurrentExecutions).toBe(50);
    expect(fn(onlyDiscovery, 'Discovery').props.ReservedConcurrentExecutions).toBe(3);
  });

  it('derives the proxy timeout from the stream bound', () => {
    expect(fn(template({ ...BASE, stream: { max_duration_seconds: 60 } }), 'Proxy').props.Timeout).toBe(90);
    expect(fn(template({ ...BASE, stream: { max_duration_seconds: 890 } }), 'Proxy').props.Timeout).toBe(900);
  });

  it('leaves CORS to the functions (which apply cors.*): no Function URL CORS to duplicate their headers', () => {
    const t = template({
      ...BASE,
      cors: { allowed_origins: ['https://app.example.com'], max_age_seconds: 300 },
    });
    const urls = Object.values(t.findResources('AWS::Lambda::Url')) as { Properties: RawConfig }[];
    expect(urls).toHaveLength(2);
    for (const u of urls) expect(u.Properties.Cors).toBeUndefined();
    // The functions get the CORS policy through their config.
    expect(configFromEnv(env(t, 'Proxy')).cors).toMatchObject({
      allowedOrigins: ['https://app.example.com'],
      maxAgeSeconds: 300,
    });
  });

  it('adds kms:Decrypt on exactly the given key, through SSM of the region and for the named parameters only, for the discovery function only', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const t = template(
      withDeploy(
        { ssm_kms_key_arn: key },
        { discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' } },
      ),
    );
    // (The generated proxy secret is not under the customer key: the proxy gets no kms statement.)
    const kms = policy(t, 'Discovery').Statement.filter((s) => s.Action === 'kms:Decrypt');
    expect(kms).toHaveLength(1);
    expect(evaluate(kms[0], ATTRS)).toEqual({
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: key,
      Condition: {
        StringEquals: {
          'kms:ViaService': 'ssm.eu-west-1.amazonaws.com',
          'kms:EncryptionContext:PARAMETER_ARN': [
            'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/oidc/client-secret',
            'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/signing-key',
          ],
        },
      },
    });
    expect(JSON.stringify(policy(t, 'Proxy'))).not.toContain('kms');
  });

  it('grants each SSM parameter of the config by its exact ARN (with or without a leading slash)', () => {
    const t = template({
      provider: 'asgardeo',
      base_url: 'https://mcp.internal.example.com',
      asgardeo: { org_name: 'acme', client_id: 'abc', client_secret_ssm_parameter: 'acme-asgardeo-secret' },
    });
    const ssm = policy(t, 'Discovery').Statement.filter((s) =>
      [s.Action].flat().includes('ssm:GetParameters'),
    );
    expect(ssm.flatMap((s) => [evaluate(s.Resource, ATTRS)].flat())).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/acme-asgardeo-secret',
      `arn:aws:ssm:eu-west-1:123456789012:parameter${GENERATED_KEY_PARAMETER}`,
    ]);
  });

  it("grants the one upstream client's secret (discovery.upstream_client) with the signing key, and refuses it inline", () => {
    const raw = {
      provider: 'oidc',
      base_url: 'https://mcp.internal.example.com',
      default: { base_url: 'https://login.example.com/tenant/v2.0' },
      discovery: {
        signing_key_ssm_parameter: '/mcp-auth/signing-key',
        upstream_client: { client_id: 'app', client_secret_ssm_parameter: '/mcp-auth/upstream-secret' },
      },
    };
    const ssm = policy(template(raw), 'Discovery').Statement.filter((s) =>
      [s.Action].flat().includes('ssm:GetParameters'),
    );
    expect(ssm.flatMap((s) => [evaluate(s.Resource, ATTRS)].flat()).sort()).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/signing-key',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/upstream-secret',
    ]);
    const inline = structuredClone(raw) as { discovery: { upstream_client: Record<string, string> } };
    inline.discovery.upstream_client = { client_id: 'app', client_secret: 'in-clear' };
    expect(() => template(inline)).toThrow(/discovery\.upstream_client\.client_secret/);
  });
});

describe('VPC', () => {
  it('puts only the proxy into the given private subnets with its own security group', () => {
    const t = template(withDeploy({ vpc: VPC }));
    const sgs = t.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(sgs)).toHaveLength(1);
    const [sgId] = Object.keys(sgs);
    expect(fn(t, 'Proxy').props.VpcConfig).toEqual({
      SubnetIds: VPC.private_subnet_ids,
      SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
    });
    expect(sgs[sgId!]).toMatchObject({ Properties: { VpcId: VPC.id } });
    expect(fn(t, 'Discovery').props.VpcConfig).toBeUndefined();
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    // ENI management for the proxy's role only.
    const roles = t.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: Match.anyValue() } });
    expect(Object.keys(roles)).toEqual([expect.stringMatching(/^McpAuthProxyProxyFunctionRole/)]);
  });

  it('attaches discovery too and opens an SSM endpoint to the discovery security group, and to the proxy only for its proxy secret', () => {
    const t = template(withDeploy({ vpc: { ...VPC, attach_discovery: true, ssm_endpoint: true } }));
    const discSg = resource(t, 'AWS::EC2::SecurityGroup', 'McpAuthProxyDiscoverySecurityGroup').id;
    const endpointSg = resource(t, 'AWS::EC2::SecurityGroup', 'McpAuthProxySsmEndpointSecurityGroup').id;
    expect(fn(t, 'Discovery').props.VpcConfig).toEqual({
      SubnetIds: VPC.private_subnet_ids,
      SecurityGroupIds: [{ 'Fn::GetAtt': [discSg, 'GroupId'] }],
    });
    const ep = resource(t, 'AWS::EC2::VPCEndpoint', 'McpAuthProxySsmEndpoint').props;
    expect(evaluate(ep.ServiceName, ATTRS)).toBe('com.amazonaws.eu-west-1.ssm');
    expect(ep).toMatchObject({
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      VpcId: VPC.id,
      SubnetIds: VPC.private_subnet_ids,
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      GroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [discSg, 'GroupId'] },
    });
    // Session binding is on by default: the proxy reads the generated proxy secret through SSM.
    const proxySg = resource(t, 'AWS::EC2::SecurityGroup', 'McpAuthProxyProxySecurityGroup').id;
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      GroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [proxySg, 'GroupId'] },
    });
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    // Without the binding and the identity JWT, the proxy reads no parameter and gets no way in.
    const off = template(
      withDeploy(
        { vpc: { ...VPC, attach_discovery: true, ssm_endpoint: true } },
        { session_binding: { enabled: false } },
      ),
    );
    off.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
  });

  it('looks the VPC up when asked (explicit account and region)', () => {
    const t = template(
      withDeploy({ account: '123456789012', region: 'eu-west-1', vpc: { id: VPC.id, lookup: true } }),
    );
    const vpcConfig = fn(t, 'Proxy').props.VpcConfig as { SubnetIds: string[] };
    expect(vpcConfig.SubnetIds.length).toBeGreaterThan(0);
  });
});

describe('Cognito', () => {
  it('creates a pool, domain, resource server and scopes when no pool is given', () => {
    const t = template(
      withDeploy(
        { cognito: { domain_prefix: 'acme-mcp-auth', scopes: ['tools', 'admin'] } },
        { provider: 'cognito', default: undefined },
      ),
    );
    t.resourceCountIs('AWS::Cognito::UserPool', 1);
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-mcp-auth' });
    t.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'mcp',
      Scopes: [
        { ScopeName: 'tools', ScopeDescription: 'MCP scope tools' },
        { ScopeName: 'admin', ScopeDescription: 'MCP scope admin' },
      ],
    });
    const pool = resource(t, 'AWS::Cognito::UserPool', 'McpAuthProxyUserPool').id;
    expect(policy(t, 'Discovery').Statement).toContainEqual({
      Action: 'cognito-idp:CreateUserPoolClient',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [pool, 'Arn'] },
    });
    expect(JSON.stringify(policy(t, 'Proxy'))).not.toContain('cognito');
    const cfg = configFromEnv(env(t, 'Proxy'));
    expect(cfg.cognito).toMatchObject({
      userPoolId: 'eu-west-1_Created1',
      region: 'eu-west-1',
      domainUrl: 'https://acme-mcp-auth.auth.eu-west-1.amazoncognito.com',
      scopes: ['mcp/tools', 'mcp/admin'],
    });
    expect(cfg.token.issuer).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Created1');
  });

  it('uses an existing pool without creating one, with CreateUserPoolClient on that pool only', () => {
    const t = template({
      provider: 'cognito',
      base_url: 'https://mcp.internal.example.com',
      cognito: {
        user_pool_id: 'us-east-2_AbC123',
        domain_url: 'https://acme.auth.us-east-2.amazoncognito.com',
        scopes: ['mcp/tools'],
      },
    });
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
    const stmt = policy(t, 'Discovery').Statement.find(
      (s) => s.Action === 'cognito-idp:CreateUserPoolClient',
    );
    expect(evaluate(stmt?.Resource, ATTRS)).toBe(
      'arn:aws:cognito-idp:us-east-2:123456789012:userpool/us-east-2_AbC123',
    );
  });
});

describe('CloudFront single origin', () => {
  const t = template(
    withDeploy({
      cloudfront: { ...CLOUDFRONT, hosted_zone_id: 'Z0123456789ABCDEFGHIJ', hosted_zone_name: 'example.com' },
    }),
  );
  const dist = () =>
    resource(t, 'AWS::CloudFront::Distribution', 'McpAuthProxyDistribution').props.DistributionConfig as {
      Aliases: string[];
      Origins: { Id: string; DomainName: unknown; CustomOriginConfig: RawConfig }[];
      DefaultCacheBehavior: { TargetOriginId: string; AllowedMethods: string[] };
      CacheBehaviors: {
        PathPattern: string;
        TargetOriginId: string;
        ViewerProtocolPolicy: string;
        OriginRequestPolicyId: string;
      }[];
      ViewerCertificate: RawConfig;
    };
  const originHost = (id: string) => evaluate(dist().Origins.find((o) => o.Id === id)?.DomainName, ATTRS);

  it('routes MCP paths and PRM to the proxy URL and everything else to the discovery URL', () => {
    const d = dist();
    expect(d.Aliases).toEqual(['mcp.example.com']);
    expect(d.ViewerCertificate).toMatchObject({
      AcmCertificateArn: CLOUDFRONT.certificate_arn,
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    expect(originHost(d.DefaultCacheBehavior.TargetOriginId)).toBe(
      'd7k3r9v2x5m8q4t6w1z0n3b5c8f2h6ja.lambda-url.eu-west-1.on.aws',
    );
    expect(d.DefaultCacheBehavior.AllowedMethods).toHaveLength(7);
    const routes = Object.fromEntries(
      d.CacheBehaviors.map((b) => [b.PathPattern, originHost(b.TargetOriginId)]),
    );
    const proxyHost = 'p2m7q4xkz3c5vtr6wbn8yd9fhj2ls4gu.lambda-url.eu-west-1.on.aws';
    expect(routes).toEqual({
      '/.well-known/oauth-protected-resource': proxyHost,
      '/.well-known/oauth-protected-resource/*': proxyHost,
      '/mcp': proxyHost,
      '/mcp/*': proxyHost,
      '/sse': proxyHost,
      '/sse/*': proxyHost,
      '/messages': proxyHost,
      '/messages/*': proxyHost,
    });
    for (const b of d.CacheBehaviors) {
      expect(b.ViewerProtocolPolicy).toBe('https-only');
      // AllViewerExceptHostHeader: the viewer Host never reaches the Function URL.
      expect(b.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
    }
    for (const o of d.Origins)
      expect(o.CustomOriginConfig).toMatchObject({
        OriginReadTimeout: 30,
        OriginProtocolPolicy: 'https-only',
      });
  });

  it('tells the functions their public origin through config, not a header', () => {
    for (const which of ['Proxy', 'Discovery'] as const) {
      const e = env(t, which);
      expect(JSON.parse(e.MCP_AUTH_PROXY_CONFIG!)).toMatchObject({
        proxy_base_url: 'https://mcp.example.com',
        discovery: { base_url: 'https://mcp.example.com' },
      });
      expect(e.AUTHORIZATION_SERVER_URL).toBeUndefined();
    }
    expect(configFromEnv(env(t, 'Proxy')).protectedResourceMetadata.authorizationServers).toEqual([]);
  });

  it('creates alias records and outputs the public URLs', () => {
    t.resourceCountIs('AWS::Route53::RecordSet', 2);
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'mcp.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
    });
    t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'mcp.example.com.', Type: 'AAAA' });
    const o = outputs(t);
    expect(o.McpEndpoint).toBe('https://mcp.example.com/mcp');
    expect(o.ProtectedResourceMetadataUrl).toBe(
      'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    );
    expect(o.AuthorizationServerUrl).toBe('https://mcp.example.com');
    expect(o.DistributionDomainName).toBe('d111111abcdef8.cloudfront.net');
  });
});

describe('stack outputs', () => {
  it('keep the logical ids they had when the construct created them (the stack creates them in its scope)', () => {
    const t = template(
      withDeploy(
        { cognito: { domain_prefix: 'acme-mcp-auth' }, cloudfront: CLOUDFRONT, client_name: 'mine' },
        { provider: 'cognito', default: undefined },
      ),
    );
    const all = t.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
    expect(Object.keys(all)).toEqual([
      'McpAuthProxyUserPoolIdB0AF4200',
      'McpAuthProxyUserPoolDomainUrl0F5D67A1',
      'McpAuthProxyDistributionDomainName24C4CE49',
      'McpAuthProxyMcpEndpoint1EB19065',
      'McpAuthProxySseEndpoint613E1ECE',
      'McpAuthProxyProtectedResourceMetadataUrl1B6BAD11',
      'McpAuthProxyAuthorizationServerUrl4F957E54',
      'McpAuthProxyProxyLogGroupName5934AA5B',
      'McpAuthProxyDiscoveryLogGroupName98FE04BF',
      'McpAuthProxyClientConfig91C3B874',
    ]);
    const o = outputs(t);
    expect(o.UserPoolId).toBe('eu-west-1_Created1');
    expect(o.UserPoolDomainUrl).toBe('https://acme-mcp-auth.auth.eu-west-1.amazoncognito.com');
    expect(all.McpAuthProxyDistributionDomainName24C4CE49!.Description).toBe(
      'Point mcp.example.com (CNAME or alias) at this CloudFront domain',
    );
    expect(JSON.parse(o.ClientConfig as string)).toEqual({
      mcpServers: { mine: { url: 'https://mcp.example.com/mcp' } },
    });
  });
});
