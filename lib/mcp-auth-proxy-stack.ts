/**
 * The deployable stack: validates the `deploy:` block of config.yaml against the rest of the
 * config (errors in YAML key names) and maps it onto `McpAuthProxy` props.
 */
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import type { RawConfig } from './config-source.ts';
import { type DeployOptions, parseDeployOptions, validateDeployOptions } from './deploy-options.ts';
import { McpAuthProxy } from './mcp-auth-proxy.ts';

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

    let vpc: ec2.IVpc | undefined;
    if (d.vpc) {
      vpc = d.vpc.lookup
        ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: d.vpc.vpcId })
        : ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
            vpcId: d.vpc.vpcId,
            availabilityZones: [...d.vpc.availabilityZones],
            privateSubnetIds: [...d.vpc.privateSubnetIds],
          });
      if (!d.vpc.lookup) {
        Validations.of(vpc).acknowledge({
          id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
          reason:
            'The stack never reads route tables of the imported subnets; they only host the functions and the SSM endpoint.',
        });
      }
    }
    const cf = d.cloudfront;
    this.proxy = new McpAuthProxy(this, 'McpAuthProxy', {
      config: props.config,
      runtime: d.runtime === 'nodejs24.x' ? Runtime.NODEJS_24_X : Runtime.NODEJS_22_X,
      proxyMemorySize: d.proxy.memoryMb,
      proxyTimeout:
        d.proxy.timeoutSeconds === undefined ? undefined : Duration.seconds(d.proxy.timeoutSeconds),
      proxyReservedConcurrency: d.proxy.reservedConcurrency,
      discoveryMemorySize: d.discovery.memoryMb,
      discoveryReservedConcurrency: d.discovery.reservedConcurrency,
      discoveryTimeout: Duration.seconds(d.discovery.timeoutSeconds),
      logRetention: d.logRetentionDays as RetentionDays,
      secretsKey: d.ssmKmsKeyArn ? Key.fromKeyArn(this, 'SecretsKey', d.ssmKmsKeyArn) : undefined,
      vpc,
      discoveryInVpc: d.vpc?.attachDiscovery,
      ssmInterfaceEndpoint: d.vpc?.ssmEndpoint,
      cognitoUserPool: d.cognito,
      cloudFront: cf
        ? {
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
          }
        : undefined,
      clientName: d.clientName,
    });
  }
}
