/**
 * Issue 13's defaults in the template, and each opt-out: reserved concurrency, alarms and their
 * target, the budget, X-Ray, the log key, VPC egress and the SSM endpoint policy, CloudFront
 * access logs; the four cdk-nag packs on everything turned on and everything turned off.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/shared/config/index.ts';
import type { RawConfig } from '../../lib/config-source.ts';
import { BASE, build, evaluate, resource, template } from './helpers.ts';

const ATTRS = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '123456789012' };
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';
const VPC = {
  id: 'vpc-0123456789abcdef0',
  availability_zones: ['eu-west-1a', 'eu-west-1b'],
  private_subnet_ids: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
};
const CLOUDFRONT = {
  domain_name: 'mcp.example.com',
  certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
};
const withDeploy = (deploy: RawConfig, extra: RawConfig = {}): RawConfig => ({ ...BASE, ...extra, deploy });

const fn = (t: Template, which: 'Proxy' | 'Discovery') =>
  resource(t, 'AWS::Lambda::Function', `McpAuthProxy${which}Function`);
type Alarm = { Properties: Record<string, unknown> };
const alarms = (t: Template) =>
  Object.fromEntries(
    Object.entries(t.findResources('AWS::CloudWatch::Alarm') as Record<string, Alarm>).map(([id, a]) => [
      id.replace(/^McpAuthProxy/, '').replace(/[0-9A-F]{8}$/, ''),
      a.Properties,
    ]),
  );
const egress = (t: Template, prefix: string) =>
  resource(t, 'AWS::EC2::SecurityGroup', prefix).props.SecurityGroupEgress as Record<string, unknown>[];
const synthErrorOf = (raw: RawConfig) => {
  try {
    template(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return 'no error';
};

describe('denial of wallet: reserved concurrency and alarms by default', () => {
  const t = template(BASE);

  it('caps the proxy at 50 and discovery at 10 concurrent executions', () => {
    expect(fn(t, 'Proxy').props.ReservedConcurrentExecutions).toBe(50);
    expect(fn(t, 'Discovery').props.ReservedConcurrentExecutions).toBe(10);
  });

  it('alarms per function on concurrency at 80 % of the cap, on any error and any throttle, without a target', () => {
    const a = alarms(t);
    expect(Object.keys(a).sort()).toEqual([
      'DiscoveryConcurrencyAlarm',
      'DiscoveryErrorsAlarm',
      'DiscoveryThrottlesAlarm',
      'ProxyConcurrencyAlarm',
      'ProxyErrorsAlarm',
      'ProxyThrottlesAlarm',
    ]);
    const common = {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      Namespace: 'AWS/Lambda',
      Period: 300,
      TreatMissingData: 'notBreaching',
    };
    for (const which of ['Proxy', 'Discovery'] as const) {
      const dims = [{ Name: 'FunctionName', Value: { Ref: fn(t, which).id } }];
      expect(a[`${which}ConcurrencyAlarm`]).toMatchObject({
        ...common,
        Dimensions: dims,
        MetricName: 'ConcurrentExecutions',
        Statistic: 'Maximum',
        Threshold: which === 'Proxy' ? 40 : 8,
      });
      for (const [metric, id] of [
        ['Errors', `${which}ErrorsAlarm`],
        ['Throttles', `${which}ThrottlesAlarm`],
      ]) {
        expect(a[id!]).toMatchObject({
          ...common,
          Dimensions: dims,
          MetricName: metric,
          Statistic: 'Sum',
          Threshold: 1,
        });
      }
    }
    for (const p of Object.values(a)) {
      expect(p.AlarmActions).toBeUndefined();
      expect(p.OKActions).toBeUndefined();
    }
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.resourceCountIs('AWS::Budgets::Budget', 0);
  });

  it('takes the caps and the threshold from deploy, and drops the concurrency alarm of an unreserved function', () => {
    const t2 = template(
      withDeploy({
        proxy: { reserved_concurrency: 200 },
        discovery: { reserved_concurrency: 'none' },
        alarms: { concurrency_threshold_percent: 90 },
      }),
    );
    expect(fn(t2, 'Proxy').props.ReservedConcurrentExecutions).toBe(200);
    expect(fn(t2, 'Discovery').props.ReservedConcurrentExecutions).toBeUndefined();
    const a = alarms(t2);
    expect(a.ProxyConcurrencyAlarm).toMatchObject({ Threshold: 180 });
    expect(a.DiscoveryConcurrencyAlarm).toBeUndefined();
    expect(a.DiscoveryThrottlesAlarm).toBeDefined();
    expect(a.DiscoveryErrorsAlarm).toBeDefined();
  });

  it('notifies a topic created for deploy.alarms.email (TLS only), on ALARM and OK', () => {
    const t2 = template(withDeploy({ alarms: { email: 'ops@example.com' } }));
    const topic = resource(t2, 'AWS::SNS::Topic', 'McpAuthProxyAlarmTopic').id;
    t2.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topic },
    });
    t2.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const p of Object.values(alarms(t2))) {
      expect(p.AlarmActions).toEqual([{ Ref: topic }]);
      expect(p.OKActions).toEqual([{ Ref: topic }]);
    }
  });

  it('notifies an existing topic (deploy.alarms.sns_topic_arn) without creating one', () => {
    const t2 = template(withDeploy({ alarms: { sns_topic_arn: TOPIC_ARN } }));
    t2.resourceCountIs('AWS::SNS::Topic', 0);
    const a = Object.values(alarms(t2));
    expect(a).toHaveLength(6);
    for (const p of a) expect(p.AlarmActions).toEqual([TOPIC_ARN]);
  });

  it('creates no alarm with deploy.alarms.enabled: false', () => {
    t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template(withDeploy({ alarms: { enabled: false } })).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  it('adds a monthly cost budget only when deploy.budget is set (80 % actual, 100 % forecast)', () => {
    const t2 = template(withDeploy({ budget: { monthly_limit_usd: 150, email: 'billing@example.com' } }));
    const subscribers = [{ Address: 'billing@example.com', SubscriptionType: 'EMAIL' }];
    expect(resource(t2, 'AWS::Budgets::Budget', 'McpAuthProxyBudget').props).toEqual({
      Budget: { BudgetLimit: { Amount: 150, Unit: 'USD' }, BudgetType: 'COST', TimeUnit: 'MONTHLY' },
      NotificationsWithSubscribers: [
        {
          Notification: {
            ComparisonOperator: 'GREATER_THAN',
            NotificationType: 'ACTUAL',
            Threshold: 80,
            ThresholdType: 'PERCENTAGE',
          },
          Subscribers: subscribers,
        },
        {
          Notification: {
            ComparisonOperator: 'GREATER_THAN',
            NotificationType: 'FORECASTED',
            Threshold: 100,
            ThresholdType: 'PERCENTAGE',
          },
          Subscribers: subscribers,
        },
      ],
    });
  });
});

describe('visibility: X-Ray and encrypted log groups by default', () => {
  const t = template(BASE);

  it('traces both functions (X-Ray active) unless deploy.tracing is false', () => {
    for (const which of ['Proxy', 'Discovery'] as const) {
      expect(fn(t, which).props.TracingConfig).toEqual({ Mode: 'Active' });
    }
    const off = template(withDeploy({ tracing: false }));
    for (const which of ['Proxy', 'Discovery'] as const) {
      expect(fn(off, which).props.TracingConfig).toBeUndefined();
    }
    expect(JSON.stringify(off.findResources('AWS::IAM::Policy'))).not.toContain('xray');
  });

  it('encrypts both log groups with a created, rotated key that CloudWatch Logs may use for this stack only', () => {
    const key = resource(t, 'AWS::KMS::Key', 'McpAuthProxyLogKey');
    expect(key.props.EnableKeyRotation).toBe(true);
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup')) as { Properties: RawConfig }[];
    expect(groups.map((g) => g.Properties.KmsKeyId)).toEqual([
      { 'Fn::GetAtt': [key.id, 'Arn'] },
      { 'Fn::GetAtt': [key.id, 'Arn'] },
    ]);
    const statements = (key.props.KeyPolicy as { Statement: RawConfig[] }).Statement;
    const logs = statements.find((s) => s.Sid === 'CloudWatchLogsOfThisStack');
    expect(evaluate(logs, ATTRS)).toEqual({
      Sid: 'CloudWatchLogsOfThisStack',
      Effect: 'Allow',
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn':
            'arn:aws:logs:eu-west-1:123456789012:log-group:McpAuthProxy-*',
        },
      },
    });
    // The other statement is the account's administration of its key (CDK's default key policy).
    expect(statements).toHaveLength(2);
  });

  it('uses a given key (deploy.log_kms_key_arn) without creating one, or none (deploy.log_encryption: false)', () => {
    const given = template(withDeploy({ log_kms_key_arn: KEY_ARN }));
    given.resourceCountIs('AWS::KMS::Key', 0);
    given.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: KEY_ARN });
    const off = template(withDeploy({ log_encryption: false }));
    off.resourceCountIs('AWS::KMS::Key', 0);
    for (const g of Object.values(off.findResources('AWS::Logs::LogGroup')) as { Properties: RawConfig }[]) {
      expect(g.Properties.KmsKeyId).toBeUndefined();
    }
  });
});

describe('VPC egress and the SSM endpoint policy', () => {
  it('lets the proxy reach only the upstream port and 443, discovery only 443 (no all-traffic rule)', () => {
    const t = template(
      withDeploy({ vpc: { ...VPC, attach_discovery: true } }, { base_url: 'http://mcp.internal:8080' }),
    );
    const rule = (port: number, who: string) => ({
      CidrIp: '0.0.0.0/0',
      Description: `${who} function to TCP ${port}`,
      FromPort: port,
      ToPort: port,
      IpProtocol: 'tcp',
    });
    expect(egress(t, 'McpAuthProxyProxySecurityGroup')).toEqual([rule(8080, 'proxy'), rule(443, 'proxy')]);
    expect(egress(t, 'McpAuthProxyDiscoverySecurityGroup')).toEqual([rule(443, 'discovery')]);
    expect(JSON.stringify(t.toJSON())).not.toContain('"IpProtocol":"-1"');
    t.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  it('derives the upstream port from the scheme (https: 443 once, http: 80)', () => {
    const https = template(withDeploy({ vpc: VPC }));
    expect(egress(https, 'McpAuthProxyProxySecurityGroup').map((r) => r.FromPort)).toEqual([443]);
    const http = template(withDeploy({ vpc: VPC }, { base_url: 'http://mcp.internal' }));
    expect(egress(http, 'McpAuthProxyProxySecurityGroup').map((r) => r.FromPort)).toEqual([80, 443]);
  });

  it('takes the ports from deploy.vpc.proxy_egress_ports / discovery_egress_ports', () => {
    const t = template(
      withDeploy({
        vpc: {
          ...VPC,
          attach_discovery: true,
          proxy_egress_ports: [443, 9443],
          discovery_egress_ports: '8443',
        },
      }),
    );
    expect(egress(t, 'McpAuthProxyProxySecurityGroup').map((r) => r.FromPort)).toEqual([443, 9443]);
    expect(egress(t, 'McpAuthProxyDiscoverySecurityGroup').map((r) => r.FromPort)).toEqual([8443]);
  });

  it('gives the SSM endpoint a policy: the discovery role GetParameters on its named parameters, the proxy role GetParameter on the proxy secret, nothing else', () => {
    const t = template(
      withDeploy(
        { vpc: { ...VPC, attach_discovery: true, ssm_endpoint: true } },
        { discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' } },
      ),
    );
    const role = resource(t, 'AWS::IAM::Role', 'McpAuthProxyDiscoveryFunctionRole').id;
    const proxyRole = resource(t, 'AWS::IAM::Role', 'McpAuthProxyProxyFunctionRole').id;
    const ep = resource(t, 'AWS::EC2::VPCEndpoint', 'McpAuthProxySsmEndpoint').props;
    const roleArn = 'arn:aws:iam::123456789012:role/discovery';
    const proxyRoleArn = 'arn:aws:iam::123456789012:role/proxy';
    const doc = evaluate(ep.PolicyDocument, { ...ATTRS, [role]: roleArn, [proxyRole]: proxyRoleArn }) as {
      Statement: { Resource: string | string[] }[];
    };
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: roleArn },
          Action: 'ssm:GetParameters',
          Resource: [
            'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/oidc/client-secret',
            'arn:aws:ssm:eu-west-1:123456789012:parameter/mcp-auth/signing-key',
          ],
        },
        {
          Effect: 'Allow',
          Principal: { AWS: proxyRoleArn },
          Action: 'ssm:GetParameter',
          Resource: expect.stringMatching(
            /^arn:aws:ssm:eu-west-1:123456789012:parameter\/aws\/reference\/secretsmanager\/mcp-auth-proxy\/.+\/proxy-secret$/,
          ),
        },
      ],
    });
    // The proxy may reach the endpoint (443) only because it reads that secret.
    const proxySg = resource(t, 'AWS::EC2::SecurityGroup', 'McpAuthProxyProxySecurityGroup').id;
    const ingress = JSON.stringify(t.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress).toContain(proxySg);
  });

  it('refuses bad port lists and discovery ports without an attached discovery function, naming the key', () => {
    expect(synthErrorOf(withDeploy({ vpc: { ...VPC, proxy_egress_ports: [443, 70000] } }))).toBe(
      'invalid config: `deploy.vpc.proxy_egress_ports` must be a list of TCP ports between 1 and 65535 (got [443,70000])',
    );
    expect(synthErrorOf(withDeploy({ vpc: { ...VPC, proxy_egress_ports: [] } }))).toBe(
      'invalid config: `deploy.vpc.proxy_egress_ports` must be a list of TCP ports between 1 and 65535 (got [])',
    );
    expect(synthErrorOf(withDeploy({ vpc: { ...VPC, discovery_egress_ports: [443] } }))).toBe(
      'invalid config: `deploy.vpc.discovery_egress_ports` needs `deploy.vpc.attach_discovery: true`',
    );
  });
});

describe('CloudFront access logs', () => {
  it('logs to a bucket with SSE-S3, no public access, TLS only and a 90-day expiry by default', () => {
    const t = template(withDeploy({ cloudfront: CLOUDFRONT }));
    const bucket = resource(t, 'AWS::S3::Bucket', 'McpAuthProxyAccessLogBucket');
    expect(bucket.props).toEqual({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: [
          {
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            ExpirationInDays: 90,
            Status: 'Enabled',
          },
        ],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket.id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const dist = resource(t, 'AWS::CloudFront::Distribution', 'McpAuthProxyDistribution').props
      .DistributionConfig as RawConfig;
    expect(dist.Logging).toEqual({ Bucket: { 'Fn::GetAtt': [bucket.id, 'RegionalDomainName'] } });
  });

  it('keeps them deploy.cloudfront.access_log_retention_days, or turns them off', () => {
    const days = template(withDeploy({ cloudfront: { ...CLOUDFRONT, access_log_retention_days: 400 } }));
    expect(resource(days, 'AWS::S3::Bucket', 'McpAuthProxyAccessLogBucket').props).toMatchObject({
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 400 }] },
    });
    const off = template(withDeploy({ cloudfront: { ...CLOUDFRONT, access_logs: false } }));
    off.resourceCountIs('AWS::S3::Bucket', 0);
    const dist = resource(off, 'AWS::CloudFront::Distribution', 'McpAuthProxyDistribution').props
      .DistributionConfig as RawConfig;
    expect(dist.Logging).toBeUndefined();
  });
});

describe('config errors of the new keys name the key', () => {
  it.each([
    [
      { proxy: { reserved_concurrency: 'nope' } },
      '`deploy.proxy.reserved_concurrency` must be an integer between 1 and 100000, or none for no reservation (got "nope")',
    ],
    [
      { alarms: { email: 'ops@example.com', sns_topic_arn: TOPIC_ARN } },
      '`deploy.alarms.email` cannot be combined with `deploy.alarms.sns_topic_arn`: subscribe the address to that topic instead',
    ],
    [{ alarms: { email: 'ops' } }, '`deploy.alarms.email` must look like "ops@example.com" (got "ops")'],
    [
      { alarms: { concurrency_threshold_percent: 0 } },
      '`deploy.alarms.concurrency_threshold_percent` must be an integer between 1 and 100 (got 0)',
    ],
    [
      { budget: { email: 'billing@example.com' } },
      '`deploy.budget.monthly_limit_usd` is required when `deploy.budget` is set (whole US dollars)',
    ],
    [{ budget: { monthly_limit_usd: 100 } }, '`deploy.budget.email` is required when `deploy.budget` is set'],
    [
      { log_encryption: false, log_kms_key_arn: KEY_ARN },
      '`deploy.log_kms_key_arn` cannot be combined with `deploy.log_encryption: false`',
    ],
    [
      { cloudfront: { ...CLOUDFRONT, access_log_retention_days: 0 } },
      '`deploy.cloudfront.access_log_retention_days` must be an integer between 1 and 3653 (got 0)',
    ],
  ])('%j', (deploy, message) => {
    expect(synthErrorOf(withDeploy(deploy))).toBe(`invalid config: ${message}`);
  });
});

describe('all four cdk-nag packs', () => {
  it.each([
    [
      'everything on',
      withDeploy(
        {
          vpc: { ...VPC, attach_discovery: true, ssm_endpoint: true },
          cloudfront: CLOUDFRONT,
          alarms: { email: 'ops@example.com' },
          budget: { monthly_limit_usd: 100, email: 'billing@example.com' },
          ssm_kms_key_arn: KEY_ARN,
        },
        { base_url: 'http://mcp.internal:8080' },
      ),
    ],
    [
      'everything off',
      withDeploy({
        cloudfront: { ...CLOUDFRONT, access_logs: false },
        tracing: false,
        log_encryption: false,
        alarms: { enabled: false },
        proxy: { reserved_concurrency: 'none' },
        discovery: { reserved_concurrency: 'none' },
      }),
    ],
    [
      'a given log key and alarm topic',
      withDeploy({ log_kms_key_arn: KEY_ARN, alarms: { sns_topic_arn: TOPIC_ARN } }),
    ],
  ])('%s: green or acknowledged', (_name, raw) => {
    const { app } = build(raw, { nag: true });
    // An unacknowledged finding of any pack makes synth throw.
    expect(() => app.synth()).not.toThrow();
  });
});
