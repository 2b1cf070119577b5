import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, looksSecret, parseConfig } from '../../functions/shared/config/index.ts';

const base = { base_url: 'http://localhost:8000' };

describe('parseConfig', () => {
  it('defaults everything from just the upstream URL (embedded demo IdP)', () => {
    const c = parseConfig(base);
    expect(c.provider).toBe('embedded');
    expect(c.upstream).toEqual({
      baseUrl: 'http://localhost:8000',
      timeoutSeconds: 30,
      maxRequestBytes: 4194304,
    });
    expect(c.paths).toEqual({ streamableHttp: '/mcp', sse: '/sse', messages: '/messages' });
    expect(c.token.issuer).toBe('http://localhost:9000');
    expect(c.token.algorithms).not.toContain('HS256');
    expect(c.stream).toEqual({ maxDurationSeconds: 840, heartbeatSeconds: 25, maxPerSubject: 10 });
    expect(c.identityHeaderPrefix).toBe('x-mcp-auth-');
    expect(Object.isFrozen(c.token)).toBe(true);
  });

  it("accepts the original Go proxy's keys", () => {
    const c = parseConfig({
      mcp_server_base_url: 'http://localhost:8000/',
      listen_port: 8081,
      timeout_seconds: 10,
      mcp_paths: ['/messages/', '/sse'],
      cors: {
        allowed_origins: ['http://localhost:5173'],
        allowed_methods: ['GET', 'POST'],
        allowed_headers: ['Authorization'],
        allow_credentials: true,
      },
      default: {
        base_url: 'https://tenant.auth0.com/',
        jwks_url: 'https://tenant.auth0.com/.well-known/jwks.json',
        path: { '/authorize': { addQueryParams: [{ name: 'audience', value: 'mcp_proxy' }] } },
      },
      path_mapping: { '/token': '/oauth/token' },
    });
    expect(c.provider).toBe('oidc');
    expect(c.upstream.baseUrl).toBe('http://localhost:8000');
    expect(c.listenPort).toBe(8081);
    expect(c.paths.messages).toBe('/messages');
    expect(c.token.issuer).toBe('https://tenant.auth0.com/');
    expect(c.token.jwksUri).toBe('https://tenant.auth0.com/.well-known/jwks.json');
    expect(c.oidc?.path['/authorize']?.addQueryParams).toEqual([{ name: 'audience', value: 'mcp_proxy' }]);
    expect(c.discovery.pathMapping).toEqual({ '/token': '/oauth/token' });
    expect(c.cors.allowCredentials).toBe(true);
  });

  it('derives Asgardeo issuer and JWKS from the organization (also from the `demo` block)', () => {
    const c = parseConfig({
      ...base,
      provider: 'asgardeo',
      demo: { org_name: 'openmcpauthdemo', client_id: 'id', client_secret: 's' },
    });
    expect(c.token.issuer).toBe('https://api.asgardeo.io/t/openmcpauthdemo/oauth2/token');
    expect(c.token.jwksUri).toBe('https://api.asgardeo.io/t/openmcpauthdemo/oauth2/jwks');
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['missing upstream', {}, 'invalid config: `base_url` is required: the URL of the MCP server to protect'],
    [
      'bad upstream URL',
      { base_url: 'localhost:8000' },
      'invalid config: `base_url` must use http or https (got "localhost:8000")',
    ],
    [
      'upstream with credentials',
      { base_url: 'http://u:p@h/' },
      'invalid config: `base_url` must not contain a fragment or credentials (got "http://u:p@h/")',
    ],
    [
      'unknown provider',
      { ...base, provider: 'okta' },
      'invalid config: `provider` must be one of embedded, oidc, asgardeo, cognito (got "okta")',
    ],
    [
      'oidc without issuer',
      { ...base, provider: 'oidc' },
      'invalid config: `default.base_url` is required for provider "oidc": the IdP issuer URL',
    ],
    [
      'HS256 allowed',
      { ...base, token: { algorithms: ['RS256', 'HS256'] } },
      'invalid config: `token.algorithms` may only list asymmetric algorithms',
    ],
    ['none allowed', { ...base, token: { algorithms: ['none'] } }, 'may only list asymmetric algorithms'],
    [
      'bad port',
      { ...base, listen_port: 70000 },
      'invalid config: `listen_port` must be an integer between 1 and 65535 (got 70000)',
    ],
    [
      'stream too long',
      { ...base, stream: { max_duration_seconds: 1000 } },
      'invalid config: `stream.max_duration_seconds` must be an integer between 1 and 900 (got 1000)',
    ],
    [
      'bad path',
      { ...base, paths: { sse: 'sse' } },
      'invalid config: `paths.sse` must be an absolute path like "/mcp" (got "sse")',
    ],
    [
      'same paths',
      { ...base, paths: { sse: '/mcp' } },
      'invalid config: `paths` streamable_http, sse and messages must be distinct',
    ],
    [
      'wildcard with credentials',
      { ...base, cors: { allowed_origins: ['*'], allow_credentials: true } },
      'invalid config: `cors.allow_credentials` cannot be true',
    ],
    [
      'origin with path',
      { ...base, cors: { allowed_origins: ['https://a.example/x'] } },
      'invalid config: `cors.allowed_origins` entries must be origins',
    ],
    [
      'cognito pool id',
      { ...base, provider: 'cognito', cognito: { user_pool_id: 'nope', domain_url: 'https://d' } },
      'invalid config: `cognito.user_pool_id` must look like "eu-west-1_AbC123" (got "nope")',
    ],
    [
      'secret twice',
      {
        ...base,
        provider: 'asgardeo',
        asgardeo: { org_name: 'o', client_id: 'c', client_secret: 'x', client_secret_ssm_parameter: '/p' },
      },
      'are both set; use one',
    ],
    [
      'asgardeo org injection',
      { ...base, provider: 'asgardeo', asgardeo: { org_name: 'o/../x', client_id: 'c', client_secret: 'x' } },
      'invalid config: `asgardeo.org_name` must be an Asgardeo organization name',
    ],
    [
      'redirect scheme javascript',
      { ...base, discovery: { allowed_redirect_schemes: ['javascript'] } },
      'invalid config: `discovery.allowed_redirect_schemes` cannot allow the scheme "javascript"',
    ],
    [
      'identity prefix',
      { ...base, identity_header_prefix: 'auth' },
      'invalid config: `identity_header_prefix` must look like "x-something-" (got "auth")',
    ],
  ];
  for (const [name, raw, message] of bad) {
    it(`rejects ${name} with a message naming the key`, () => {
      expect(() => parseConfig(raw)).toThrow(ConfigError);
      expect(() => parseConfig(raw)).toThrow(message);
    });
  }

  it('reads the environment and lets AUTHORIZATION_SERVER_URL fill the PRM authorization servers', () => {
    const env = {
      MCP_AUTH_PROXY_CONFIG: JSON.stringify(base),
      AUTHORIZATION_SERVER_URL: 'https://abc.lambda-url.eu-west-1.on.aws',
    };
    expect(configFromEnv(env).protectedResourceMetadata.authorizationServers).toEqual([
      'https://abc.lambda-url.eu-west-1.on.aws',
    ]);
    expect(() => configFromEnv({})).toThrow(
      'invalid config: `MCP_AUTH_PROXY_CONFIG` environment variable is not set',
    );
    expect(() => configFromEnv({ MCP_AUTH_PROXY_CONFIG: '{' })).toThrow('is not valid JSON');
  });
});

describe('URLs the security depends on: https, or plain http on a loopback host only', () => {
  const oidc = { ...base, provider: 'oidc', default: { base_url: 'https://idp.example.com' } };
  const cognito = {
    ...base,
    provider: 'cognito',
    cognito: { user_pool_id: 'eu-west-1_AbC123', domain_url: 'https://d.example.com', scopes: ['mcp/tools'] },
  };
  const asgardeo = {
    ...base,
    provider: 'asgardeo',
    asgardeo: { org_name: 'o', client_id: 'c', client_secret_ssm_parameter: '/p' },
  };
  const plain: [string, Record<string, unknown>][] = [
    ['default.base_url', { ...oidc, default: { base_url: 'http://idp.example.com' } }],
    [
      'default.jwks_url',
      { ...oidc, default: { base_url: 'https://idp.example.com', jwks_url: 'http://idp.example.com/jwks' } },
    ],
    [
      'default.issuer',
      { ...oidc, default: { base_url: 'https://idp.example.com', issuer: 'http://idp.example.com' } },
    ],
    ['token.issuer', { ...oidc, token: { issuer: 'http://idp.example.com' } }],
    ['token.jwks_uri', { ...oidc, token: { jwks_uri: 'http://idp.example.com/jwks' } }],
    ['jwks_url', { ...oidc, jwks_url: 'http://idp.example.com/jwks' }],
    [
      'asgardeo.api_base_url',
      { ...asgardeo, asgardeo: { ...asgardeo.asgardeo, api_base_url: 'http://api.example' } },
    ],
    [
      'cognito.domain_url',
      { ...cognito, cognito: { ...cognito.cognito, domain_url: 'http://d.example.com' } },
    ],
    [
      'cognito.endpoint',
      { ...cognito, cognito: { ...cognito.cognito, endpoint: 'http://cognito.internal:9229' } },
    ],
    ['discovery.base_url', { ...oidc, discovery: { base_url: 'http://auth.example.com' } }],
    ['proxy_base_url', { ...oidc, proxy_base_url: 'http://mcp.example.com' }],
    [
      'protected_resource_metadata.authorization_servers[1]',
      {
        ...oidc,
        protected_resource_metadata: {
          authorization_servers: ['https://a.example.com', 'http://b.example.com'],
        },
      },
    ],
  ];
  it.each(plain)('refuses plain http for `%s` with the exact message', (key, raw) => {
    const url = JSON.stringify(raw).match(/"(http:\/\/(?!localhost)[^"]+)"/)![1];
    let error: unknown;
    try {
      parseConfig(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect((error as Error).message).toBe(
      `invalid config: \`${key}\` must use https (got "${url}"); plain http is only accepted on a loopback host (localhost, 127.0.0.0/8, [::1])`,
    );
  });

  it('refuses hosts that only look like loopback', () => {
    for (const host of [
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '10.0.0.1',
      '[::ffff:7f00:1]',
      '0.0.0.0',
    ]) {
      expect(() => parseConfig({ ...oidc, token: { issuer: `http://${host}/` } })).toThrow(
        'invalid config: `token.issuer` must use https',
      );
    }
  });

  it('accepts plain http on loopback (local runs, emulators) and https anywhere', () => {
    for (const host of ['localhost:9000', '127.0.0.1:9000', '127.3.4.5', '[::1]:9000', 'LOCALHOST']) {
      const c = parseConfig({
        ...oidc,
        default: { base_url: `http://${host}`, jwks_url: `http://${host}/jwks` },
        proxy_base_url: `http://${host}`,
        discovery: { base_url: `http://${host}` },
        protected_resource_metadata: { authorization_servers: [`http://${host}`] },
      });
      expect(c.token.issuer).toBe(`http://${host}`);
    }
    const c = parseConfig({ ...cognito, cognito: { ...cognito.cognito, endpoint: 'http://127.0.0.1:9229' } });
    expect(c.token.issuer).toBe('http://127.0.0.1:9229/eu-west-1_AbC123');
    expect(parseConfig(asgardeo).token.issuer).toBe('https://api.asgardeo.io/t/o/oauth2/token');
  });

  it('lets the upstream base_url stay plain http (often internal VPC traffic)', () => {
    expect(parseConfig({ ...oidc, base_url: 'http://mcp.internal.example:8000' }).upstream.baseUrl).toBe(
      'http://mcp.internal.example:8000',
    );
  });
});

describe('discovery.allowed_redirect_hosts', () => {
  it('defaults to none (loopback only) and accepts hosts, *.domain and *', () => {
    expect(parseConfig(base).discovery.allowedRedirectHosts).toEqual([]);
    expect(
      parseConfig({ ...base, discovery: { allowed_redirect_hosts: ['claude.ai', '*.vscode.dev', '*'] } })
        .discovery.allowedRedirectHosts,
    ).toEqual(['claude.ai', '*.vscode.dev', '*']);
  });
  it.each(['https://claude.ai', 'claude.ai/cb', '*claude.ai', 'a..b', 'x_y.com'])('refuses %s', (h) => {
    expect(() => parseConfig({ ...base, discovery: { allowed_redirect_hosts: [h] } })).toThrow(
      'invalid config: `discovery.allowed_redirect_hosts` must be a list of values like "claude.ai"',
    );
  });
});

describe('addQueryParams / addBodyParams values: inline, from SSM, or marked public', () => {
  const withParams = (path: string, list: 'addQueryParams' | 'addBodyParams', params: unknown[]) => ({
    provider: 'oidc',
    base_url: 'http://localhost:8000',
    default: { base_url: 'https://idp.example.com', path: { [path]: { [list]: params } } },
  });
  const atColdStart = (raw: unknown) => configFromEnv({ MCP_AUTH_PROXY_CONFIG: JSON.stringify(raw) });

  it.each([
    ['api_key', true],
    ['X-Api-Key', true],
    ['apiKey', true],
    ['client_secret', true],
    ['clientSecret', true],
    ['password', true],
    ['db_passwd', true],
    ['token', true],
    ['id_token_hint', true],
    ['secret', true],
    ['key', true],
    ['auth', true],
    ['credential', true],
    ['client_credentials', true],
    ['client_assertion', true],
    ['audience', false],
    ['prompt', false],
    ['resource', false],
    ['monkey', false],
    ['author', false],
    ['organization', false],
    ['login_hint', false],
  ])('looksSecret(%s) = %s', (name, secret) => {
    expect(looksSecret(name)).toBe(secret);
  });

  it('parses an SSM-backed body param as a secret reference, an inline one as a value', () => {
    const c = parseConfig(
      withParams('/token', 'addBodyParams', [
        { name: 'api_key', value_ssm_parameter: '/mcp/api-key' },
        { name: 'audience', value: 'mcp' },
        { name: 'prompt', value: '' },
      ]),
    );
    expect(c.oidc?.path['/token']?.addBodyParams).toEqual([
      { name: 'api_key', secret: { ssmParameter: '/mcp/api-key' } },
      { name: 'audience', value: 'mcp' },
      { name: 'prompt', value: '' },
    ]);
  });

  it('local runs accept an inline secret-looking value; a deployed function refuses it at cold start, naming the key', () => {
    const raw = withParams('/token', 'addBodyParams', [{ name: 'api_key', value: 'k-123' }]);
    expect(parseConfig(raw).oidc?.path['/token']?.addBodyParams).toEqual([
      { name: 'api_key', value: 'k-123' },
    ]);
    expect(() => atColdStart(raw)).toThrow(
      'invalid config: `default.path./token.addBodyParams[0].value` is inline and the name "api_key" looks like a secret',
    );
  });

  it('`public: true` lets an inline value with a secret-looking name deploy', () => {
    const raw = withParams('/authorize', 'addQueryParams', [
      { name: 'token_type', value: 'jwt', public: true },
    ]);
    expect(atColdStart(raw).oidc?.path['/authorize']?.addQueryParams).toEqual([
      { name: 'token_type', value: 'jwt' },
    ]);
    expect(() =>
      atColdStart(
        withParams('/authorize', 'addQueryParams', [{ name: 'token_type', value: 'jwt', public: 'yes' }]),
      ),
    ).toThrow(
      'invalid config: `default.path./authorize.addQueryParams[0].public` must be true or false (got "yes")',
    );
  });

  it('refuses other inline secrets at cold start too (as at synth)', () => {
    expect(() =>
      atColdStart({
        provider: 'oidc',
        base_url: 'http://localhost:8000',
        default: { base_url: 'https://idp.example.com', client_secret: 's3cr3t' },
      }),
    ).toThrow('invalid config: `default.client_secret` must not be inline in a deployed config');
    expect(() =>
      atColdStart({
        provider: 'oidc',
        base_url: 'http://localhost:8000',
        default: { base_url: 'https://idp.example.com', registration_token: 'iat' },
      }),
    ).toThrow('invalid config: `default.registration_token` must not be inline in a deployed config');
  });

  it.each([
    [
      withParams('/authorize', 'addQueryParams', [{ name: 'api_key', value_ssm_parameter: '/k' }]),
      '`default.path./authorize.addQueryParams[0].value_ssm_parameter` cannot be used in `addQueryParams`',
    ],
    [
      withParams('/token', 'addBodyParams', [{ name: 'a', value: 'x', value_ssm_parameter: '/k' }]),
      '`default.path./token.addBodyParams[0].value` and `default.path./token.addBodyParams[0].value_ssm_parameter` are both set; use one',
    ],
    [
      withParams('/token', 'addBodyParams', [{ name: 'a' }]),
      '`default.path./token.addBodyParams[0].value` must be a string, or set `value_ssm_parameter` instead',
    ],
    [
      withParams('/token', 'addBodyParams', [{ name: 'a', value: 5 }]),
      '`default.path./token.addBodyParams[0].value` must be a string (got 5)',
    ],
    [
      withParams('/token', 'addBodyParams', [{ name: 'a', value_ssm_parameter: '/k', public: true }]),
      '`default.path./token.addBodyParams[0].public` cannot be true for a value read from SSM',
    ],
    [
      withParams('/token', 'addBodyParams', [{ value: 'x' }]),
      '`default.path./token.addBodyParams[0]` must have a string `name` and a `value` or `value_ssm_parameter`',
    ],
  ])('%# refuses a malformed entry, naming the key', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(`invalid config: ${message}`);
  });
});
