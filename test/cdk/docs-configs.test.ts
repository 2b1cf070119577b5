/**
 * Every complete configuration in docs/deploy.md (a ```yaml block starting with `# config.yaml`),
 * and config.example.yaml,
 * synthesizes with the four cdk-nag packs (AwsSolutions, Serverless, NIST 800-53 R5, HIPAA
 * Security) green or acknowledged, exactly as `npx cdk synth` runs them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { RawConfig } from '../../lib/config-source.ts';
import { PROJECT_ROOT } from '../../lib/mcp-auth-proxy.ts';
import { build } from './helpers.ts';

const doc = readFileSync(join(PROJECT_ROOT, 'docs/deploy.md'), 'utf8');
const configs = [...doc.matchAll(/```yaml\n(# config\.yaml\n[\s\S]*?)```/g)].map((m, i) => {
  const raw = parseYaml(m[1]!) as RawConfig;
  const deploy = (raw.deploy ?? {}) as RawConfig;
  const name = `${i + 1}: ${raw.provider}${Object.keys(deploy).length ? ` + ${Object.keys(deploy).join(', ')}` : ''}`;
  return [name, raw] as const;
});

describe('documented configurations', () => {
  it('are all found (providers, Cognito both ways, VPC both ways, CloudFront)', () => {
    expect(configs.map(([n]) => n)).toEqual([
      '1: oidc',
      '2: asgardeo',
      '3: cognito + cognito',
      '4: cognito',
      '5: oidc + vpc',
      '6: oidc + vpc',
      '7: oidc + cloudfront',
    ]);
  });

  it.each([
    ...configs,
    [
      'config.example.yaml',
      parseYaml(readFileSync(join(PROJECT_ROOT, 'config.example.yaml'), 'utf8')) as RawConfig,
    ] as const,
  ])('%s synthesizes with the four cdk-nag packs green or acknowledged', (_name, raw) => {
    const { app, stack } = build(raw, { nag: true });
    // cdk-nag findings that are not acknowledged make synth throw.
    const assembly = app.synth();
    expect(assembly.getStackByName(stack.stackName).template).toBeDefined();
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Url', 2);
  });
});

describe('the cdk-nag checks', () => {
  it('are really applied, all four packs: an unacknowledged finding fails synth', () => {
    const { app, stack } = build(configs[0]![1], { nag: true });
    new Bucket(stack, 'UncheckedBucket');
    new CfnLogGroup(stack, 'UncheckedLogGroup', {});
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    const report = /can be found in: (\S+\.json)/.exec(message)?.[1];
    expect(report, message).toBeDefined();
    const text = readFileSync(report!, 'utf8');
    expect(text).toContain('AwsSolutions-S1');
    expect(text).toContain('UncheckedBucket');
    expect(text).toContain('Serverless-CloudWatchLogGroupRetentionPeriod');
    expect(text).toContain('NIST.800.53.R5-CloudWatchLogGroupEncrypted');
    expect(text).toContain('HIPAA.Security-CloudWatchLogGroupEncrypted');
    expect(text).toContain('UncheckedLogGroup');
  });
});
