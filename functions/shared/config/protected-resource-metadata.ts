/**
 * `protected_resource_metadata`: the RFC 9728 document the proxy serves.
 */
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const PROTECTED_RESOURCE_METADATA = table('protected_resource_metadata', {
  resource_identifier: {
    type: 'url',
    derived: 'the public URL of the MCP endpoint',
    doc: 'PRM `resource` and the default accepted token audience.',
  },
  authorization_servers: {
    type: 'list',
    secure: true,
    derived: '`[discovery.base_url]` if set',
    doc: 'PRM `authorization_servers`; else the facade, else the token issuer.',
  },
  scopes_supported: { type: 'list', doc: 'PRM `scopes_supported`.' },
  resource_name: { type: 'string', doc: 'PRM `resource_name`.' },
  resource_documentation: { type: 'url', doc: 'PRM `resource_documentation`.' },
});

export interface ProtectedResourceMetadataConfig {
  /** Overrides the `resource` value (and default audience); else the public URL of the MCP path. */
  readonly resourceIdentifier?: string;
  /** Authorization servers listed in PRM; else the discovery function's URL, else the token issuer. */
  readonly authorizationServers: readonly string[];
  readonly scopesSupported?: readonly string[];
  readonly resourceName?: string;
  readonly resourceDocumentation?: string;
}

export function parseProtectedResourceMetadata(r: ConfigReader): ProtectedResourceMetadataConfig {
  const s = open(r, PROTECTED_RESOURCE_METADATA);
  return {
    resourceIdentifier: s.url('resource_identifier'),
    authorizationServers: s.list('authorization_servers'),
    scopesSupported: s.has('scopes_supported') ? s.list('scopes_supported') : undefined,
    resourceName: s.str('resource_name'),
    resourceDocumentation: s.url('resource_documentation'),
  };
}
