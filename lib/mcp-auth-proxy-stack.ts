/**
 * The deployable stack: validates the `deploy:` block of config.yaml against the rest of the
 * config (errors in YAML key names), maps it onto `McpAuthProxy` props, and turns the construct's
 * URLs and resources into the stack outputs.
 */
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { FeaturePlan, Mfa, StandardThreatProtectionMode } from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { RawConfig } from './config-source.ts';
import { type DeployOptions, parseDeployOptions, validateDeployOptions } from './deploy-options.ts';
import {
  McpAuthProxy,
  type McpAuthProxyCloudFrontOptions,
  type McpAuthProxyProps,
} from './mcp-auth-proxy.ts';

export interface McpAuthProxyStackProps extends StackProps {
  /** Raw config (parsed config.yaml with `-c` overrides), including its `deploy:` block. */
  readonly config: RawConfig;
  /**
   * Deployment options; parsed from `config.deploy` when omitted.
   * @default parseDeployOptions(config)
   */
  readonly deploy?: DeployOptions;
}

export class McpAuthProxyStack extends Stack {
  readonly proxy: McpAuthProxy;

  constructor(scope: Construct, id: string, props: McpAuthProxyStackProps) {
    super(scope, id, props);
    const d = props.deploy ?? parseDeployOptions(props.config);
    validateDeployOptions(props.config, d);
    this.proxy = new McpAuthProxy(this, 'McpAuthProxy', this.proxyProps(props.config, d));
    this.addOutputs(d);
  }

  /** `deploy:` → props (imports of the VPC, key, certificate and zone it names). */
  private proxyProps(config: RawConfig, d: DeployOptions): McpAuthProxyProps {
    return {
      config,
      runtime: d.runtime === 'nodejs24.x' ? Runtime.NODEJS_24_X : Runtime.NODEJS_22_X,
      proxyMemorySize: d.proxy.memoryMb,
      proxyTimeout:
        d.proxy.timeoutSeconds === undefined ? undefined : Duration.seconds(d.proxy.timeoutSeconds),
      proxyReservedConcurrency: d.proxy.reservedConcurrency,
      discoveryMemorySize: d.discovery.memoryMb,
      discoveryReservedConcurrency: d.discovery.reservedConcurrency,
      discoveryTimeout: Duration.seconds(d.discovery.timeoutSeconds),
      logRetention: d.logRetentionDays as RetentionDays,
      vpc: this.importVpc(d),
      secretsKey: d.ssmKmsKeyArn ? Key.fromKeyArn(this, 'SecretsKey', d.ssmKmsKeyArn) : undefined,
      discoveryInVpc: d.vpc?.attachDiscovery,
      ssmInterfaceEndpoint: d.vpc?.ssmEndpoint,
      cognitoUserPool: {
        ...d.cognito,
        mfa: d.cognito.mfa === 'optional' ? Mfa.OPTIONAL : Mfa.REQUIRED,
        featurePlan: d.cognito.featurePlan === 'plus' ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
        threatProtection:
          d.cognito.threatProtection === 'audit'
            ? StandardThreatProtectionMode.AUDIT_ONLY
            : StandardThreatProtectionMode.FULL_FUNCTION,
      },
      cloudFront: this.cloudFrontProps(d),
      ...this.visibilityProps(d),
    };
  }

  /** Reservations' opt-out, tracing, log key, alarms, budget and VPC egress ports. */
  private visibilityProps(d: DeployOptions): Partial<McpAuthProxyProps> {
    const a = d.alarms;
    return {
      tracing: d.tracing,
      generateSigningKey: d.generateSigningKey,
      generateProxySecret: d.generateProxySecret,
      logEncryptionKey: !d.logEncryption
        ? false
        : d.logKmsKeyArn
          ? Key.fromKeyArn(this, 'LogKey', d.logKmsKeyArn)
          : undefined,
      alarms:
        a === undefined
          ? false
          : {
              email: a.email,
              topic: a.snsTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', a.snsTopicArn) : undefined,
              concurrencyThresholdPercent: a.concurrencyThresholdPercent,
            },
      budget: d.budget,
      proxyEgressPorts: d.vpc?.proxyEgressPorts,
      discoveryEgressPorts: d.vpc?.discoveryEgressPorts,
    };
  }

  private importVpc(d: DeployOptions): ec2.IVpc | undefined {
    if (!d.vpc) return undefined;
    if (d.vpc.lookup) return ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: d.vpc.vpcId });
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: d.vpc.vpcId,
      availabilityZones: [...d.vpc.availabilityZones],
      privateSubnetIds: [...d.vpc.privateSubnetIds],
    });
    Validations.of(vpc).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason:
        'The stack never reads route tables of the imported subnets; they only host the functions and the SSM endpoint.',
    });
    return vpc;
  }

  private cloudFrontProps(d: DeployOptions): McpAuthProxyCloudFrontOptions | undefined {
    const cf = d.cloudfront;
    if (!cf) return undefined;
    return {
      domainName: cf.domainName,
      certificate: Certificate.fromCertificateArn(this, 'Certificate', cf.certificateArn),
      hostedZone:
        cf.hostedZoneId && cf.hostedZoneName
          ? HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
              hostedZoneId: cf.hostedZoneId,
              zoneName: cf.hostedZoneName,
            })
          : undefined,
      originReadTimeout: Duration.seconds(cf.originReadTimeoutSeconds),
      webAclArn: cf.webAclArn,
      rateLimit: cf.wafRateLimit,
      originSecretVersionId: cf.originSecretVersionId,
      accessLogs: cf.accessLogs,
      accessLogRetentionDays: cf.accessLogRetentionDays,
    };
  }

  /**
   * The outputs `cdk deploy` prints. They are created in the construct's scope so that their
   * logical ids (`McpAuthProxyMcpEndpoint…`) stay those of earlier versions, which created them
   * inside the construct.
   */
  private addOutputs(d: DeployOptions): void {
    const p = this.proxy;
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(p, id, { value, description });
    if (p.userPool && p.userPoolDomain) {
      output('UserPoolId', p.userPool.userPoolId, 'Cognito user pool (create users in it)');
      output('UserPoolDomainUrl', p.userPoolDomain.baseUrl(), 'Cognito hosted UI');
    }
    if (p.distribution) {
      output(
        'DistributionDomainName',
        p.distribution.distributionDomainName,
        `Point ${d.cloudfront!.domainName} (CNAME or alias) at this CloudFront domain`,
      );
    }
    output('McpEndpoint', p.mcpEndpoint, 'MCP endpoint (Streamable HTTP)');
    output('SseEndpoint', p.sseEndpoint, 'MCP endpoint (legacy HTTP+SSE)');
    output(
      'ProtectedResourceMetadataUrl',
      p.protectedResourceMetadataUrl,
      'OAuth Protected Resource Metadata (RFC 9728)',
    );
    output(
      'AuthorizationServerUrl',
      p.discoveryOrigin,
      'Authorization server facade (discovery function); its metadata is under /.well-known/',
    );
    output('ProxyLogGroupName', p.proxyFunction.logGroup.logGroupName, 'aws logs tail <name> --follow');
    output(
      'DiscoveryLogGroupName',
      p.discoveryFunction.logGroup.logGroupName,
      'aws logs tail <name> --follow',
    );
    output(
      'ClientConfig',
      this.toJsonString({ mcpServers: { [d.clientName]: { url: p.mcpEndpoint } } }),
      'Paste into your MCP client configuration',
    );
  }
}
