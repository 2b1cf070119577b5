/**
 * `discovery.signing_key_ssm_parameter` (the relay's signing key) is read like every other
 * secret: only by the discovery function, only that parameter; and never inline in a deployment.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
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

/** The generated signing key secrets (the proxy secret, lib/proxy-secret.ts, is another). */
const signingKeySecrets = (t: Template) =>
  Object.entries(t.findResources('AWS::SecretsManager::Secret')).filter(([, r]) =>
    String(r.Properties.Name).endsWith('/signing-key'),
  );

describe('no signing key in the config: one is generated (issue 10, the relay without a manual step)', () => {
  const policyOf = (t: Template, which: 'Proxy' | 'Discovery') =>
    Object.entries(t.findResources('AWS::IAM::Policy')).find(([id]) =>
      id.startsWith(`McpAuthProxy${which}FunctionRoleDefaultPolicy`),
    )![1].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];

  it('creates a generated Secrets Manager secret, names it as the key and lets only discovery read it', () => {
    const t = Template.fromStack(build(raw).stack);
    const secrets = signingKeySecrets(t);
    expect(secrets).toHaveLength(1);
    const [secretId, secret] = secrets[0]!;
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
    expect(secret.Properties.SecretString).toBeUndefined();
    const name = secret.Properties.Name as string;
    const fnConfig = Object.values(t.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables?.MCP_AUTH_PROXY_CONFIG)
      .filter(Boolean)
      .map((v) => JSON.parse(v as string));
    expect(fnConfig.map((c) => c.discovery.signing_key_ssm_parameter)).toEqual([
      `/aws/reference/secretsmanager/${name}`,
      `/aws/reference/secretsmanager/${name}`,
    ]);
    const discovery = JSON.stringify(policyOf(t, 'Discovery'));
    expect(discovery).toContain('secretsmanager:GetSecretValue');
    expect(discovery).toContain(secretId);
    expect(discovery).toContain(`:parameter/aws/reference/secretsmanager/${name}`);
    expect(JSON.stringify(policyOf(t, 'Proxy'))).not.toContain(secretId);
  });

  it('synthesizes with the four cdk-nag packs green or acknowledged', () => {
    expect(() => build(raw, { nag: true })).not.toThrow();
  });

  it('a named key, or deploy.generate_signing_key: false, creates none', () => {
    const named = Template.fromStack(
      build({ ...raw, discovery: { signing_key_ssm_parameter: '/mcp-auth/signing-key' } }).stack,
    );
    expect(signingKeySecrets(named)).toHaveLength(0);
    const off = Template.fromStack(build({ ...raw, deploy: { generate_signing_key: false } }).stack);
    expect(signingKeySecrets(off)).toHaveLength(0);
    const config = JSON.parse(
      Object.values(off.findResources('AWS::Lambda::Function')).find(
        (f) => f.Properties.Environment?.Variables?.MCP_AUTH_PROXY_CONFIG,
      )!.Properties.Environment.Variables.MCP_AUTH_PROXY_CONFIG,
    );
    expect(config.discovery).toBeUndefined();
  });

  it('the synthesized discovery handler reads it through SSM and relays with its own iss', async () => {
    const { startSsmServer, ssmClientConfig } = await import('../helpers/ssm-server.ts');
    const { serve } = await import('../helpers/net.ts');
    const { buildHandler } = await import('../../functions/discovery/index.ts');
    const { createSecretResolver } = await import('../../functions/discovery/secrets.ts');
    const { configFromEnv } = await import('../../functions/shared/config/index.ts');
    const { createLogger } = await import('../../functions/shared/log.ts');
    const idp = await serve((req, res) => {
      if (req.url === '/register') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ client_id: 'idp-client-1' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer: idp.url,
          authorization_endpoint: `${idp.url}/authorize`,
          token_endpoint: `${idp.url}/token`,
          registration_endpoint: `${idp.url}/register`,
        }),
      );
    });
    const ssm = await startSsmServer();
    try {
      const t = Template.fromStack(build({ ...raw, default: { base_url: idp.url } }).stack);
      const fn = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith('McpAuthProxyDiscoveryFunction'),
      )![1];
      const config = fn.Properties.Environment.Variables.MCP_AUTH_PROXY_CONFIG as string;
      const parameter = JSON.parse(config).discovery.signing_key_ssm_parameter as string;
      // What SSM answers for a Secrets Manager reference: a SecureString with the secret's value.
      ssm.set(parameter, { value: 'k'.repeat(64), type: 'SecureString' });
      const log = createLogger('discovery', 'debug', () => {});
      const secrets = createSecretResolver({
        ssm: ssmClientConfig(ssm),
        allowInline: false,
        log,
      });
      const handle = buildHandler(configFromEnv({ MCP_AUTH_PROXY_CONFIG: config }), { secrets, log });
      const event = (method: string, path: string, body?: string) =>
        ({
          version: '2.0',
          routeKey: '$default',
          rawPath: path,
          rawQueryString: '',
          headers: { host: 'd.lambda-url.eu-west-1.on.aws', 'content-type': 'application/json' },
          requestContext: {
            http: { method, path, sourceIp: '198.51.100.7' },
            domainName: 'd.lambda-url.eu-west-1.on.aws',
          },
          body,
          isBase64Encoded: false,
        }) as never;
      const meta = await handle(event('GET', '/.well-known/oauth-authorization-server'));
      expect(JSON.parse(meta.body!).authorization_response_iss_parameter_supported).toBe(true);
      // Registering seals the client id with the key: it was read from SSM by its reference name.
      const reg = await handle(
        event(
          'POST',
          '/register',
          JSON.stringify({ redirect_uris: ['http://127.0.0.1:5000/cb'], token_endpoint_auth_method: 'none' }),
        ),
      );
      expect(reg.statusCode, reg.body).toBe(201);
      expect(JSON.parse(reg.body!).client_id).toMatch(/^mcp-/);
      expect(ssm.calls.some((c) => c.names.includes(parameter) && c.withDecryption)).toBe(true);
    } finally {
      await ssm.close();
      await idp.close();
    }
  });
});
