/**
 * `paths` (and the original's `mcp_paths`): where the MCP endpoints are served.
 */
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
import type { ConfigReader } from './reader.ts';

export const PATHS = table('paths', {
  streamable_http: {
    type: 'string',
    default: '/mcp',
  },
  sse: { type: 'string', default: '/sse' },
  messages: { type: 'string', default: '/messages' },
});

export const LEGACY_PATHS = table('', {
  mcp_paths: {
    type: 'list',
    default: [],
  },
});

/** Which `mcp_paths` entry fills which `paths` key. */
const LEGACY_MATCH = { streamable_http: /mcp/, sse: /sse/, messages: /message/ } as const;

export interface PathsConfig {
  readonly streamableHttp: string;
  readonly sse: string;
  readonly messages: string;
}

function checkPath(key: string, v: string): string {
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(v))
    throw new ConfigError(key, `must be an absolute path like "/mcp" (got "${v}")`);
  return v.length > 1 ? v.replace(/\/+$/, '') : v;
}

export function parsePaths(r: ConfigReader): PathsConfig {
  const s = open(r, PATHS);
  const legacy = open(r, LEGACY_PATHS).list('mcp_paths');
  const path = (k: keyof typeof LEGACY_MATCH) =>
    checkPath(s.key(k), s.r.str(k) ?? legacy.find((p) => LEGACY_MATCH[k].test(p)) ?? PATHS.keys[k].default);
  return { streamableHttp: path('streamable_http'), sse: path('sse'), messages: path('messages') };
}

/** The three paths must be distinct and outside /.well-known. */
export function checkPaths(paths: PathsConfig): void {
  const all = [paths.streamableHttp, paths.sse, paths.messages];
  if (new Set(all).size !== 3)
    throw new ConfigError('paths', 'streamable_http, sse and messages must be distinct');
  for (const p of all) {
    if (p.startsWith('/.well-known'))
      throw new ConfigError('paths', `cannot serve MCP under /.well-known (got "${p}")`);
  }
}
