/**
 * Issue 13 item 2 in the template: in the CloudFront variant both origins carry the origin secret
 * header as a Secrets Manager dynamic reference (no value in the template), both functions may
 * read exactly that secret and get its ARN and the extension layer, and the distribution has a
 * web ACL with a rate-based rule on /register and /token (configurable, or off). Without
 * CloudFront there is no secret, no layer, no web ACL.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it } from 'vitest';
import { ORIGIN_SECRET_ENV, ORIGIN_SECRET_HEADER } from '../../functions/shared/origin-secret.ts';
import { BASE, build, resource, template } from './helpers.ts';

const CLOUDFRONT = {
  domain_name: 'mcp.example.com',
  certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
};
const withCloudFront = (cf: Record<string, unknown> = {}, deploy: Record<string, unknown> = {}) => ({
  ...BASE,
  // The operator's own signing key: the only secret in these stacks is the origin secret.
  discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' },
  deploy: { cloudfront: { ...CLOUDFRONT, ...cf }, ...deploy },
});
const secretId = (t: Template) => resource(t, 'AWS::SecretsManager::Secret', 'McpAuthProxyOriginSecret').id;
const fnProps = (t: Template, which: string) =>
  resource(t, 'AWS::Lambda::Function', `McpAuthProxy${which}Function`).props;
const origins = (t: Template) =>
  (
    resource(t, 'AWS::CloudFront::Distribution', 'McpAuthProxyDistribution').props.DistributionConfig as {
      Origins: { OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[] }[];
    }
  ).Origins;

describe('CloudFront variant: origin secret', () => {
  const t = template(withCloudFront());

  it('a generated secret (letters and digits, 64), never a value in the template', () => {
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    const json = JSON.stringify(t.toJSON());
    expect(json).not.toMatch(/"SecretString"/);
  });

  it('every origin sends the header, as a dynamic reference to that secret', () => {
    const all = origins(t);
    expect(all).toHaveLength(2);
    for (const o of all) {
      expect(o.OriginCustomHeaders).toEqual([
        {
          HeaderName: ORIGIN_SECRET_HEADER,
          HeaderValue: {
            'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId(t) }, ':SecretString:::}}']],
          },
        },
      ]);
    }
  });

  it('pins the version CloudFront sends when deploy.cloudfront.origin_secret_version_id is set', () => {
    const pinned = template(
      withCloudFront({ origin_secret_version_id: 'a1b2c3d4-5678-90ab-cdef-000000000001' }),
    );
    for (const o of origins(pinned)) {
      expect(JSON.stringify(o.OriginCustomHeaders)).toContain(
        ':SecretString:::a1b2c3d4-5678-90ab-cdef-000000000001}}',
      );
    }
  });

  it('both functions get the ARN, the extension layer (no cache of its own), and read access to that secret only', () => {
    for (const which of ['Proxy', 'Discovery']) {
      const p = fnProps(t, which) as {
        Environment: { Variables: Record<string, unknown> };
        Layers: unknown[];
        Role: { 'Fn::GetAtt': [string, string] };
      };
      expect(p.Environment.Variables[ORIGIN_SECRET_ENV]).toEqual({ Ref: secretId(t) });
      expect(p.Environment.Variables.PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED).toBe('false');
      const [layer] = p.Layers as { 'Fn::FindInMap': [string, unknown, string] }[];
      const [map, , key] = layer!['Fn::FindInMap'];
      expect(key).toMatch(/arm64$/);
      const mapping = (t.toJSON().Mappings as Record<string, Record<string, Record<string, string>>>)[map]!;
      expect(mapping['eu-west-1']![key]).toMatch(
        /^arn:aws:lambda:eu-west-1:\d{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/,
      );
      const policy = resource(t, 'AWS::IAM::Policy', `McpAuthProxy${which}FunctionRoleDefaultPolicy`).props
        .PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] };
      const sm = policy.Statement.filter((s) => JSON.stringify(s.Action).includes('secretsmanager:'));
      const read = (ref: string) => ({
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: ref },
      });
      // The proxy also reads its own proxy secret (session binding, lib/proxy-secret.ts).
      const proxySecret = resource(t, 'AWS::SecretsManager::Secret', 'McpAuthProxyProxySecret').id;
      expect(sm).toEqual(which === 'Proxy' ? [read(proxySecret), read(secretId(t))] : [read(secretId(t))]);
    }
  });

  it('synthesizes with cdk-nag green (the rotation finding acknowledged with its reason)', () => {
    expect(() => build(withCloudFront(), { nag: true }).app.synth()).not.toThrow();
  });
});

describe('CloudFront variant: web ACL', () => {
  const rule = (t: Template) =>
    (resource(t, 'AWS::WAFv2::WebACL', 'McpAuthProxyWebAcl').props.Rules as Record<string, unknown>[])[0] as {
      Action: unknown;
      Statement: { RateBasedStatement: Record<string, unknown> };
    };

  it('is created by default with a rate-based rule of 100 per 5 minutes per address on /register and /token', () => {
    const t = template(withCloudFront());
    t.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT', DefaultAction: { Allow: {} } });
    const r = rule(t);
    expect(r.Action).toEqual({ Block: {} });
    expect(r.Statement.RateBasedStatement).toMatchObject({
      Limit: 100,
      AggregateKeyType: 'IP',
      EvaluationWindowSec: 300,
    });
    const paths = JSON.stringify(r.Statement.RateBasedStatement.ScopeDownStatement);
    expect(paths).toContain('"SearchString":"/register"');
    expect(paths).toContain('"SearchString":"/token"');
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        WebACLId: { 'Fn::GetAtt': [resource(t, 'AWS::WAFv2::WebACL', 'McpAuthProxyWebAcl').id, 'Arn'] },
      },
    });
  });

  it('takes its limit from deploy.cloudfront.waf_rate_limit; 0 creates none', () => {
    expect(rule(template(withCloudFront({ waf_rate_limit: 500 }))).Statement.RateBasedStatement.Limit).toBe(
      500,
    );
    template(withCloudFront({ waf_rate_limit: 0 })).resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('is not created when a web ACL is given', () => {
    const arn = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/mine/abc';
    const t = template(withCloudFront({ web_acl_arn: arn }));
    t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: { WebACLId: arn } });
  });

  const saved = process.env.CDK_DEFAULT_REGION;
  afterEach(() => {
    if (saved === undefined) delete process.env.CDK_DEFAULT_REGION;
    else process.env.CDK_DEFAULT_REGION = saved;
  });
  it('is refused at synth outside us-east-1 (deploy.region or the CLI region), naming the key and the ways out', () => {
    expect(() => template(withCloudFront({}, { region: 'eu-west-1' }))).toThrow(
      /`deploy\.cloudfront\.waf_rate_limit` creates a web ACL, which CloudFront needs in us-east-1, but the stack deploys to eu-west-1/,
    );
    process.env.CDK_DEFAULT_REGION = 'eu-central-1';
    expect(() => template(withCloudFront())).toThrow(/deploys to eu-central-1/);
    expect(() => template(withCloudFront({ waf_rate_limit: 0 }))).not.toThrow();
    expect(() => template(withCloudFront({}, { region: 'us-east-1' }))).not.toThrow();
  });

  it('refuses a limit WAF cannot take', () => {
    expect(() => template(withCloudFront({ waf_rate_limit: 5 }))).toThrow(
      '`deploy.cloudfront.waf_rate_limit` must be 0 (no web ACL) or at least 10',
    );
  });
});

it('without CloudFront: no secret, no layer, no web ACL', () => {
  const t = template({
    ...BASE,
    discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' },
    session_binding: { enabled: false }, // else the proxy secret and its extension layer (proxy-secret.test.ts)
  });
  t.resourceCountIs('AWS::SecretsManager::Secret', 0);
  t.resourceCountIs('AWS::WAFv2::WebACL', 0);
  for (const which of ['Proxy', 'Discovery']) {
    const p = fnProps(t, which) as { Environment: { Variables: Record<string, unknown> }; Layers?: unknown };
    expect(p.Layers).toBeUndefined();
    expect(p.Environment.Variables[ORIGIN_SECRET_ENV]).toBeUndefined();
  }
});
