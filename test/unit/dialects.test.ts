/**
 * The per-IdP parameter rules of one-upstream-client mode (providers/dialects.ts), table-driven,
 * and the config checks that go with them (discovery.upstream_client).
 */
import { describe, expect, it } from 'vitest';
import {
  DIALECTS,
  type DialectName,
  defaultDialect,
  dialectAuthorizeParams,
  dialectTokenParams,
} from '../../functions/discovery/providers/dialects.ts';
import { ConfigError, parseConfig } from '../../functions/shared/config/index.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
const clientAuthorize = () =>
  new URLSearchParams({
    response_type: 'code',
    client_id: 'mcp-x',
    scope: 'mcp:tools offline_access',
    resource: RESOURCE,
    state: 's',
  });
const clientToken = () =>
  new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r', resource: RESOURCE });

/** dialect, settings → what the IdP's /authorize gets for resource, audience, scope, extras. */
const AUTHORIZE: [DialectName, { scope?: string; audience?: string }, Record<string, string | null>][] = [
  [
    'generic',
    {},
    { resource: RESOURCE, audience: null, scope: 'mcp:tools offline_access', access_type: null },
  ],
  [
    'entra',
    { scope: 'api://app-1/mcp.tools offline_access' },
    { resource: null, audience: null, scope: 'api://app-1/mcp.tools offline_access' },
  ],
  ['google', { scope: 'openid email' }, { resource: null, scope: 'openid email', access_type: 'offline' }],
  ['okta', {}, { resource: null, audience: null, scope: 'mcp:tools offline_access' }],
  ['auth0', {}, { resource: null, audience: RESOURCE }],
  ['auth0', { audience: 'https://api.example.com' }, { resource: null, audience: 'https://api.example.com' }],
  ['keycloak', {}, { resource: null, audience: null }],
  [
    'cognito',
    { scope: 'https://mcp.example.com/mcp.tools' },
    { resource: null, scope: 'https://mcp.example.com/mcp.tools' },
  ],
  ['asgardeo', {}, { resource: RESOURCE, audience: null }],
  ['generic', { audience: 'aud-1' }, { resource: RESOURCE, audience: 'aud-1' }],
];

describe('dialects at /authorize', () => {
  it.each(AUTHORIZE)('%s %j', (name, settings, want) => {
    const input = clientAuthorize();
    const out = dialectAuthorizeParams(DIALECTS[name], settings, input);
    for (const [k, v] of Object.entries(want)) expect(out.get(k), k).toBe(v);
    // Everything else the client sent is left alone, and the input is not changed.
    expect(out.get('state')).toBe('s');
    expect(out.get('client_id')).toBe('mcp-x');
    expect(input.get('resource')).toBe(RESOURCE);
  });
});

/** dialect, settings, client's token body → resource and scope at the IdP's /token. */
const TOKEN: [DialectName, { scope?: string }, boolean, { resource: string | null; scope: string | null }][] =
  [
    ['generic', {}, false, { resource: RESOURCE, scope: null }],
    ['entra', { scope: 'api://app-1/.default' }, false, { resource: null, scope: 'api://app-1/.default' }],
    ['entra', { scope: 'api://app-1/.default' }, true, { resource: null, scope: 'api://app-1/.default' }],
    ['google', {}, false, { resource: null, scope: null }],
    ['okta', { scope: 'mcp:tools' }, false, { resource: null, scope: null }],
    ['okta', { scope: 'mcp:tools' }, true, { resource: null, scope: 'mcp:tools' }],
    ['auth0', {}, false, { resource: null, scope: null }],
    ['keycloak', {}, false, { resource: null, scope: null }],
    ['cognito', {}, true, { resource: null, scope: 'client-scope' }],
    ['asgardeo', {}, false, { resource: RESOURCE, scope: null }],
  ];

describe('dialects at /token', () => {
  it.each(TOKEN)('%s %j (client sends scope: %s)', (name, settings, withScope, want) => {
    const input = clientToken();
    if (withScope) input.set('scope', 'client-scope');
    const out = dialectTokenParams(DIALECTS[name], settings, input);
    expect(out.get('resource')).toBe(want.resource);
    expect(out.get('scope')).toBe(want.scope);
    expect(out.get('refresh_token')).toBe('r');
  });
});

it('only Google access tokens are not JWTs the proxy can verify', () => {
  expect(
    Object.entries(DIALECTS)
      .filter(([, d]) => !d.jwtAccessTokens)
      .map(([n]) => n),
  ).toEqual(['google']);
});

it.each([
  ['oidc', 'generic'],
  ['embedded', 'generic'],
  ['cognito', 'cognito'],
  ['asgardeo', 'asgardeo'],
])('provider %s speaks %s by default', (provider, dialect) => {
  expect(defaultDialect(provider)).toBe(dialect);
});

describe('discovery.upstream_client config', () => {
  const KEY = 'k'.repeat(32);
  const base = (discovery: Record<string, unknown>) => ({
    base_url: 'http://localhost:8000',
    provider: 'oidc',
    default: { base_url: 'https://login.example.com/t/v2.0' },
    discovery,
  });
  const uc = { client_id: 'app-1', client_secret_ssm_parameter: '/mcp/upstream' };

  it('parses with defaults and the secret from SSM', () => {
    const c = parseConfig(base({ signing_key: KEY, upstream_client: uc }));
    expect(c.discovery.upstreamClient).toEqual({
      clientId: 'app-1',
      clientSecret: { ssmParameter: '/mcp/upstream' },
      tokenEndpointAuthMethod: 'client_secret_basic',
      dialect: 'generic',
      scope: undefined,
      audience: undefined,
    });
  });

  const refusals: [string, Record<string, unknown>, string, RegExp][] = [
    ['no signing key', { upstream_client: uc }, 'discovery.upstream_client', /discovery\.signing_key/],
    [
      'consent off',
      { signing_key: KEY, consent: 'off', upstream_client: uc },
      'discovery.consent',
      /upstream_client/,
    ],
    [
      'no client id',
      { signing_key: KEY, upstream_client: { client_secret: 's' } },
      'discovery.upstream_client.client_id',
      /required/,
    ],
    [
      'no secret',
      { signing_key: KEY, upstream_client: { client_id: 'a' } },
      'discovery.upstream_client.client_secret',
      /required/,
    ],
    [
      'entra without scope',
      { signing_key: KEY, upstream_client: { ...uc, dialect: 'entra' } },
      'discovery.upstream_client.scope',
      /required for the "entra" dialect/,
    ],
    [
      'a dialect of another provider',
      { signing_key: KEY, upstream_client: { ...uc, dialect: 'cognito' } },
      'discovery.upstream_client.dialect',
      /provider cognito/,
    ],
    [
      'an unknown dialect',
      { signing_key: KEY, upstream_client: { ...uc, dialect: 'azure' } },
      'discovery.upstream_client.dialect',
      /must be one of/,
    ],
    [
      'a bad auth method',
      { signing_key: KEY, upstream_client: { ...uc, token_endpoint_auth_method: 'none' } },
      'discovery.upstream_client.token_endpoint_auth_method',
      /client_secret_basic/,
    ],
    [
      'a malformed scope',
      { signing_key: KEY, upstream_client: { ...uc, scope: 'a  b' } },
      'discovery.upstream_client.scope',
      /scope names/,
    ],
  ];
  it.each(refusals)('refuses %s, naming the key', (_what, discovery, key, message) => {
    let err: unknown;
    try {
      parseConfig(base(discovery));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(key);
    expect((err as Error).message).toMatch(message);
  });
});
