/**
 * Keys of WSO2's Go open-mcp-auth-proxy (its releases, its development history and its README)
 * that are not this proxy's own names. Each one is honoured, mapped to ours, or refused with a
 * message saying why (the refused ones are in known-keys.ts `ORIGINAL_REFUSED`); docs/migration.md
 * maps every key and command-line flag.
 *
 * - The protected-resource keys its 1.x code read at the top level (its README still shows them
 *   there) are moved under `protected_resource_metadata`, where its later releases read them.
 * - `port` is the original's MCP server port: `base_url` defaults to `http://localhost:<port>`.
 * - `listen_address` (`:8080`) is its early `listen_port`.
 * - `protected_resource_metadata.jwks_uri` is where its tokens' keys are (the token JWKS here).
 * - `protected_resource_metadata.bearer_methods_supported`: only the header is served.
 * - `transport_mode` / `stdio`: the local runner spawns a stdio server (bin/local/stdio-bridge.ts);
 *   the functions cannot, so synth and cold start refuse `transport_mode: stdio`.
 */
import { isObject } from '../encoding.ts';
import { ConfigError } from './errors.ts';
import { open, table } from './keys.ts';
import { ConfigReader, type Raw } from './reader.ts';

export const ORIGINAL_ROOT = table('', {
  port: { type: 'int', default: 8000, min: 1, max: 65535, derived: 'unset' },
  listen_address: { type: 'string' },
  transport_mode: { type: 'string', default: 'sse', values: ['sse', 'streamable_http', 'stdio'] },
  resource_identifier: { type: 'url' },
  audience: { type: 'string' },
  scopes_supported: { type: 'list' },
  authorization_servers: { type: 'list', secure: true },
  jwks_uri: { type: 'url', secure: true },
  bearer_methods_supported: { type: 'list' },
});

export const ORIGINAL_PRM = table('protected_resource_metadata', {
  jwks_uri: { type: 'url', secure: true, derived: '`jwks_uri` (top level) if set' },
  bearer_methods_supported: { type: 'list', default: ['header'] },
});

export const STDIO = table('stdio', {
  enabled: { type: 'bool', default: false },
  user_command: { type: 'string' },
  work_dir: { type: 'string' },
  args: { type: 'list', default: [] },
  env: { type: 'list', default: [], pattern: /^[A-Za-z_][A-Za-z0-9_]*=/, example: 'NAME=value' },
});

/** The top-level keys of the original's 1.x code that belong under `protected_resource_metadata`. */
const LIFTED = [
  'resource_identifier',
  'audience',
  'scopes_supported',
  'authorization_servers',
  'jwks_uri',
  'bearer_methods_supported',
] as const;

/** The raw config with the original's names turned into ours, and which key each new one came from. */
export interface Lifted {
  readonly raw: Raw;
  /** Our key → the key the config wrote (for messages). */
  readonly renamed: ReadonlyMap<string, string>;
}

/** `input` with the original's top-level 1.x keys, `port` and `listen_address` written as ours. */
export function liftOriginalKeys(input: Raw): Lifted {
  const raw: Raw = { ...input };
  const renamed = new Map<string, string>();
  const r = new ConfigReader(input, '');
  const prmRaw = input.protected_resource_metadata ?? {};
  if (LIFTED.some((k) => r.has(k)) && isObject(prmRaw)) {
    const prm: Raw = { ...prmRaw };
    for (const k of LIFTED.filter((k) => r.has(k))) {
      if (k === 'scopes_supported' && isObject(input[k])) {
        throw new ConfigError(
          k,
          "is a mapping: the original's per-path scope map (its 1.x development code), which this proxy does not enforce per path (requests would pass without those scopes): list the scopes every request needs in `token.required_scopes`, per method under `protected_resource_metadata.scopes_supported`, and remove it",
        );
      }
      if (prm[k] !== undefined && JSON.stringify(prm[k]) !== JSON.stringify(input[k])) {
        throw new ConfigError(
          k,
          `and \`protected_resource_metadata.${k}\` are both set, to different values: keep the one under \`protected_resource_metadata\``,
        );
      }
      prm[k] = input[k];
      renamed.set(`protected_resource_metadata.${k}`, k);
    }
    raw.protected_resource_metadata = prm;
  }
  liftPorts(r, raw, renamed);
  // Unchanged: the config itself (what test/unit/config-docs.test.ts records the reads of).
  return renamed.size ? { raw, renamed } : { raw: input, renamed };
}

/** `port` → `base_url` (when unset, as the original defaults it); `listen_address` → `listen_port`. */
function liftPorts(r: ConfigReader, raw: Raw, renamed: Map<string, string>): void {
  const port = r.int('port', undefined, 1, 65535);
  if (port !== undefined && !r.has('base_url') && !r.has('mcp_server_base_url')) {
    raw.base_url = `http://localhost:${port}`;
    renamed.set('base_url', 'port');
  }
  const address = r.str('listen_address');
  if (address === undefined) return;
  const m = /^(?:[A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(address);
  const listen = m ? Number(m[1]) : 0;
  if (listen < 1 || listen > 65535) {
    throw new ConfigError('listen_address', `must look like ":8080" (got "${address}")`);
  }
  if (r.has('listen_port') && Number(r.value('listen_port')) !== listen) {
    throw new ConfigError('listen_address', 'and `listen_port` name different ports: keep `listen_port`');
  }
  raw.listen_port = listen;
  renamed.set('listen_port', 'listen_address');
}

/** A `ConfigError` about a key the lifting wrote, renamed to the key the config has. */
export function renameError(e: unknown, renamed: ReadonlyMap<string, string>): unknown {
  if (!(e instanceof ConfigError)) return e;
  const at = [...renamed.keys()].find(
    (k) => e.key === k || e.key.startsWith(`${k}.`) || e.key.startsWith(`${k}[`),
  );
  if (at === undefined) return e;
  const reason = e.message.slice(`invalid config: \`${e.key}\` `.length);
  return new ConfigError(renamed.get(at)! + e.key.slice(at.length), reason);
}

// ---------------------------------------------------------------------------------------------
// `transport_mode` and `stdio`.

export type TransportMode = 'sse' | 'streamable_http' | 'stdio';

/** The stdio MCP server the local runner spawns (`transport_mode: stdio`). */
export interface StdioServerConfig {
  /** A shell command line (`sh -c`, as the original runs it). */
  readonly command: string;
  /** Appended to the command, each quoted as one word. */
  readonly args: readonly string[];
  readonly workDir?: string;
  /** `NAME=value` entries added to the runner's environment. */
  readonly env: readonly string[];
}

export interface TransportConfig {
  readonly mode: TransportMode;
  readonly stdio?: StdioServerConfig;
}

/** Why a deployed proxy cannot have a stdio upstream, and what to do instead. */
export const STDIO_NEEDS_A_BRIDGE =
  'is "stdio": the MCP server would be a child process of the proxy, which a Lambda function cannot keep. ' +
  'Serve the stdio server over Streamable HTTP from a host the proxy reaches (e.g. `npx -y supergateway --stdio "<command>" --outputTransport streamableHttp` on an instance in the VPC, reachable only from the proxy), ' +
  'set `base_url` to that bridge and `transport_mode` to "streamable_http"; `npm start` runs stdio servers locally';

/**
 * `transport_mode` and the `stdio` block (checked whatever the mode; used only in stdio mode, as
 * the original does). `spawn`: the caller can start a child process (the local runner).
 */
export function parseTransport(r: ConfigReader, spawn: boolean): TransportConfig {
  const mode = open(r, ORIGINAL_ROOT).str('transport_mode');
  const s = open(r, STDIO);
  const enabled = s.bool('enabled');
  const stdio = {
    command: s.str('user_command'),
    args: s.list('args'),
    workDir: s.str('work_dir'),
    env: s.list('env'),
  };
  if (mode !== 'stdio') return { mode };
  if (!spawn) throw new ConfigError('transport_mode', STDIO_NEEDS_A_BRIDGE);
  if (!enabled) {
    throw new ConfigError(
      'stdio.enabled',
      'must be true when `transport_mode` is "stdio" (as in the original)',
    );
  }
  if (stdio.command === undefined) {
    throw new ConfigError(
      'stdio.user_command',
      'is required when `transport_mode` is "stdio": the command that starts the MCP server',
    );
  }
  return { mode, stdio: { ...stdio, command: stdio.command } };
}

// ---------------------------------------------------------------------------------------------
// `protected_resource_metadata.jwks_uri` and `.bearer_methods_supported`.

const BEARER_METHODS = ['header', 'body', 'query'];

/**
 * The bearer methods the config lists (RFC 6750 §2): `header` must be one; `body` and `query` are
 * not served (MCP clients send the token in the Authorization header), which a note says.
 */
export function parseBearerMethods(r: ConfigReader): string[] {
  const s = open(r, ORIGINAL_PRM);
  const methods = s.list('bearer_methods_supported');
  const key = s.key('bearer_methods_supported');
  const other = methods.find((m) => !BEARER_METHODS.includes(m));
  if (other !== undefined) {
    throw new ConfigError(key, `may list only header, body and query (RFC 6750 §2; got "${other}")`);
  }
  if (!methods.includes('header')) {
    throw new ConfigError(
      key,
      'must include "header": this proxy accepts the access token only in the Authorization header (RFC 6750 §2.1), as MCP authorization requires',
    );
  }
  const refused = methods.filter((m) => m !== 'header');
  return refused.length
    ? [
        `\`${key}\` lists ${refused.join(' and ')}: only the Authorization header is served (a token in the query string or body is refused, as MCP authorization requires)`,
      ]
    : [];
}

/**
 * The JWKS the original's `protected_resource_metadata.jwks_uri` names: the token JWKS unless
 * `token.jwks_uri`, `jwks_url` or `default.jwks_url` names another one (then the config is
 * ambiguous about which keys sign access tokens, and refused).
 */
export function originalJwksUri(r: ConfigReader): string | undefined {
  const uri = open(r, ORIGINAL_PRM).url('jwks_uri');
  if (uri === undefined) return undefined;
  const explicit: [string, unknown][] = [
    ['token.jwks_uri', r.obj('token').value('jwks_uri')],
    ['jwks_url', r.value('jwks_url')],
    ['default.jwks_url', r.obj('default').value('jwks_url')],
  ];
  for (const [k, v] of explicit) {
    if (typeof v === 'string' && v !== '' && v !== uri) {
      throw new ConfigError(
        'protected_resource_metadata.jwks_uri',
        `and \`${k}\` name different JWKS (the keys access tokens are verified with): keep one`,
      );
    }
  }
  return uri;
}

/** The original's keys present without effect in this config (logged at info). */
export function keysWithoutEffect(r: ConfigReader, transport: TransportConfig): string[] {
  const out: string[] = [];
  if (r.has('port') && (r.has('base_url') || r.has('mcp_server_base_url'))) out.push('port');
  if (r.has('stdio') && transport.mode !== 'stdio') out.push('stdio');
  return out;
}
