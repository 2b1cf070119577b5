/**
 * A bad config fails synth with the exact message naming the key (the same `ConfigError` the
 * functions would log at cold start), and `-c` overrides reach the functions. The last tests run
 * the real `bin/app.ts` the way the CDK CLI does (context in CDK_CONTEXT_JSON, CDK_OUTDIR).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/shared/config/index.ts';
import { applyOverrides, type RawConfig } from '../../lib/config-source.ts';
import { PROJECT_ROOT } from '../../lib/mcp-auth-proxy.ts';
import { BASE, build, template } from './helpers.ts';

const VPC = {
  id: 'vpc-0123456789abcdef0',
  availability_zones: ['eu-west-1a'],
  private_subnet_ids: ['subnet-0123456789abcdef0'],
};
const CLOUDFRONT = {
  domain_name: 'mcp.example.com',
  certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
};

const cases: [string, RawConfig, string][] = [
  [
    'missing upstream URL',
    { provider: 'oidc', default: { base_url: 'https://idp.example.com' } },
    'invalid config: `base_url` is required: the URL of the MCP server to protect',
  ],
  [
    'unknown provider',
    { ...BASE, provider: 'okta' },
    'invalid config: `provider` must be one of embedded, oidc, asgardeo, cognito (got "okta")',
  ],
  [
    'bad URL',
    { ...BASE, default: { base_url: 'idp.example.com' } },
    'invalid config: `default.base_url` must be an absolute URL (got "idp.example.com")',
  ],
  [
    'VPC without subnets',
    { ...BASE, deploy: { vpc: { id: VPC.id } } },
    'invalid config: `deploy.vpc.private_subnet_ids` is required: list the private subnets (with a NAT route) for the proxy, or set `deploy.vpc.lookup: true` to look them up at synth (needs AWS credentials)',
  ],
  [
    'VPC subnets without their zones',
    { ...BASE, deploy: { vpc: { id: VPC.id, private_subnet_ids: VPC.private_subnet_ids } } },
    'invalid config: `deploy.vpc.availability_zones` must list the availability zone of each private subnet, in order (1 subnet(s), 0 zone(s))',
  ],
  [
    'the embedded demo IdP',
    { base_url: 'https://mcp.internal.example.com' },
    'invalid config: `provider` must be oidc, asgardeo or cognito to deploy ("embedded" is the local demo IdP of `npm start`)',
  ],
  [
    'an inline secret',
    { ...BASE, default: { base_url: 'https://idp.example.com', client_secret: 's3cr3t' } },
    'invalid config: `default.client_secret` must not be inline in a deployed config: store it as an SSM SecureString and set `default.client_secret_ssm_parameter` to its name',
  ],
  [
    'a secret injected as a token-request parameter',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/token': { addBodyParams: [{ name: 'client_secret', value: 's3cr3t' }] } },
      },
    },
    'invalid config: `default.path./token.addBodyParams[0].value` is inline and the name "client_secret" looks like a secret: the functions\' environment is not a secret store. Store it as an SSM SecureString and set `value_ssm_parameter` to its name instead, or add `public: true` to the entry if it is not a secret',
  ],
  [
    'an API key injected into registrations',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/register': { addBodyParams: [{ name: 'X-Api-Key', value: 'k-123' }] } },
      },
    },
    'invalid config: `default.path./register.addBodyParams[0].value` is inline and the name "X-Api-Key" looks like a secret: the functions\' environment is not a secret store. Store it as an SSM SecureString and set `value_ssm_parameter` to its name instead, or add `public: true` to the entry if it is not a secret',
  ],
  [
    'a password in the authorization redirect',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/authorize': { addQueryParams: [{ name: 'password', value: 'hunter2' }] } },
      },
    },
    'invalid config: `default.path./authorize.addQueryParams[0].value` is inline and the name "password" looks like a secret: query parameters go to the user\'s browser in the redirect to the IdP, so they cannot carry one. If the value is not a secret, add `public: true` to the entry',
  ],
  [
    'an SSM value in the authorization redirect (the browser would see it)',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/authorize': { addQueryParams: [{ name: 'api_key', value_ssm_parameter: '/k' }] } },
      },
    },
    "invalid config: `default.path./authorize.addQueryParams[0].value_ssm_parameter` cannot be used in `addQueryParams`: query parameters go to the user's browser in the redirect to the IdP, so they are never secret",
  ],
  [
    'a parameter with both an inline value and an SSM parameter',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/token': { addBodyParams: [{ name: 'api_key', value: 'x', value_ssm_parameter: '/k' }] } },
      },
    },
    'invalid config: `default.path./token.addBodyParams[0].value` and `default.path./token.addBodyParams[0].value_ssm_parameter` are both set; use one',
  ],
  [
    'a parameter without its value (a missing secret)',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/token': { addBodyParams: [{ name: 'api_key' }] } },
      },
    },
    'invalid config: `default.path./token.addBodyParams[0].value` must be a string, or set `value_ssm_parameter` instead',
  ],
  [
    'a parameter from SSM marked public',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/token': { addBodyParams: [{ name: 'api_key', value_ssm_parameter: '/k', public: true }] } },
      },
    },
    'invalid config: `default.path./token.addBodyParams[0].public` cannot be true for a value read from SSM',
  ],
  [
    'a wildcard SSM name for a parameter (it would become an IAM resource)',
    {
      ...BASE,
      default: {
        base_url: 'https://idp.example.com',
        path: { '/token': { addBodyParams: [{ name: 'api_key', value_ssm_parameter: '/mcp/*' }] } },
      },
    },
    'invalid config: `default.path./token.addBodyParams[0].value_ssm_parameter` is not a valid SSM parameter name (got "/mcp/*")',
  ],
  [
    'an inline registration token',
    { ...BASE, default: { base_url: 'https://idp.example.com', registration_token: 'iat-123' } },
    'invalid config: `default.registration_token` must not be inline in a deployed config: store it as an SSM SecureString and set `default.registration_token_ssm_parameter` to its name',
  ],
  [
    'an Asgardeo M2M application without its secret',
    { base_url: 'https://mcp.internal.example.com', asgardeo: { org_name: 'acme', client_id: 'c' } },
    'invalid config: `asgardeo.client_secret` or `client_secret_ssm_parameter` is required',
  ],
  [
    'a proxy timeout shorter than the stream bound',
    { ...BASE, deploy: { proxy: { timeout_seconds: 600 } } },
    'invalid config: `deploy.proxy.timeout_seconds` must be at least 845: `stream.max_duration_seconds` is 840 and streams must end before Lambda stops the function (got 600)',
  ],
  [
    'a stream bound Lambda cannot honour',
    { ...BASE, stream: { max_duration_seconds: 900 } },
    'invalid config: `stream.max_duration_seconds` must be at most 895 to deploy: Lambda stops a function after 900 seconds (got 900)',
  ],
  [
    'SSE heartbeats slower than the CloudFront read timeout',
    { ...BASE, stream: { heartbeat_seconds: 45 }, deploy: { cloudfront: CLOUDFRONT } },
    'invalid config: `stream.heartbeat_seconds` must be between 1 and 29 behind CloudFront (origin read timeout 30 s), or idle SSE streams are cut (got 45)',
  ],
  [
    'a certificate outside us-east-1',
    {
      ...BASE,
      deploy: {
        cloudfront: {
          ...CLOUDFRONT,
          certificate_arn: CLOUDFRONT.certificate_arn.replace('us-east-1', 'eu-west-1'),
        },
      },
    },
    'invalid config: `deploy.cloudfront.certificate_arn` must be an ACM certificate in us-east-1, as CloudFront requires (got "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555")',
  ],
  [
    'CloudFront without a domain',
    { ...BASE, deploy: { cloudfront: { certificate_arn: CLOUDFRONT.certificate_arn } } },
    'invalid config: `deploy.cloudfront.domain_name` is required when `deploy.cloudfront` is set: the functions must know their public host from config (a CloudFront host cannot be passed to them safely)',
  ],
  [
    'a proxy_base_url that is not the CloudFront domain',
    { ...BASE, proxy_base_url: 'https://other.example.com', deploy: { cloudfront: CLOUDFRONT } },
    'invalid config: `proxy_base_url` must be "https://mcp.example.com" (the CloudFront domain) or unset (got "https://other.example.com")',
  ],
  [
    'a Cognito pool to create without a domain prefix',
    { provider: 'cognito', base_url: 'https://mcp.internal.example.com' },
    'invalid config: `deploy.cognito.domain_prefix` is required to create a Cognito user pool (`cognito.user_pool_id` is not set): a prefix unique in the region, like "acme-mcp-auth"',
  ],
  [
    'an SSM endpoint for a function outside the VPC',
    { ...BASE, deploy: { vpc: { ...VPC, ssm_endpoint: true } } },
    'invalid config: `deploy.vpc.ssm_endpoint` needs `deploy.vpc.attach_discovery: true`: it serves the discovery function in the VPC (and the proxy, for the proxy secret)',
  ],
  [
    'an unsupported runtime',
    { ...BASE, deploy: { runtime: 'nodejs20.x' } },
    'invalid config: `deploy.runtime` must be one of nodejs22.x, nodejs24.x (got "nodejs20.x")',
  ],
  [
    'a wildcard SSM parameter name',
    { ...BASE, default: { base_url: 'https://idp.example.com', client_secret_ssm_parameter: '/mcp-auth/*' } },
    'invalid config: `default.client_secret_ssm_parameter` is not a valid SSM parameter name (got "/mcp-auth/*")',
  ],
  [
    "a wildcard inside a static metadata document (`response`: its keys are the user's, not looked into; it would still become an IAM resource)",
    {
      ...BASE,
      default: {
        ...(BASE.default as object),
        path: { '/.well-known/oauth-authorization-server': { response: { token_ssm_parameter: '*' } } },
      },
    },
    'invalid config: `default.path./.well-known/oauth-authorization-server.response.token_ssm_parameter` is not a valid SSM parameter name (got "*")',
  ],
  [
    'an invalid SSM parameter name',
    { ...BASE, default: { base_url: 'https://idp.example.com', client_secret_ssm_parameter: 'bad name' } },
    'invalid config: `default.client_secret_ssm_parameter` is not a valid SSM parameter name (got "bad name")',
  ],
  [
    'a plain-http IdP (issuer, JWKS and metadata could be substituted on the path)',
    { ...BASE, default: { base_url: 'http://idp.example.com', client_id: 'c' } },
    'invalid config: `default.base_url` must use https (got "http://idp.example.com"); plain http is only accepted on a loopback host (localhost, 127.0.0.0/8, [::1])',
  ],
  [
    'a plain-http token issuer',
    { ...BASE, token: { issuer: 'http://idp.example.com' } },
    'invalid config: `token.issuer` must use https (got "http://idp.example.com"); plain http is only accepted on a loopback host (localhost, 127.0.0.0/8, [::1])',
  ],
  [
    'a plain-http JWKS',
    { ...BASE, token: { jwks_uri: 'http://idp.example.com/jwks' } },
    'invalid config: `token.jwks_uri` must use https (got "http://idp.example.com/jwks"); plain http is only accepted on a loopback host (localhost, 127.0.0.0/8, [::1])',
  ],
  [
    'a Cognito pool with only generic scopes (any app client of the pool would be accepted)',
    {
      provider: 'cognito',
      base_url: 'https://mcp.internal.example.com',
      cognito: {
        user_pool_id: 'eu-west-1_AbC123',
        domain_url: 'https://acme.auth.eu-west-1.amazoncognito.com',
        scopes: ['openid', 'aws.cognito.signin.user.admin'],
      },
    },
    'invalid config: `cognito.scopes` (or `token.required_scopes`) must list a resource-server scope such as "mcp/tools" for provider "cognito": Cognito access tokens have no aud, and openid, profile, email, phone, aws.cognito.signin.user.admin, offline_access can be held by any app client of the pool',
  ],
  [
    'a created Cognito pool whose cognito.scopes are only generic',
    {
      provider: 'cognito',
      base_url: 'https://mcp.internal.example.com',
      cognito: { scopes: ['openid'] },
      deploy: { cognito: { domain_prefix: 'acme-mcp-auth' } },
    },
    'invalid config: `cognito.scopes` (or `token.required_scopes`) must list a resource-server scope such as "mcp/tools" for provider "cognito": Cognito access tokens have no aud, and openid, profile, email, phone, aws.cognito.signin.user.admin, offline_access can be held by any app client of the pool',
  ],
  [
    'a zero reserved concurrency (would throttle every request)',
    { ...BASE, deploy: { proxy: { reserved_concurrency: 0 } } },
    'invalid config: `deploy.proxy.reserved_concurrency` must be an integer between 1 and 100000, or none for no reservation (got 0)',
  ],
  [
    'a fractional reserved concurrency',
    { ...BASE, deploy: { discovery: { reserved_concurrency: 2.5 } } },
    'invalid config: `deploy.discovery.reserved_concurrency` must be an integer between 1 and 100000, or none for no reservation (got 2.5)',
  ],
  [
    'a misspelt deploy key (would deploy with no reservation at all)',
    { ...BASE, deploy: { proxy: { reserved_concurency: 10 } } },
    'invalid config: `deploy.proxy.reserved_concurency` is not a known key; did you mean `deploy.proxy.reserved_concurrency`?',
  ],
  [
    'a misspelt function-config key (the default would stay in place)',
    { ...BASE, discovery: { consnet: 'off' } },
    'invalid config: `discovery.consnet` is not a known key; did you mean `discovery.consent`?',
  ],
  [
    'a misspelt key inside a path rule',
    {
      ...BASE,
      default: { base_url: 'https://idp.example.com', path: { '/token': { addBodyParam: [] } } },
    },
    'invalid config: `default.path./token.addBodyParam` is not a known key; did you mean `default.path./token.addBodyParams`?',
  ],
  [
    'a misspelt key set with -c',
    applyOverrides(BASE, { 'deploy.cloudfront.domain': 'mcp.example.com' }),
    'invalid config: `deploy.cloudfront.domain` is not a known key; did you mean `deploy.cloudfront.domain_name`?',
  ],
  [
    'any redirect host with consent off, not acknowledged',
    { ...BASE, discovery: { allowed_redirect_hosts: ['*'], consent: 'off' } },
    'invalid config: `discovery.allowed_redirect_hosts` contains "*" while `discovery.consent` is "off": anyone can register a client whose redirect URI is their own https server, and authorization codes are delivered there without the user ever being shown where. Narrow it, or add `wildcard_redirect_hosts_without_consent` to `acknowledge` to deploy it anyway',
  ],
  [
    'any CORS origin, not acknowledged',
    { ...BASE, cors: { allowed_origins: ['*'] }, acknowledge: ['wildcard_redirect_hosts_without_consent'] },
    'invalid config: `cors.allowed_origins` contains "*": scripts of every web site may call the MCP endpoints and the facade from a visitor\'s browser. Narrow it, or add `wildcard_cors_origins` to `acknowledge` to deploy it anyway',
  ],
  [
    'an acknowledgement of a risk that does not exist',
    { ...BASE, acknowledge: ['everything'] },
    'invalid config: `acknowledge` entries must be "wildcard_redirect_hosts_without_consent" or "wildcard_cors_origins" (got "everything")',
  ],
  [
    "the original's stdio transport (a Lambda function cannot keep a child process)",
    {
      ...BASE,
      transport_mode: 'stdio',
      stdio: { enabled: true, user_command: 'npx -y @modelcontextprotocol/server-github' },
    },
    'invalid config: `transport_mode` is "stdio": the MCP server would be a child process of the proxy, which a Lambda function cannot keep. Serve the stdio server over Streamable HTTP from a host the proxy reaches (e.g. `npx -y supergateway --stdio "<command>" --outputTransport streamableHttp` on an instance in the VPC, reachable only from the proxy), set `base_url` to that bridge and `transport_mode` to "streamable_http"; `npm start` runs stdio servers locally',
  ],
];

describe('invalid configs fail synth with the exact message', () => {
  it.each(cases)('%s', (_name, raw, message) => {
    let error: unknown;
    try {
      build(raw).app.synth();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });
});

describe('acknowledged risks and keys without effect', () => {
  const messages = (raw: RawConfig, type: 'warning' | 'info') => {
    const a = Annotations.fromStack(build(raw).stack);
    const found =
      type === 'warning' ? a.findWarning('*', Match.anyValue()) : a.findInfo('*', Match.anyValue());
    return found.map((m) => String(m.entry.data));
  };

  it('an acknowledged risk synthesizes, with a CDK warning naming the keys and the acknowledgement', () => {
    const raw = {
      ...BASE,
      discovery: { allowed_redirect_hosts: ['*'], consent: 'off' },
      cors: { allowed_origins: ['*'] },
      acknowledge: ['wildcard_redirect_hosts_without_consent', 'wildcard_cors_origins'],
    };
    expect(messages(raw, 'warning')).toEqual(
      [
        'anyone can register a client whose redirect URI is their own https server, and authorization codes are delivered there without the user ever being shown where',
        "scripts of every web site may call the MCP endpoints and the facade from a visitor's browser",
      ].map((risk, i) =>
        expect.stringContaining(
          i === 0
            ? `\`discovery.allowed_redirect_hosts\` contains "*" while \`discovery.consent\` is "off": ${risk} (acknowledged with \`acknowledge: [wildcard_redirect_hosts_without_consent]\`)`
            : `\`cors.allowed_origins\` contains "*": ${risk} (acknowledged with \`acknowledge: [wildcard_cors_origins]\`)`,
        ),
      ),
    );
  });

  it('a config without risky settings or original-only keys gets no warning and no info', () => {
    expect(messages(BASE, 'warning')).toEqual([]);
    expect(messages(BASE, 'info')).toEqual([]);
  });

  it("the original's stdio block (its env may hold the server's secrets) stays out of the functions' environment", () => {
    const t = template({
      ...BASE,
      transport_mode: 'sse',
      stdio: {
        enabled: false,
        user_command: 'npx -y server',
        env: ['GITHUB_PERSONAL_ACCESS_TOKEN=ghp_secret'],
      },
    });
    const fns = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => JSON.stringify(f));
    const withConfig = fns.filter((f) => f.includes('MCP_AUTH_PROXY_CONFIG'));
    expect(withConfig).toHaveLength(2);
    for (const f of withConfig) {
      expect(f).not.toContain('ghp_secret');
      expect(f).not.toContain('user_command');
    }
  });

  it("the original's keys without effect synthesize, named in an info annotation, and its keys' notes", () => {
    const raw = {
      ...BASE,
      port: 8000,
      transport_mode: 'sse',
      stdio: { enabled: false, user_command: 'npx -y server' },
      protected_resource_metadata: { bearer_methods_supported: ['header', 'body', 'query'] },
    };
    expect(messages(raw, 'info')).toEqual([
      'config keys of the original Go proxy without effect here: `port`, `stdio` (docs/migration.md)',
      '`protected_resource_metadata.bearer_methods_supported` lists body and query: only the Authorization header is served (a token in the query string or body is refused, as MCP authorization requires)',
    ]);
  });
});

describe('-c overrides', () => {
  it('set nested single values without touching the rest, and ignore CDK context keys', () => {
    const out = applyOverrides(BASE, {
      base_url: 'https://mcp2.internal.example.com',
      'token.audience': 'api://mcp',
      'deploy.vpc.id': 'vpc-0123456789abcdef0',
      '@aws-cdk/core:newStyleStackSynthesis': true,
      'aws:cdk:bundling-stacks': [],
      'vpc-provider:account=1:filter.vpc-id=vpc-1:region=eu-west-1': {},
      config: 'other.yaml',
    });
    expect(out).toEqual({
      ...BASE,
      base_url: 'https://mcp2.internal.example.com',
      token: { audience: 'api://mcp' },
      deploy: { vpc: { id: 'vpc-0123456789abcdef0' } },
    });
    expect(BASE.token).toBeUndefined();
  });

  it('refuse to descend into a value that is not a mapping', () => {
    expect(() => applyOverrides(BASE, { 'base_url.x': 'y' })).toThrow(
      'invalid config: `base_url` is not a mapping, so `-c base_url.x=...` cannot set a key inside it',
    );
  });
});

describe('bin/app.ts as the CDK CLI runs it', () => {
  const run = promisify(execFile);
  const dir = mkdtempSync(join(tmpdir(), 'cdk-bin-'));
  const synth = async (configYaml: string, context: Record<string, unknown>) => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, configYaml);
    const outdir = mkdtempSync(join(dir, 'out-'));
    const env = {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ config: file, 'aws:cdk:bundling-stacks': [], ...context }),
    };
    try {
      const r = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/app.ts')], {
        env,
        cwd: PROJECT_ROOT,
      });
      return { code: 0, stderr: r.stderr, outdir };
    } catch (e) {
      const err = e as { code: number; stderr: string };
      return { code: err.code, stderr: err.stderr, outdir };
    }
  };

  it('synthesizes config.yaml with -c overrides, and fails on a bad key with the message and exit code 1', async () => {
    const yaml =
      'provider: oidc\nbase_url: https://mcp.internal.example.com\ndefault:\n  base_url: https://idp.example.com/\n';
    const [ok, bad] = await Promise.all([
      synth(yaml, {
        base_url: 'https://override.internal.example.com',
        'deploy.stack_name': 'McpAuthProxyTest',
      }),
      synth(yaml, { 'default.base_url': 'idp.example.com' }),
    ]);
    expect(ok.stderr).not.toContain('invalid config');
    expect(ok.code).toBe(0);
    const tpl = JSON.parse(readFileSync(join(ok.outdir, 'McpAuthProxyTest.template.json'), 'utf8'));
    const fns = Object.values(
      tpl.Resources as Record<
        string,
        { Type: string; Properties: { Environment: { Variables: Record<string, string> } } }
      >,
    ).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(2);
    for (const f of fns)
      expect(JSON.parse(f.Properties.Environment.Variables.MCP_AUTH_PROXY_CONFIG!).base_url).toBe(
        'https://override.internal.example.com',
      );
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      'invalid config: `default.base_url` must be an absolute URL (got "idp.example.com")',
    );
  }, 60_000);

  it('names a missing config file', async () => {
    const outdir = mkdtempSync(join(dir, 'out-'));
    const env = {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ config: join(dir, 'nope.yaml') }),
    };
    const err = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/app.ts')], {
      env,
      cwd: PROJECT_ROOT,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr.trim()).toBe(
      `invalid config: \`config\` file "${join(dir, 'nope.yaml')}" cannot be read (ENOENT); pass another with \`-c config=path\` (start from config.example.yaml)`,
    );
  }, 60_000);
});
