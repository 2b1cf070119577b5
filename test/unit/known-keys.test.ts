/**
 * Unknown keys are refused in every section (functions/shared/config/known-keys.ts), naming the
 * full key and the closest known one; the original Go proxy's `required_scopes` is its scope
 * map; the `deploy:` block is checked against `DEPLOY_KEYS`, which must list exactly what
 * its parser reads.
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, ConfigError, configFromEnv, parseConfig } from '../../functions/shared/config/index.ts';
import { closestKey, editDistance, type KnownKeys } from '../../functions/shared/config/known-keys.ts';
import { DEPLOY_KEYS, parseDeployOptions } from '../../lib/deploy-options.ts';

const OIDC = {
  provider: 'oidc',
  base_url: 'http://localhost:8000',
  default: {
    base_url: 'https://idp.example.com',
    path: { '/token': { addBodyParams: [{ name: 'audience', value: 'a' }] } },
  },
};

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
}

/** `raw` with `value` set at the dotted `path` (`[i]` steps into a list). */
function withKey(raw: object, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(raw) as Record<string, unknown>;
  const parts = path.split(/\.(?![^[]*\])|(?=\[)/).filter(Boolean);
  let at: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    const k = p.startsWith('[') ? Number(p.slice(1, -1)) : p;
    at[k] ??= {};
    at = at[k] as Record<string, unknown>;
  }
  at[parts.at(-1)!] = value;
  return copy;
}

describe('the closest known key', () => {
  it.each([
    ['consnet', 'consent', 1],
    ['reserved_concurency', 'reserved_concurrency', 1],
    ['addbodyparams', 'addBodyParams', 0],
    ['base_ulr', 'base_url', 1],
    ['tokne', 'token', 1],
    ['x', 'y', 1],
    ['', 'abc', 3],
  ])('editDistance(%s, %s) = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('suggests only a key near enough to be a typo, the nearest first', () => {
    expect(closestKey('consnet', ['consent', 'base_url'])).toBe('consent');
    expect(closestKey('issuer', ['issuer_x', 'issue'])).toBe('issue');
    expect(closestKey('zzz', ['token', 'paths'])).toBeUndefined();
    expect(closestKey('cors_origins', ['cors'])).toBeUndefined();
    expect(closestKey('memory', ['memory_mb', 'timeout_seconds'])).toBe('memory_mb');
    expect(closestKey('mem', ['memory_mb'])).toBeUndefined();
  });
});

describe('parseConfig refuses unknown keys in every section', () => {
  const ASGARDEO = {
    base_url: 'http://localhost:8000',
    asgardeo: { org_name: 'a', client_id: 'c', client_secret: 's' },
  };
  const DEMO = {
    base_url: 'http://localhost:8000',
    demo: { org_name: 'a', client_id: 'c', client_secret: 's' },
  };
  const COGNITO = {
    base_url: 'http://localhost:8000',
    provider: 'cognito',
    cognito: {
      user_pool_id: 'eu-west-1_Ab',
      domain_url: 'https://x.auth.eu-west-1.amazoncognito.com',
      scopes: ['mcp/tools'],
    },
  };
  const EMBEDDED = { base_url: 'http://localhost:8000' };
  it.each([
    ['proxy_base_ur', OIDC, 'proxy_base_url'],
    ['identity_header_prefx', OIDC, 'identity_header_prefix'],
    ['paths.streamable', OIDC, 'paths.streamable_http'],
    ['paths.ssee', OIDC, 'paths.sse'],
    ['cors.allowed_origin', OIDC, 'cors.allowed_origins'],
    ['protected_resource_metadata.resource_nam', OIDC, 'protected_resource_metadata.resource_name'],
    ['token.audiences', OIDC, 'token.audience'],
    ['stream.heartbeat_second', OIDC, 'stream.heartbeat_seconds'],
    ['discovery.consnet', OIDC, 'discovery.consent'],
    ['discovery.signing_key_ssm_paramter', OIDC, 'discovery.signing_key_ssm_parameter'],
    ['default.client_secert', OIDC, 'default.client_secret'],
    ['default.path./token.addBodyParam', OIDC, 'default.path./token.addBodyParams'],
    ['default.path./token.addBodyParams[0].vaule', OIDC, 'default.path./token.addBodyParams[0].value'],
    ['asgardeo.org', ASGARDEO, undefined],
    ['asgardeo.client_id_mod', ASGARDEO, 'asgardeo.client_id_mode'],
    ['demo.clientsecret', DEMO, 'demo.client_secret'],
    ['cognito.scope', COGNITO, 'cognito.scopes'],
    ['embedded.prot', EMBEDDED, 'embedded.port'],
  ] as const)('`%s`', (key, raw, near) => {
    const e = errorOf(() => parseConfig(withKey(raw, key, 'x')));
    expect(e.key).toBe(key);
    if (near)
      expect(e.message).toBe(`invalid config: \`${key}\` is not a known key; did you mean \`${near}\`?`);
    else
      expect(e.message).toMatch(
        new RegExp(
          `^invalid config: \`${key.replace(/[.[\]/]/g, '\\$&')}\` is not a known key; the keys here are \``,
        ),
      );
  });

  it('lists the keys of the section when none is close', () => {
    expect(errorOf(() => parseConfig({ ...OIDC, stream: { bound: 1 } })).message).toBe(
      'invalid config: `stream.bound` is not a known key; the keys here are `heartbeat_seconds`, `max_duration_seconds`, `max_per_subject`',
    );
    const top = errorOf(() => parseConfig({ ...OIDC, zzzzzz: 1 })).message;
    expect(top).toContain('`base_url`');
    expect(top).toContain('`transport_mode`');
  });

  it('refuses at cold start too (the environment of both functions)', () => {
    const env = { [CONFIG_ENV]: JSON.stringify({ ...OIDC, discovery: { consnet: 'off' } }) };
    expect(() => configFromEnv(env)).toThrow(
      'invalid config: `discovery.consnet` is not a known key; did you mean `discovery.consent`?',
    );
  });
});

describe("the original Go proxy's keys (the rest: test/unit/original-keys.test.ts)", () => {
  it("the original's top-level `required_scopes` (method → scope) is enforced, a list refused", () => {
    const c = parseConfig({ ...OIDC, required_scopes: { 'tools/call': 'mcp_tools' } });
    expect(c.mcpPolicy.methods.get('tools/call')).toEqual(['mcp_tools']);
    expect(errorOf(() => parseConfig({ ...OIDC, required_scopes: ['mcp_tools'] })).message).toBe(
      "invalid config: `required_scopes` is the original's per-method scope map (`method: scope`); scopes every request needs go in `token.required_scopes`",
    );
  });
});

describe('the `deploy:` block', () => {
  const VALID = {
    stack_name: 'S',
    account: '123456789012',
    region: 'eu-west-1',
    runtime: 'nodejs22.x',
    log_retention_days: 30,
    ssm_kms_key_arn: 'arn:aws:kms:eu-west-1:123456789012:key/1234',
    client_name: 'x',
    proxy: { memory_mb: 512, timeout_seconds: 870, reserved_concurrency: 10 },
    discovery: { memory_mb: 256, timeout_seconds: 15, reserved_concurrency: 5 },
    vpc: {
      id: 'vpc-0123456789abcdef0',
      lookup: false,
      availability_zones: ['eu-west-1a'],
      private_subnet_ids: ['subnet-0123456789abcdef0'],
      attach_discovery: true,
      ssm_endpoint: true,
    },
    cloudfront: {
      domain_name: 'mcp.example.com',
      certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/1111',
      hosted_zone_id: 'Z0123456789',
      hosted_zone_name: 'example.com',
      origin_read_timeout_seconds: 60,
      web_acl_arn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/n/i',
    },
    cognito: { domain_prefix: 'acme', resource_server_identifier: 'mcp', scopes: ['tools'] },
    budget: { monthly_limit_usd: 100, email: 'billing@example.com' },
  };
  const leaves = (s: KnownKeys, at = ''): string[] =>
    Object.entries(s.keys).flatMap(([k, v]) =>
      typeof v === 'object' ? leaves(v, `${at}${k}.`) : [`${at}${k}`],
    );

  it('a complete block parses', () => {
    expect(parseDeployOptions({ deploy: VALID }).proxy.reservedConcurrency).toBe(10);
  });

  it.each(leaves(DEPLOY_KEYS))('`deploy.%s` is listed and read by the parser', (key) => {
    // A mapping where a value belongs: only a parser that reads the key can refuse it by name.
    expect(errorOf(() => parseDeployOptions({ deploy: withKey(VALID, key, { x: 1 }) })).key).toBe(
      `deploy.${key}`,
    );
  });

  it.each([
    ['proxy.reserved_concurency', 'deploy.proxy.reserved_concurrency'],
    ['discovery.memory', 'deploy.discovery.memory_mb'],
    ['cloudfrnt', 'deploy.cloudfront'],
    ['vpc.idd', 'deploy.vpc.id'],
    ['cognito.domain_prefx', 'deploy.cognito.domain_prefix'],
    ['log_retention', 'deploy.log_retention_days'],
    ['logs', undefined],
  ] as const)('`deploy.%s` is refused', (key, near) => {
    const e = errorOf(() => parseDeployOptions({ deploy: withKey(VALID, key, 1) }));
    expect(e.key).toBe(`deploy.${key}`);
    expect(e.message).toContain(
      near ? `did you mean \`${near}\`?` : 'the keys here are `account`, `alarms`, `budget`, `client_name`',
    );
  });
});
