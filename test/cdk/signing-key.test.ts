/**
 * `discovery.signing_key_ssm_parameter` (the relay's signing key) is read like every other
 * secret: only by the discovery function, only that parameter; and never inline in a deployment.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { expect, it } from 'vitest';
import { build } from './helpers.ts';

const raw = {
  provider: 'oidc',
  base_url: 'https://mcp.example.com',
  default: { base_url: 'https://idp.example.com/' },
};

it('grants the discovery function read access to the signing key parameter', () => {
  const { stack } = build({ ...raw, discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' } });
  const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
  const granting = policies.filter((p) => JSON.stringify(p).includes(':parameter/mcp-auth/signing-key'));
  expect(granting).toHaveLength(1);
  expect(JSON.stringify(granting[0])).toContain('ssm:GetParameters');
  expect(JSON.stringify(granting[0]!.Properties.Roles)).toMatch(/Discovery/);
});

it('refuses an inline signing key in a deployed config', () => {
  expect(() => build({ ...raw, discovery: { signing_key: 'x'.repeat(40) } })).toThrow(/signing_key/);
});
