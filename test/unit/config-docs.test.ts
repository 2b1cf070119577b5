/**
 * docs/configuration.md against the key tables the parser takes its defaults from
 * (functions/shared/config/*.ts): every key `parseConfig` reads is in a table, every table key is
 * in the docs' `| Key | Default | Meaning |` tables with the same default, and every documented
 * key exists.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../functions/shared/config/index.ts';
import { type KeyDef, keyTables } from '../../functions/shared/config/keys.ts';

const doc = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');

// ---------------------------------------------------------------------------------------------
// The tables: each key with the names it may be written as.

interface Entry {
  readonly key: string;
  readonly def: KeyDef;
  /** The key, its aliases and, for secrets, `<key>_ssm_parameter`. */
  readonly names: readonly string[];
}
const entries: Entry[] = keyTables().flatMap((t) =>
  Object.entries(t.keys).map(([name, def]) => {
    const full = (n: string) => (t.name ? `${t.name}.${n}` : n);
    const names = [name, ...(def.aliases ?? []), ...(def.type === 'secret' ? [`${name}_ssm_parameter`] : [])];
    return { key: full(name), def, names: names.map(full) };
  }),
);
const names = entries.flatMap((e) => e.names.map((n) => ({ name: n, entry: e })));

/** `<path>` in a table name stands for any key (e.g. `default.path./authorize.addQueryParams`). */
const pattern = (name: string, suffix = '') =>
  new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[a-z]+>/g, '.+')}${suffix}$`);
const matches = (name: string, key: string) => key === name || pattern(name).test(key);
/** `key` is a mapping above `name` (`token` for `token.issuer`, `default.path./a` for `default.path.<path>.response`). */
const above = (name: string, key: string) =>
  [...name.matchAll(/\./g)].some((m) => matches(name.slice(0, m.index), key));

// ---------------------------------------------------------------------------------------------
// The docs: every `| Key | Default | Meaning |` table row, by each name its Key cell lists.

const documented = new Map<string, string>();
for (const block of doc.split(/\n(?=\| Key \| Default \| Meaning \|\n)/).slice(1)) {
  const lines = block.split('\n');
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.slice(1, -1).split(' | ');
    if (cells.length !== 3) throw new Error(`docs/configuration.md: not a 3-cell row: ${line}`);
    for (const [, n] of cells[0]!.matchAll(/`([^`]+)`/g)) documented.set(n!, cells[1]!.trim());
  }
}

const UNSET = /^(—|omitted|unset)/;

/** How the docs' Default cell must start for this key. */
function expectedDefault(d: KeyDef): string | RegExp {
  if (d.required) return '**required**';
  if (d.derived) return d.derived;
  const v = 'default' in d ? d.default : undefined;
  if (v === undefined) return UNSET;
  if (d.type === 'int') return `\`${v}\` (${d.min}–${d.max}`;
  if (Array.isArray(v)) return v.length ? `\`${v.join(', ')}\`` : '`[]`';
  if (typeof v === 'object') return '`{}`';
  return `\`${v}\``;
}

function defaultMatches(d: KeyDef, cell: string): boolean {
  const want = expectedDefault(d);
  if (want instanceof RegExp) return want.test(cell);
  if (!cell.startsWith(want)) return false;
  // An integer's range must end there: `30` (1–900) or `25` (0–900, `0` = off).
  return d.type !== 'int' || /^[),]/.test(cell.slice(want.length));
}

describe('docs/configuration.md documents every config key', () => {
  it('finds the tables (keys, docs rows)', () => {
    expect(entries.length).toBeGreaterThan(50);
    expect(documented.size).toBeGreaterThan(50);
  });

  it.each(names.map((n) => [n.name, n.entry] as const))('`%s` is documented', (name, e) => {
    const rows = [...documented.keys()].filter((k) => matches(name, k));
    expect(rows, `\`${name}\` is parsed but not in a table of docs/configuration.md`).not.toEqual([]);
    for (const row of rows) {
      const cell = documented.get(row)!;
      expect(
        defaultMatches(e.def, cell),
        `\`${row}\`: docs say the default is "${cell}", the parser's is ${String(expectedDefault(e.def))}`,
      ).toBe(true);
    }
  });

  it('documents no key the parser does not read', () => {
    const unknown = [...documented.keys()].filter((k) => !names.some((n) => matches(n.name, k)));
    expect(unknown).toEqual([]);
  });

  it('lists exactly the https-only keys', () => {
    const para = /\*\*https only for the URLs security depends on\.\*\*([\s\S]*?)must use `https`/.exec(doc);
    expect(para).not.toBeNull();
    const listed = [...para![1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
    const secure = entries
      .filter((e) => (e.def.type === 'url' || e.def.type === 'list') && e.def.secure)
      .map((e) => e.key)
      .sort();
    expect(listed).toEqual(secure);
  });
});

// ---------------------------------------------------------------------------------------------
// What `parseConfig` really reads: every key it looks up in the raw config, recorded.

/** A deep view of `raw` that records every key path read from it. */
function recording(raw: Record<string, unknown>, read: Set<string>): Record<string, unknown> {
  const wrap = (o: object, at: string): object =>
    new Proxy(o, {
      get(target, k, receiver) {
        const v = Reflect.get(target, k, receiver);
        if (typeof k !== 'string') return v;
        const key = at ? `${at}.${k}` : k;
        read.add(key);
        return v && typeof v === 'object' && !Array.isArray(v) ? wrap(v, key) : v;
      },
    });
  return wrap(structuredClone(raw), '') as Record<string, unknown>;
}

const UPSTREAM = { base_url: 'http://localhost:8000' };
const EVERY_COMMON_KEY = {
  ...UPSTREAM,
  timeout_seconds: 10,
  proxy_base_url: 'https://mcp.example.com',
  listen_port: 8081,
  identity_header_prefix: 'x-auth-',
  jwks_url: 'https://idp.example.com/jwks',
  mcp_paths: ['/mcp'],
  path_mapping: { '/token': '/oauth/token' },
  paths: { streamable_http: '/mcp', sse: '/sse', messages: '/messages' },
  cors: {
    allowed_origins: ['https://app.example.com'],
    allowed_methods: ['GET'],
    allowed_headers: ['Authorization'],
    exposed_headers: ['Mcp-Session-Id'],
    allow_credentials: true,
    max_age_seconds: 60,
  },
  mcp_policy: {
    methods: { initialize: 'mcp:init' },
    tools: { echo: 'mcp:tools:echo' },
    prompts: { greet: ['mcp:prompts'] },
    resources: { 'file:///a': 'mcp:resources' },
    unlisted: 'deny',
    scope_hierarchy: { separators: [':'], implies: { admin: ['mcp:tools'] } },
  },
  required_scopes: { 'tools/list': 'mcp:list' },
  protected_resource_metadata: {
    resource_identifier: 'https://mcp.example.com/mcp',
    authorization_servers: ['https://auth.example.com'],
    scopes_supported: ['mcp'],
    resource_name: 'MCP',
    resource_documentation: 'https://mcp.example.com/docs',
  },
  token: {
    issuer: 'https://idp.example.com',
    jwks_uri: 'https://idp.example.com/jwks',
    audience: ['api://mcp'],
    algorithms: ['RS256'],
    clock_skew_seconds: 5,
    jwks_cooldown_seconds: 5,
    accepted_types: ['at+jwt'],
    required_scopes: ['mcp'],
  },
  stream: { max_duration_seconds: 60, heartbeat_seconds: 10 },
  logging: { debug_sample_percent: 5 },
  discovery: {
    base_url: 'https://auth.example.com',
    consent: 'required',
    signing_key: 'k'.repeat(32),
    allowed_redirect_hosts: ['claude.ai'],
    allowed_redirect_schemes: ['cursor'],
    client_id_metadata_documents: true,
    cimd_idp_client_id: 'facade-cimd',
    cimd_idp_client_secret: 's',
  },
};
/** Between them, every key of every provider (and every alias) is set at least once. */
const SAMPLES: Record<string, unknown>[] = [
  {
    ...EVERY_COMMON_KEY,
    provider: 'oidc',
    default: {
      base_url: 'https://idp.example.com',
      issuer: 'https://idp.example.com',
      jwks_url: 'https://idp.example.com/jwks',
      client_id: 'c',
      client_secret: 's',
      path: {
        '/.well-known/oauth-authorization-server': { response: { issuer: 'https://idp.example.com' } },
        '/authorize': { addQueryParams: [{ name: 'audience', value: 'a' }] },
        '/token': { addBodyParams: [{ name: 'audience', value: 'a' }] },
      },
    },
  },
  {
    mcp_server_base_url: 'http://localhost:8000',
    discovery: {
      signing_key_ssm_parameter: '/k',
      cimd_idp_client_id: 'facade-cimd',
      cimd_idp_client_secret_ssm_parameter: '/c',
    },
    default: { base_url: 'https://idp.example.com', client_secret_ssm_parameter: '/s' },
  },
  {
    ...UPSTREAM,
    provider: 'asgardeo',
    asgardeo: {
      org_name: 'acme',
      client_id: 'c',
      client_secret: 's',
      api_base_url: 'https://api.asgardeo.io',
      client_id_mode: 'read_back',
    },
  },
  {
    ...UPSTREAM,
    provider: 'asgardeo',
    demo: { org_name: 'acme', client_id: 'c', client_secret_ssm_parameter: '/s' },
  },
  {
    ...UPSTREAM,
    provider: 'cognito',
    cognito: {
      user_pool_id: 'eu-west-1_AbC123',
      domain_url: 'https://acme.auth.eu-west-1.amazoncognito.com',
      scopes: ['mcp/tools'],
      endpoint: 'http://localhost:9229',
    },
  },
  { ...UPSTREAM, provider: 'embedded', embedded: { port: 9001, issuer: 'http://localhost:9001' } },
  {
    // The original's keys: its stdio block (checked, used only in stdio mode), PRM JWKS and methods.
    port: 8000,
    listen_address: ':8080',
    transport_mode: 'sse',
    stdio: { enabled: false, user_command: 'npx -y server', work_dir: '/srv', args: ['-v'], env: ['A=1'] },
    protected_resource_metadata: {
      jwks_uri: 'https://idp.example.com/jwks',
      bearer_methods_supported: ['header', 'query'],
    },
    provider: 'oidc',
    default: { base_url: 'https://idp.example.com' },
  },
  {
    ...UPSTREAM,
    provider: 'oidc',
    default: { base_url: 'https://tenant.auth0.example/', issuer: 'https://tenant.auth0.example/' },
    discovery: {
      signing_key: 'k'.repeat(32),
      upstream_client: {
        client_id: 'app',
        client_secret: 's',
        token_endpoint_auth_method: 'client_secret_post',
        dialect: 'auth0',
        scope: 'openid offline_access mcp:tools',
        audience: 'https://mcp.example.com/mcp',
      },
    },
  },
  {
    ...UPSTREAM,
    provider: 'cognito',
    cognito: {
      user_pool_id: 'eu-west-1_AbC123',
      domain_url: 'https://acme.auth.eu-west-1.amazoncognito.com',
    },
    discovery: {
      signing_key_ssm_parameter: '/k',
      upstream_client: { client_id: 'app', client_secret_ssm_parameter: '/s' },
    },
  },
  {
    ...UPSTREAM,
    provider: 'embedded',
    proxy_secret_ssm_parameter: '/proxy-secret',
    session_binding: { enabled: false },
    upstream_identity: { enabled: true, header: 'x-mcp-auth-jwt', audience: 'mcp', lifetime_seconds: 30 },
  },
];

describe('parseConfig reads only keys of the tables', () => {
  const read = new Set<string>();
  for (const s of SAMPLES) parseConfig(recording(s, read));
  /** The original's `demo` block is read with the `asgardeo` table. */
  const asTable = (k: string) => {
    for (const t of keyTables())
      for (const a of t.aliases ?? [])
        if (k === a || k.startsWith(`${a}.`)) return t.name + k.slice(a.length);
    return k;
  };

  it('every key read is a table key, a section, or inside a mapping-valued key', () => {
    const stray = [...read]
      .map(asTable)
      .filter(
        (k) =>
          !names.some(
            (n) =>
              matches(n.name, k) ||
              above(n.name, k) ||
              (n.entry.def.type === 'mapping' && pattern(n.name, '\\..+').test(k)),
          ),
      );
    expect(stray, 'keys parseConfig reads that no key table lists').toEqual([]);
  });

  it('every table key is read by one of the samples', () => {
    const reads = [...read].map(asTable);
    const unread = names.filter((n) => !reads.some((k) => matches(n.name, k))).map((n) => n.name);
    expect(unread).toEqual([]);
  });
});

describe('keys marked required', () => {
  const without = (raw: Record<string, unknown>, key: string) => {
    const copy = structuredClone(raw);
    const path = key.split('.');
    let at: Record<string, unknown> | undefined = copy;
    for (const k of path.slice(0, -1)) at = at?.[k] as Record<string, unknown> | undefined;
    if (!at || !(path.at(-1)! in at)) return undefined;
    delete at[path.at(-1)!];
    return copy;
  };
  it.each(entries.filter((e) => e.def.required).map((e) => [e.key] as const))(
    '`%s` is refused when missing, naming the key',
    (key) => {
      const raw = SAMPLES.map((s) => without(s, key)).find((s) => s !== undefined);
      expect(raw, `no sample sets \`${key}\``).toBeDefined();
      let error: unknown;
      try {
        parseConfig(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe(key);
    },
  );
});
