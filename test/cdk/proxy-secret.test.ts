/**
 * The proxy secret (lib/proxy-secret.ts; session binding and the identity JWT key): generated in
 * Secrets Manager when the config names none, readable by the proxy function only (its one SSM
 * parameter with GetParameter, its one secret), through the Parameters and Secrets extension
 * layer; a named parameter is granted the same way; none when neither feature is on.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../lib/config-source.ts';
import { build, GENERATED_PROXY_SECRET_PARAMETER } from './helpers.ts';

const raw: RawConfig = {
  provider: 'oidc',
  base_url: 'https://mcp.example.com',
  default: { base_url: 'https://idp.example.com/' },
  discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' },
  deploy: { stack_name: 'McpAuthProxy' },
};

type Statement = { Action: string | string[]; Resource: unknown };
const statements = (t: Template, which: 'Proxy' | 'Discovery') =>
  Object.entries(t.findResources('AWS::IAM::Policy')).find(([id]) =>
    id.startsWith(`McpAuthProxy${which}FunctionRoleDefaultPolicy`),
  )![1].Properties.PolicyDocument.Statement as Statement[];
const fnOf = (t: Template, which: 'Proxy' | 'Discovery') =>
  Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
    id.startsWith(`McpAuthProxy${which}Function`),
  )![1].Properties as { Layers?: unknown[]; Environment: { Variables: Record<string, string> } };
const configOf = (t: Template) => JSON.parse(fnOf(t, 'Proxy').Environment.Variables.MCP_AUTH_PROXY_CONFIG!);
const proxySecrets = (t: Template) =>
  Object.entries(t.findResources('AWS::SecretsManager::Secret')).filter(([, r]) =>
    String(r.Properties.Name).endsWith('/proxy-secret'),
  );
const ssmOf = (t: Template, which: 'Proxy' | 'Discovery') =>
  statements(t, which).filter((s) => [s.Action].flat().some((a) => a.startsWith('ssm:')));

describe('no proxy secret in the config, session binding on (the default)', () => {
  const t = Template.fromStack(build(raw).stack);

  it('generates one (64 letters and digits, not in the template) and names it in the config', () => {
    const secrets = proxySecrets(t);
    expect(secrets).toHaveLength(1);
    const [, secret] = secrets[0]!;
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(configOf(t).proxy_secret_ssm_parameter).toBe(GENERATED_PROXY_SECRET_PARAMETER);
    expect(GENERATED_PROXY_SECRET_PARAMETER).toBe(`/aws/reference/secretsmanager/${secret.Properties.Name}`);
  });

  it('lets only the proxy read it: GetSecretValue on that secret, GetParameter on its one parameter', () => {
    const [secretId] = proxySecrets(t)[0]!;
    const proxy = statements(t, 'Proxy');
    const read = proxy.find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))!;
    expect(read.Resource).toEqual({ Ref: secretId });
    const ssm = ssmOf(t, 'Proxy');
    expect(ssm).toHaveLength(1);
    expect(ssm[0]!.Action).toBe('ssm:GetParameter');
    expect(JSON.stringify(ssm[0]!.Resource)).toContain(`:parameter${GENERATED_PROXY_SECRET_PARAMETER}`);
    const discovery = JSON.stringify(statements(t, 'Discovery'));
    expect(discovery).not.toContain(secretId);
    expect(discovery).not.toContain('proxy-secret');
  });

  it('gives the proxy the Parameters and Secrets extension (the bundle has no AWS SDK)', () => {
    expect(fnOf(t, 'Proxy').Layers).toHaveLength(1);
    expect(JSON.stringify(fnOf(t, 'Proxy').Layers)).toMatch(/Paramsandsecrets/i);
  });

  it('synthesizes with the four cdk-nag packs green or acknowledged', () => {
    expect(() => build(raw, { nag: true })).not.toThrow();
  });
});

describe('a named proxy secret, or neither feature on', () => {
  it('a named parameter: no secret generated, the proxy reads exactly it', () => {
    const t = Template.fromStack(
      build({ ...raw, proxy_secret_ssm_parameter: '/mcp-auth/proxy-secret' }).stack,
    );
    expect(proxySecrets(t)).toHaveLength(0);
    expect(configOf(t).proxy_secret_ssm_parameter).toBe('/mcp-auth/proxy-secret');
    const ssm = ssmOf(t, 'Proxy');
    expect(ssm.map((s) => s.Action)).toEqual(['ssm:GetParameter']);
    expect(JSON.stringify(ssm[0]!.Resource)).toContain(':parameter/mcp-auth/proxy-secret');
    expect(JSON.stringify(statements(t, 'Discovery'))).not.toContain('proxy-secret');
  });

  it('session binding off and no identity JWT: no secret, no grant, no extension', () => {
    const t = Template.fromStack(build({ ...raw, session_binding: { enabled: false } }).stack);
    expect(proxySecrets(t)).toHaveLength(0);
    expect(configOf(t).proxy_secret_ssm_parameter).toBeUndefined();
    expect(ssmOf(t, 'Proxy')).toEqual([]);
    expect(fnOf(t, 'Proxy').Layers).toBeUndefined();
  });

  it('the identity JWT alone needs it too', () => {
    const t = Template.fromStack(
      build({ ...raw, session_binding: { enabled: false }, upstream_identity: { enabled: true } }).stack,
    );
    expect(proxySecrets(t)).toHaveLength(1);
  });

  it('refuses deploy.generate_proxy_secret: false without a named one, and an inline secret', () => {
    expect(() =>
      build({ ...raw, deploy: { ...(raw.deploy as object), generate_proxy_secret: false } }),
    ).toThrow(/proxy_secret_ssm_parameter/);
    expect(() => build({ ...raw, proxy_secret: 'x'.repeat(40) })).toThrow(/proxy_secret/);
  });
});
