/**
 * Every key of WSO2's Go open-mcp-auth-proxy (its config.yaml across its releases and
 * development history, its README and docs/integrations) is honoured — this table asserts its
 * effect — or refused with a message naming it (functions/shared/config/original.ts and
 * known-keys.ts `ORIGINAL_REFUSED`; docs/migration.md maps them).
 */
import { describe, expect, it } from 'vitest';
import { acceptedAudiences, buildPrm } from '../../functions/proxy/routes.ts';
import {
  CONFIG_ENV,
  type Config,
  ConfigError,
  configFromEnv,
  logIgnoredKeys,
  parseConfig,
} from '../../functions/shared/config/index.ts';
import type { Logger } from '../../functions/shared/log.ts';

const OIDC = {
  provider: 'oidc',
  base_url: 'http://localhost:8000',
  default: { base_url: 'https://idp.example.com' },
};
const ASGARDEO = {
  base_url: 'http://localhost:8000',
  asgardeo: { org_name: 'acme', client_id: 'c', client_secret: 's' },
};
const JWKS = 'https://api.asgardeo.io/t/acme/oauth2/jwks';

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
}

describe('honoured: each key of the original, its effect', () => {
  const cases: [string, Record<string, unknown>, (c: Config) => unknown, unknown][] = [
    // Its 1.x top-level protected-resource keys (and its README's Asgardeo section).
    [
      'resource_identifier',
      { resource_identifier: 'http://localhost:8080/sse' },
      (c) => c.protectedResourceMetadata.resourceIdentifier,
      'http://localhost:8080/sse',
    ],
    ['audience', { audience: 'mcp_proxy' }, (c) => c.token.audience, ['mcp_proxy']],
    [
      'scopes_supported (a list)',
      { scopes_supported: ['read:tools'] },
      (c) => c.protectedResourceMetadata.scopesSupported,
      ['read:tools'],
    ],
    [
      'authorization_servers',
      { authorization_servers: ['https://idp.example.com'] },
      (c) => c.protectedResourceMetadata.authorizationServers,
      ['https://idp.example.com'],
    ],
    ['jwks_uri', { jwks_uri: JWKS }, (c) => c.token.jwksUri, JWKS],
    ['bearer_methods_supported', { bearer_methods_supported: ['header'] }, (c) => c.notes, []],
    // Its protected_resource_metadata block (1.2+).
    [
      'protected_resource_metadata.audience',
      { protected_resource_metadata: { audience: 'api' } },
      (c) => c.token.audience,
      ['api'],
    ],
    [
      'token.audience wins over it',
      { token: { audience: ['mine'] }, protected_resource_metadata: { audience: 'api' } },
      (c) => c.token.audience,
      ['mine'],
    ],
    [
      'protected_resource_metadata.jwks_uri',
      { protected_resource_metadata: { jwks_uri: JWKS } },
      (c) => c.token.jwksUri,
      JWKS,
    ],
    [
      'the same JWKS under token.jwks_uri too',
      { token: { jwks_uri: JWKS }, protected_resource_metadata: { jwks_uri: JWKS } },
      (c) => c.token.jwksUri,
      JWKS,
    ],
    [
      'protected_resource_metadata.bearer_methods_supported: header',
      { protected_resource_metadata: { bearer_methods_supported: ['header'] } },
      (c) => c.notes,
      [],
    ],
    // Its server and listen keys.
    [
      'port (no base_url): the base_url default',
      { base_url: undefined, port: 8000 },
      (c) => c.upstream.baseUrl,
      'http://localhost:8000',
    ],
    [
      'port beside base_url: no effect, reported',
      { port: 3001 },
      (c) => [c.upstream.baseUrl, c.ignoredKeys],
      ['http://localhost:8000', ['port']],
    ],
    ['listen_address', { listen_address: ':9090' }, (c) => c.listenPort, 9090],
    ['listen_address with a host', { listen_address: 'localhost:9091' }, (c) => c.listenPort, 9091],
    [
      'listen_address and the same listen_port',
      { listen_address: ':9092', listen_port: 9092 },
      (c) => c.listenPort,
      9092,
    ],
    [
      'mcp_server_base_url',
      { base_url: undefined, mcp_server_base_url: 'http://localhost:3001' },
      (c) => c.upstream.baseUrl,
      'http://localhost:3001',
    ],
    [
      'mcp_paths',
      { mcp_paths: ['/events/sse', '/events/messages'] },
      (c) => [c.paths.sse, c.paths.messages],
      ['/events/sse', '/events/messages'],
    ],
    ['jwks_url', { jwks_url: JWKS }, (c) => c.token.jwksUri, JWKS],
    // transport_mode and the stdio block.
    ['transport_mode: sse', { transport_mode: 'sse' }, (c) => c.transport, { mode: 'sse' }],
    [
      'transport_mode: streamable_http',
      { transport_mode: 'streamable_http' },
      (c) => c.transport,
      { mode: 'streamable_http' },
    ],
    ['transport_mode unset', {}, (c) => c.transport.mode, 'sse'],
    [
      'a stdio block outside stdio mode: no effect (as in the original), reported',
      { stdio: { enabled: false, user_command: 'npx -y x', work_dir: '' } },
      (c) => [c.transport, c.ignoredKeys],
      [{ mode: 'sse' }, ['stdio']],
    ],
  ];
  it.each(cases)('%s', (_name, keys, effect, expected) => {
    expect(effect(parseConfig({ ...OIDC, ...keys }))).toEqual(expected);
  });

  it('protected_resource_metadata.jwks_uri replaces the provider default (Asgardeo: its tenant JWKS), as in the original', () => {
    const other = 'https://keys.example.com/jwks';
    expect(parseConfig(ASGARDEO).token.jwksUri).toBe(JWKS);
    expect(parseConfig({ ...ASGARDEO, protected_resource_metadata: { jwks_uri: other } }).token.jwksUri).toBe(
      other,
    );
  });

  it('resource_identifier is the PRM `resource` and the accepted audience; the PRM never lists body or query', () => {
    const c = parseConfig({
      ...OIDC,
      protected_resource_metadata: {
        resource_identifier: 'http://localhost:8080/sse',
        bearer_methods_supported: ['header', 'body', 'query'],
        jwks_uri: JWKS,
      },
    });
    const prm = buildPrm(c, 'http://localhost:8080', '/mcp');
    expect(prm.resource).toBe('http://localhost:8080/sse');
    expect(prm.bearer_methods_supported).toEqual(['header']);
    expect(prm).not.toHaveProperty('jwks_uri');
    expect(acceptedAudiences(c, 'http://localhost:8080', '/mcp')).toEqual(['http://localhost:8080/sse']);
  });

  it('bearer_methods_supported with body and query (the sample) starts, with a note that only the header is served', () => {
    const c = parseConfig({
      ...OIDC,
      protected_resource_metadata: { bearer_methods_supported: ['header', 'body', 'query'] },
    });
    expect(c.notes).toEqual([
      '`protected_resource_metadata.bearer_methods_supported` lists body and query: only the Authorization header is served (a token in the query string or body is refused, as MCP authorization requires)',
    ]);
  });

  it('transport_mode: stdio with its block, where the caller can spawn (the local runner)', () => {
    const c = parseConfig(
      {
        ...OIDC,
        transport_mode: 'stdio',
        stdio: {
          enabled: true,
          user_command: 'npx -y @modelcontextprotocol/server-github',
          work_dir: '/srv',
          args: ['--x'],
          env: ['GITHUB_PERSONAL_ACCESS_TOKEN=gitPAT'],
        },
      },
      { spawnStdio: true },
    );
    expect(c.transport).toEqual({
      mode: 'stdio',
      stdio: {
        command: 'npx -y @modelcontextprotocol/server-github',
        args: ['--x'],
        workDir: '/srv',
        env: ['GITHUB_PERSONAL_ACCESS_TOKEN=gitPAT'],
      },
    });
    expect(c.ignoredKeys).toEqual([]);
  });

  it('logs the keys without effect and the notes once at cold start, at level info', () => {
    const lines: [string, string, unknown][] = [];
    const log: Logger = {
      debug: (m, f) => lines.push(['debug', m, f]),
      info: (m, f) => lines.push(['info', m, f]),
      warn: (m, f) => lines.push(['warn', m, f]),
      error: (m, f) => lines.push(['error', m, f]),
    };
    logIgnoredKeys(
      parseConfig({ ...OIDC, port: 1, stdio: {}, bearer_methods_supported: ['header', 'query'] }),
      log,
    );
    logIgnoredKeys(parseConfig(OIDC), log);
    expect(lines).toEqual([
      ['info', 'config keys of the original Go proxy have no effect here', { keys: ['port', 'stdio'] }],
      [
        'info',
        '`protected_resource_metadata.bearer_methods_supported` lists query: only the Authorization header is served (a token in the query string or body is refused, as MCP authorization requires)',
        undefined,
      ],
    ]);
  });
});

describe('refused: the message names the key', () => {
  const STDIO = { transport_mode: 'stdio', stdio: { enabled: true, user_command: 'npx -y server' } };
  const cases: [string, Record<string, unknown>, string, string | RegExp][] = [
    [
      'transport_mode: stdio where nothing can spawn it (synth, cold start)',
      STDIO,
      'transport_mode',
      /is "stdio": the MCP server would be a child process of the proxy, which a Lambda function cannot keep\. Serve the stdio server over Streamable HTTP .* set `base_url` to that bridge/,
    ],
    [
      'an unknown transport_mode',
      { transport_mode: 'websocket' },
      'transport_mode',
      'must be one of sse, streamable_http, stdio (got "websocket")',
    ],
    [
      'a stdio.env entry that is not NAME=value',
      { stdio: { env: ['just-a-word'] } },
      'stdio.env',
      'must be a list of values like "NAME=value" (got ["just-a-word"])',
    ],
    [
      'stdio.enabled not a boolean',
      { stdio: { enabled: 'yes' } },
      'stdio.enabled',
      'must be true or false (got "yes")',
    ],
    [
      'an unknown stdio key',
      { stdio: { user_comand: 'x' } },
      'stdio.user_comand',
      'is not a known key; did you mean `stdio.user_command`?',
    ],
    [
      'a top-level key and its protected_resource_metadata twin that differ',
      { audience: 'a', protected_resource_metadata: { audience: 'b' } },
      'audience',
      'and `protected_resource_metadata.audience` are both set, to different values: keep the one under `protected_resource_metadata`',
    ],
    [
      'a top-level scopes_supported mapping (its per-path scope map)',
      { scopes_supported: { '/sse': 'mcp' } },
      'scopes_supported',
      /^is a mapping: the original's per-path scope map/,
    ],
    ['a bad top-level value, named as written', { audience: 5 }, 'audience', 'must be a string (got 5)'],
    [
      'a bad top-level URL, named as written',
      { authorization_servers: ['http://idp.example.com'] },
      'authorization_servers[0]',
      /must use https/,
    ],
    [
      'a plain-http jwks_uri',
      { protected_resource_metadata: { jwks_uri: 'http://idp.example.com/jwks' } },
      'protected_resource_metadata.jwks_uri',
      /must use https/,
    ],
    [
      'jwks_uri and another JWKS key that disagree',
      { token: { jwks_uri: 'https://a.example.com/jwks' }, protected_resource_metadata: { jwks_uri: JWKS } },
      'protected_resource_metadata.jwks_uri',
      'and `token.jwks_uri` name different JWKS (the keys access tokens are verified with): keep one',
    ],
    [
      'jwks_uri and default.jwks_url that disagree',
      {
        default: { base_url: 'https://idp.example.com', jwks_url: 'https://a.example.com/jwks' },
        jwks_uri: JWKS,
      },
      'jwks_uri',
      'and `default.jwks_url` name different JWKS (the keys access tokens are verified with): keep one',
    ],
    [
      'bearer_methods_supported without header',
      { protected_resource_metadata: { bearer_methods_supported: ['query'] } },
      'protected_resource_metadata.bearer_methods_supported',
      /^must include "header": this proxy accepts the access token only in the Authorization header \(RFC 6750 §2\.1\)/,
    ],
    [
      'bearer_methods_supported with another method',
      { bearer_methods_supported: ['header', 'cookie'] },
      'bearer_methods_supported',
      'may list only header, body and query (RFC 6750 §2; got "cookie")',
    ],
    [
      'port out of range',
      { base_url: undefined, port: 70000 },
      'port',
      'must be an integer between 1 and 65535 (got 70000)',
    ],
    [
      'listen_address without a port',
      { listen_address: 'localhost' },
      'listen_address',
      'must look like ":8080" (got "localhost")',
    ],
    [
      'listen_address and another listen_port',
      { listen_address: ':9090', listen_port: 8080 },
      'listen_address',
      'and `listen_port` name different ports: keep `listen_port`',
    ],
    [
      'command (its pre-release stdio block)',
      { command: { enabled: true, user_command: 'x' } },
      'command',
      /^is the original's name, before its first release, of the `stdio` block: rename it to `stdio`/,
    ],
    [
      'mode (set by its command line)',
      { mode: 'demo' },
      'mode',
      /^is set by the original's command line, not by its config .* `npm start -- --demo`/,
    ],
    [
      'auth_server_base_url',
      { auth_server_base_url: 'https://idp.example.com' },
      'auth_server_base_url',
      /^is the original's early name of the identity provider's URL: write it as `default\.base_url`/,
    ],
    [
      'required_scopes as a list (its 1.x per-method map is the scope policy: known-keys.test.ts)',
      { required_scopes: ['s'] },
      'required_scopes',
      /^is the original's per-method scope map/,
    ],
  ];
  it.each(cases)('%s', (_name, keys, key, message) => {
    const e = errorOf(() => parseConfig({ ...OIDC, ...keys }));
    expect(e.key).toBe(key);
    const reason = e.message.slice(`invalid config: \`${key}\` `.length);
    if (typeof message === 'string') expect(reason).toBe(message);
    else expect(reason).toMatch(message);
  });

  it('stdio mode needs stdio.enabled and stdio.user_command, as in the original', () => {
    const spawn = { spawnStdio: true };
    expect(
      errorOf(() => parseConfig({ ...OIDC, transport_mode: 'stdio', stdio: { user_command: 'x' } }, spawn))
        .message,
    ).toBe(
      'invalid config: `stdio.enabled` must be true when `transport_mode` is "stdio" (as in the original)',
    );
    expect(
      errorOf(() => parseConfig({ ...OIDC, transport_mode: 'stdio', stdio: { enabled: true } }, spawn))
        .message,
    ).toBe(
      'invalid config: `stdio.user_command` is required when `transport_mode` is "stdio": the command that starts the MCP server',
    );
  });

  it('cold start refuses stdio too (the functions cannot spawn)', () => {
    const env = { [CONFIG_ENV]: JSON.stringify({ ...OIDC, ...STDIO }) };
    expect(() => configFromEnv(env)).toThrow('invalid config: `transport_mode` is "stdio"');
  });
});
