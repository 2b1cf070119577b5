/**
 * Proxy routing and Protected Resource Metadata (functions/proxy/routes.ts): which exact paths
 * are MCP endpoints or their RFC 9728 documents, and what those documents and audiences say.
 */
import { describe, expect, it } from 'vitest';
import {
  acceptedAudiences,
  authorizationServers,
  buildPrm,
  PRM_PREFIX,
  prmUrl,
  resourceUrl,
  route,
} from '../../functions/proxy/routes.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';

const cfg = parseConfig({ base_url: 'http://up', paths: { messages: '/messages' } });
const PRM = '/.well-known/oauth-protected-resource';
const withPrm = (p: Partial<Config['protectedResourceMetadata']>): Config => ({
  ...cfg,
  protectedResourceMetadata: { ...cfg.protectedResourceMetadata, ...p },
});

describe('route', () => {
  it.each<[string, ReturnType<typeof route>]>([
    [PRM, { kind: 'prm', mcpPath: '/mcp' }],
    [`${PRM}/`, { kind: 'prm', mcpPath: '/mcp' }],
    [`${PRM}/mcp`, { kind: 'prm', mcpPath: '/mcp' }],
    [`${PRM}/mcp//`, { kind: 'prm', mcpPath: '/mcp' }],
    [`${PRM}/sse`, { kind: 'prm', mcpPath: '/sse' }],
    [`${PRM}/messages`, { kind: 'prm', mcpPath: '/sse' }],
    [`${PRM}x`, { kind: 'none' }],
    [`${PRM}/mcp/x`, { kind: 'none' }],
    [`/x${PRM}`, { kind: 'none' }],
    ['/mcp', { kind: 'mcp', transport: 'streamable', mcpPath: '/mcp' }],
    ['/mcp/', { kind: 'mcp', transport: 'streamable', mcpPath: '/mcp' }],
    ['/mcp//', { kind: 'none' }],
    ['/sse', { kind: 'mcp', transport: 'sse', mcpPath: '/sse' }],
    ['/messages', { kind: 'mcp', transport: 'messages', mcpPath: '/sse' }],
    ['/', { kind: 'none' }],
    ['', { kind: 'none' }],
  ])('%j', (path, want) => {
    expect(route(cfg, path)).toEqual(want);
  });

  it('routes a root MCP path without stripping it', () => {
    const c = { ...cfg, paths: { ...cfg.paths, streamableHttp: '/' } };
    expect(route(c, '/')).toEqual({ kind: 'mcp', transport: 'streamable', mcpPath: '/' });
    expect(PRM_PREFIX).toBe(PRM);
  });
});

describe('metadata', () => {
  it('names the resource by its public URL unless one is configured, and its PRM URL', () => {
    expect(resourceUrl(cfg, 'https://p', '/mcp')).toBe('https://p/mcp');
    expect(resourceUrl(withPrm({ resourceIdentifier: 'https://r/x' }), 'https://p', '/mcp')).toBe(
      'https://r/x',
    );
    expect(prmUrl('https://p', '/sse')).toBe(`https://p${PRM}/sse`);
  });

  it('accepts the configured audiences, else the resource URL', () => {
    const c = { ...cfg, token: { ...cfg.token, audience: ['https://a', 'https://b'] } };
    expect(acceptedAudiences(c, 'https://p', '/mcp')).toEqual(['https://a', 'https://b']);
    expect(acceptedAudiences(cfg, 'https://p', '/mcp')).toEqual(['https://p/mcp']);
  });

  it.each<[string, Config, string[]]>([
    [
      'the configured list',
      withPrm({ authorizationServers: ['https://as1', 'https://as2'] }),
      ['https://as1', 'https://as2'],
    ],
    [
      'the discovery function',
      { ...cfg, discovery: { ...cfg.discovery, baseUrl: 'https://facade' } },
      ['https://facade'],
    ],
    ['the token issuer', { ...cfg, discovery: { ...cfg.discovery, baseUrl: undefined } }, [cfg.token.issuer]],
  ])('lists %s as authorization servers', (_n, c, want) => {
    expect(authorizationServers(c)).toEqual(want);
  });

  it('builds the document with only the members configured', () => {
    const bare = withPrm({
      scopesSupported: undefined,
      resourceName: undefined,
      resourceDocumentation: undefined,
    });
    expect(buildPrm(bare, 'https://p', '/mcp')).toStrictEqual({
      resource: 'https://p/mcp',
      authorization_servers: authorizationServers(bare),
      bearer_methods_supported: ['header'],
    });
    const full = withPrm({
      scopesSupported: ['offline_access', 'mcp:tools'],
      resourceName: 'Tools',
      resourceDocumentation: 'https://docs.example',
    });
    expect(buildPrm(full, 'https://p', '/sse')).toEqual({
      resource: 'https://p/sse',
      authorization_servers: authorizationServers(full),
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
      resource_name: 'Tools',
      resource_documentation: 'https://docs.example',
    });
  });
});
