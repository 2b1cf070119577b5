/**
 * Top level: which provider, the upstream MCP server, the proxy's public origin and port.
 */
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export type ProviderName = 'embedded' | 'oidc' | 'asgardeo' | 'cognito';
export const PROVIDERS: readonly ProviderName[] = ['embedded', 'oidc', 'asgardeo', 'cognito'];

export const BASE = table('', {
  provider: {
    type: 'string',
    values: PROVIDERS,
    derived: '`asgardeo` if an `asgardeo` block is present, else `oidc` if a `default` block is present',
  },
  base_url: {
    type: 'url',
    required: true,
    aliases: ['mcp_server_base_url'],
  },
  timeout_seconds: {
    type: 'int',
    default: 30,
    min: 1,
    max: 900,
  },
  max_request_bytes: {
    type: 'int',
    default: 4 * 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
  },
  proxy_base_url: {
    type: 'url',
    secure: true,
    derived: 'the Function URL origin of the request',
  },
  listen_port: { type: 'int', default: 8080, min: 1, max: 65535 },
});

export interface UpstreamConfig {
  /** Base URL of the protected MCP server. */
  readonly baseUrl: string;
  /** Seconds to wait for the upstream's response headers. */
  readonly timeoutSeconds: number;
  /** Largest request body (bytes) the proxy reads, parses and forwards; larger → 413. */
  readonly maxRequestBytes: number;
}

/** `provider` as written, else implied by the provider block present; undefined = embedded. */
export function parseProviderName(r: ConfigReader): ProviderName | undefined {
  return (
    open(r, BASE).str('provider') ?? (r.has('asgardeo') ? 'asgardeo' : r.has('default') ? 'oidc' : undefined)
  );
}

export function parseUpstream(r: ConfigReader): UpstreamConfig {
  const key = r.pick('base_url', ...BASE.keys.base_url.aliases);
  const baseUrl = r.url(key, { required: true, why: 'is required: the URL of the MCP server to protect' })!;
  const s = open(r, BASE);
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    timeoutSeconds: s.int('timeout_seconds'),
    maxRequestBytes: s.int('max_request_bytes'),
  };
}

/** The proxy's public origin (else learned from the Function URL host) and local port. */
export function parseProxyOrigin(r: ConfigReader): { proxyBaseUrl?: string; listenPort: number } {
  const s = open(r, BASE);
  return { proxyBaseUrl: s.url('proxy_base_url')?.replace(/\/+$/, ''), listenPort: s.int('listen_port') };
}
