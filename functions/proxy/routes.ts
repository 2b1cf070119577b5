/**
 * Pure routing and Protected Resource Metadata (RFC 9728) for the proxy.
 */
import type { Config } from '../shared/config/index.ts';

export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

/** The public key of the identity JWT for upstreams (upstream-identity.ts): a JWK Set, RFC 7517 §5. */
export const JWKS_PATH = '/.well-known/mcp-auth-proxy/jwks.json';

export type Route =
  | { kind: 'prm'; mcpPath: string }
  /** The public key of the identity JWT (upstream-identity.ts), with `upstream_identity` on. */
  | { kind: 'jwks' }
  | { kind: 'mcp'; transport: 'streamable' | 'sse' | 'messages'; mcpPath: string }
  | { kind: 'none' };

/** `path` is exactly `endpoint`, or `endpoint` with one trailing slash (`/messages/`, python SDK). */
function isEndpoint(path: string, endpoint: string): boolean {
  return path === endpoint || path === `${endpoint}/`;
}

/**
 * Which MCP endpoint a path belongs to; `/messages` belongs to the SSE endpoint's resource.
 * MCP paths match exactly (plus one trailing slash): the path is forwarded upstream verbatim, so
 * a prefix match (`/messages/anything`, `/messages/..%2Fadmin`) would let any authenticated
 * client reach arbitrary upstream paths.
 */
export function route(cfg: Config, path: string): Route {
  const { streamableHttp, sse, messages } = cfg.paths;
  const norm = path.replace(/\/+$/, ''); // only for the PRM paths: `/` matches none either way
  if (norm === PRM_PREFIX) return { kind: 'prm', mcpPath: streamableHttp };
  if (path === JWKS_PATH && cfg.upstreamIdentity.enabled) return { kind: 'jwks' };
  if (norm.startsWith(`${PRM_PREFIX}/`)) {
    const rest = norm.slice(PRM_PREFIX.length);
    if (rest === streamableHttp) return { kind: 'prm', mcpPath: streamableHttp };
    if (rest === sse || rest === messages) return { kind: 'prm', mcpPath: sse };
    return { kind: 'none' };
  }
  if (isEndpoint(path, streamableHttp))
    return { kind: 'mcp', transport: 'streamable', mcpPath: streamableHttp };
  if (isEndpoint(path, sse)) return { kind: 'mcp', transport: 'sse', mcpPath: sse };
  if (isEndpoint(path, messages)) return { kind: 'mcp', transport: 'messages', mcpPath: sse };
  return { kind: 'none' };
}

/** The `resource` identifier of an MCP endpoint: configured, else its public URL. */
export function resourceUrl(cfg: Config, origin: string, mcpPath: string): string {
  return cfg.protectedResourceMetadata.resourceIdentifier ?? `${origin}${mcpPath}`;
}

/** RFC 9728 §3.1: the path-inserted well-known URL for the resource. */
export function prmUrl(origin: string, mcpPath: string): string {
  return `${origin}${PRM_PREFIX}${mcpPath}`;
}

/** The audiences a token must contain one of (RFC 8707): configured, else the resource URL. */
export function acceptedAudiences(cfg: Config, origin: string, mcpPath: string): string[] {
  return cfg.token.audience.length ? [...cfg.token.audience] : [resourceUrl(cfg, origin, mcpPath)];
}

export function authorizationServers(cfg: Config): string[] {
  const configured = cfg.protectedResourceMetadata.authorizationServers;
  if (configured.length) return [...configured];
  if (cfg.discovery.baseUrl) return [cfg.discovery.baseUrl];
  return [cfg.token.issuer];
}

export function buildPrm(cfg: Config, origin: string, mcpPath: string): Record<string, unknown> {
  const p = cfg.protectedResourceMetadata;
  const doc: Record<string, unknown> = {
    resource: resourceUrl(cfg, origin, mcpPath),
    authorization_servers: authorizationServers(cfg),
    bearer_methods_supported: ['header'],
  };
  if (p.scopesSupported) doc.scopes_supported = p.scopesSupported.filter((s) => s !== 'offline_access');
  if (p.resourceName) doc.resource_name = p.resourceName;
  if (p.resourceDocumentation) doc.resource_documentation = p.resourceDocumentation;
  return doc;
}
