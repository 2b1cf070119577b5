/**
 * The MCP scope policy's config (functions/shared/config/mcp-policy.ts): our `mcp_policy`
 * section, the original's map in `protected_resource_metadata.scopes_supported` and its older
 * top-level `required_scopes`, into one representation; errors name the key; the PRM lists every
 * scope the map names.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildPrm } from '../../functions/proxy/routes.ts';
import { type Config, ConfigError, parseConfig } from '../../functions/shared/config/index.ts';

const BASE = { base_url: 'http://localhost:8000' };
const cfg = (extra: Record<string, unknown>) => parseConfig({ ...BASE, ...extra });
const prm = (scopes: unknown) => cfg({ protected_resource_metadata: { scopes_supported: scopes } });
/** The policy as plain data, to compare with `toEqual`. */
const plain = (c: Config) => ({
  methods: Object.fromEntries(c.mcpPolicy.methods),
  tools: Object.fromEntries(c.mcpPolicy.tools),
  prompts: Object.fromEntries(c.mcpPolicy.prompts),
  resources: Object.fromEntries(c.mcpPolicy.resources),
  unlisted: c.mcpPolicy.unlisted,
  separators: c.mcpPolicy.hierarchy.separators,
  implies: Object.fromEntries(c.mcpPolicy.hierarchy.implies),
});
const EMPTY = {
  methods: {},
  tools: {},
  prompts: {},
  resources: {},
  unlisted: 'allow',
  separators: [':'],
  implies: {},
};

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no ConfigError');
}

describe('the original sample config.yaml, unchanged', () => {
  const file = fileURLToPath(new URL('../fixtures/original/config.yaml', import.meta.url));
  const c = parseConfig(parseYaml(readFileSync(file, 'utf8')));

  it('maps its scope map onto ours', () => {
    expect(plain(c)).toEqual({
      ...EMPTY,
      methods: { initialize: ['mcp_init'] },
      tools: { echo_tool: ['mcp_echo_tool'] },
    });
  });

  it('serves the flat list of every scope the map names', () => {
    expect(buildPrm(c, 'http://localhost:8080', '/sse').scopes_supported).toEqual([
      'mcp_init',
      'mcp_echo_tool',
    ]);
  });
});

describe('config shapes, one representation', () => {
  it.each<[string, Record<string, unknown>, Partial<typeof EMPTY>]>([
    ['nothing', {}, {}],
    ['flat scopes only', { protected_resource_metadata: { scopes_supported: ['mcp:tools'] } }, {}],
    [
      'the original map',
      {
        protected_resource_metadata: {
          scopes_supported: [{ initialize: 'mcp_init' }, { 'tools/call': [{ echo_tool: 'mcp_echo_tool' }] }],
        },
      },
      { methods: { initialize: ['mcp_init'] }, tools: { echo_tool: ['mcp_echo_tool'] } },
    ],
    [
      'the original map with lists, prompts, resources and a method scope inside the list',
      {
        protected_resource_metadata: {
          scopes_supported: [
            'flat',
            {
              'tools/call': ['mcp_tools', { a: ['s1', 's2'] }, { b: 's3 s4' }],
              'prompts/get': [{ greet: 'p' }],
            },
            { 'resources/read': [{ 'file:///x': 'r' }], 'resources/subscribe': [{ 'file:///x': 'r2' }] },
          ],
        },
      },
      {
        methods: { 'tools/call': ['mcp_tools'] },
        tools: { a: ['s1', 's2'], b: ['s3', 's4'] },
        prompts: { greet: ['p'] },
        resources: { 'file:///x': ['r', 'r2'] },
      },
    ],
    [
      'ours',
      {
        mcp_policy: {
          methods: { initialize: 'mcp:init', 'tools/call': ['mcp:tools'] },
          tools: { echo: 'mcp:tools:echo' },
          prompts: { p: 'x y' },
          resources: { 'ui://a': ['r'] },
          unlisted: 'deny',
          scope_hierarchy: { separators: [':', '/'], implies: { admin: 'mcp:tools', root: ['admin'] } },
        },
      },
      {
        methods: { initialize: ['mcp:init'], 'tools/call': ['mcp:tools'] },
        tools: { echo: ['mcp:tools:echo'] },
        prompts: { p: ['x', 'y'] },
        resources: { 'ui://a': ['r'] },
        unlisted: 'deny',
        separators: [':', '/'],
        implies: { admin: ['mcp:tools'], root: ['admin', 'mcp:tools'] },
      },
    ],
    ['the hierarchy off', { mcp_policy: { scope_hierarchy: { separators: [] } } }, { separators: [] }],
    [
      'all three spellings of one method: the scopes of each',
      {
        required_scopes: { 'tools/call': 'old' },
        mcp_policy: { methods: { 'tools/call': 'ours' }, tools: { echo: 'e1' } },
        protected_resource_metadata: {
          scopes_supported: [{ 'tools/call': ['orig', { echo: 'e2' }] }],
        },
      },
      { methods: { 'tools/call': ['ours', 'old', 'orig'] }, tools: { echo: ['e1', 'e2'] } },
    ],
    [
      'names the user chose, prototype names included',
      { mcp_policy: { tools: JSON.parse('{"__proto__": "p", "constructor": "c"}') } },
      { tools: { ['__proto__']: ['p'], constructor: ['c'] } },
    ],
  ])('%s', (_name, raw, want) => {
    const got = plain(cfg(raw));
    expect(got).toEqual({ ...EMPTY, ...want });
    expect(Object.getPrototypeOf(got.tools)).toBe(Object.prototype);
  });

  it('the PRM lists flat and mapped scopes once each, never offline_access', () => {
    const c = prm(['a', 'offline_access', { initialize: 'b' }, { 'tools/call': ['a', { t: ['c', 'b'] }] }]);
    expect(c.protectedResourceMetadata.scopesSupported).toEqual(['a', 'offline_access', 'b', 'c']);
    expect(buildPrm(c, 'https://p', '/mcp').scopes_supported).toEqual(['a', 'b', 'c']);
  });

  it('a comma-separated string of flat scopes still works', () => {
    expect(prm('a, b').protectedResourceMetadata.scopesSupported).toEqual(['a', 'b']);
  });
});

describe('config errors name the key', () => {
  const SS = 'protected_resource_metadata.scopes_supported';
  it.each<[string, Record<string, unknown>, string]>([
    [
      'scopes_supported a mapping',
      { protected_resource_metadata: { scopes_supported: { a: 'b' } } },
      `\`${SS}\` must be a list of scopes or \`method: scope\` entries`,
    ],
    [
      'a number entry',
      { protected_resource_metadata: { scopes_supported: ['a', 3] } },
      `\`${SS}[1]\` must be a scope or \`method: scope\` (got 3)`,
    ],
    [
      'an empty scope',
      { protected_resource_metadata: { scopes_supported: [{ initialize: '' }] } },
      `\`${SS}[0].initialize\` must be a scope or a list of scopes (got "")`,
    ],
    [
      'a scope with a quote',
      { protected_resource_metadata: { scopes_supported: [{ initialize: 'a"b' }] } },
      `\`${SS}[0].initialize\` must list scope tokens (RFC 6749 §3.3; got "a\\"b")`,
    ],
    [
      'a method twice',
      { protected_resource_metadata: { scopes_supported: [{ initialize: 'a' }, { initialize: 'b' }] } },
      `\`${SS}[1].initialize\` is listed twice`,
    ],
    [
      'a tool twice',
      { protected_resource_metadata: { scopes_supported: [{ 'tools/call': [{ t: 'a' }, { t: 'b' }] }] } },
      `\`${SS}[0].tools/call[1].t\` is listed twice`,
    ],
    [
      'names under a method without names',
      { protected_resource_metadata: { scopes_supported: [{ 'tools/list': [{ t: 'a' }] }] } },
      `\`${SS}[0].tools/list[0]\` names t, but only tools/call, prompts/get, resources/read, resources/subscribe, resources/unsubscribe have per-name scopes`,
    ],
    [
      'a tool scope a mapping',
      { protected_resource_metadata: { scopes_supported: [{ 'tools/call': [{ t: { x: 1 } }] }] } },
      `\`${SS}[0].tools/call[0].t\` must be a scope or a list of scopes`,
    ],
    [
      'a list item a number',
      { protected_resource_metadata: { scopes_supported: [{ 'tools/call': [7] }] } },
      `\`${SS}[0].tools/call[0]\` must be \`name: scope\` or a scope (got 7)`,
    ],
    ['mcp_policy not a mapping', { mcp_policy: ['x'] }, '`mcp_policy` must be a mapping'],
    ['methods a list', { mcp_policy: { methods: ['x'] } }, '`mcp_policy.methods` must be a mapping'],
    [
      'a tool scope a number',
      { mcp_policy: { tools: { echo: 5 } } },
      '`mcp_policy.tools.echo` must be a scope or a list of scopes (got 5)',
    ],
    [
      'a prompt scope empty list',
      { mcp_policy: { prompts: { p: [] } } },
      '`mcp_policy.prompts.p` must be a scope or a list of scopes (got [])',
    ],
    [
      'a resource scope with a space inside a list item is split, a quote is not a scope',
      { mcp_policy: { resources: { r: ['a\\b'] } } },
      '`mcp_policy.resources.r` must list scope tokens',
    ],
    [
      'unlisted neither allow nor deny',
      { mcp_policy: { unlisted: 'Deny' } },
      '`mcp_policy.unlisted` must be "allow" or "deny" (got "Deny")',
    ],
    [
      'separators not a list',
      { mcp_policy: { scope_hierarchy: { separators: [1] } } },
      '`mcp_policy.scope_hierarchy.separators` must be a list of non-empty strings',
    ],
    [
      'implies a list',
      { mcp_policy: { scope_hierarchy: { implies: ['a'] } } },
      '`mcp_policy.scope_hierarchy.implies` must be a mapping',
    ],
    [
      'an implies key not a scope',
      { mcp_policy: { scope_hierarchy: { implies: { 'a b': 'c' } } } },
      '`mcp_policy.scope_hierarchy.implies.a b` is not a scope token',
    ],
    [
      'an unknown mcp_policy key',
      { mcp_policy: { unlistd: 'deny' } },
      '`mcp_policy.unlistd` is not a known key; did you mean `mcp_policy.unlisted`?',
    ],
    [
      'an unknown hierarchy key',
      { mcp_policy: { scope_hierarchy: { separator: [':'] } } },
      '`mcp_policy.scope_hierarchy.separator` is not a known key; did you mean `mcp_policy.scope_hierarchy.separators`?',
    ],
    [
      'required_scopes a list',
      { required_scopes: ['a'] },
      "`required_scopes` is the original's per-method scope map",
    ],
    [
      'required_scopes with a bad scope',
      { required_scopes: { initialize: ['a b', 3] } },
      '`required_scopes.initialize` must be a scope or a list of scopes',
    ],
  ])('%s', (_name, raw, message) => {
    expect(errorOf(() => cfg(raw))).toContain(`invalid config: ${message}`);
  });
});
