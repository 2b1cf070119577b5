/**
 * `protected_resource_metadata`: the RFC 9728 document the proxy serves.
 */
import { open, type Section, table } from './keys.ts';
import { type OriginalScopeMap, parseScopesSupported } from './mcp-policy.ts';
import type { ConfigReader } from './reader.ts';

export const PROTECTED_RESOURCE_METADATA = table('protected_resource_metadata', {
  resource_identifier: {
    type: 'url',
    derived: 'the public URL of the MCP endpoint',
  },
  authorization_servers: {
    type: 'list',
    secure: true,
    derived: '`[discovery.base_url]` if set',
  },
  scopes_supported: { type: 'list' },
  resource_name: { type: 'string' },
  resource_documentation: { type: 'url' },
  // The original's: the audience its tokens carry (token.audience here, which wins when both are set).
  audience: { type: 'string' },
});

export interface ProtectedResourceMetadataConfig {
  /** Overrides the `resource` value (and default audience); else the public URL of the MCP path. */
  readonly resourceIdentifier?: string;
  /** Authorization servers listed in PRM; else the discovery function's URL, else the token issuer. */
  readonly authorizationServers: readonly string[];
  /** Every scope `scopes_supported` names: its flat entries and the scopes of its method map. */
  readonly scopesSupported?: readonly string[];
  readonly resourceName?: string;
  readonly resourceDocumentation?: string;
  /** The original's `audience`: accepted token audience when `token.audience` is not set. */
  readonly audience?: string;
}

/** The section, and the original's per-method scope map if `scopes_supported` has one (mcp-policy.ts). */
export function parseProtectedResourceMetadata(r: ConfigReader): {
  prm: ProtectedResourceMetadataConfig;
  scopeMap?: OriginalScopeMap;
} {
  const s = open(r, PROTECTED_RESOURCE_METADATA);
  const scopes = s.has('scopes_supported')
    ? parseScopesSupported(s.key('scopes_supported'), s.r.value('scopes_supported'))
    : undefined;
  return { prm: parsePrm(s, scopes?.flat), scopeMap: scopes?.map };
}

function parsePrm(
  s: Section<typeof PROTECTED_RESOURCE_METADATA.keys>,
  scopesSupported: readonly string[] | undefined,
): ProtectedResourceMetadataConfig {
  return {
    resourceIdentifier: s.url('resource_identifier'),
    authorizationServers: s.list('authorization_servers'),
    scopesSupported,
    resourceName: s.str('resource_name'),
    resourceDocumentation: s.url('resource_documentation'),
    audience: s.str('audience'),
  };
}
