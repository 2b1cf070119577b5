/**
 * `npm start` — the local runner. Both functions share one origin (like the CloudFront
 * single-origin deployment): the proxy serves the MCP endpoints and PRM, the discovery function
 * the authorization-server facade (metadata, /authorize, /token, /register).
 *
 *   npm start                          offline demo: IdP :9000, MCP server :8000, proxy + facade :8080
 *   npm start -- --port N --mcp-port N --idp-port N      the demo on other ports
 *   npm start -- --config config.yaml  front the MCP server and IdP described in a config file
 *   npm start -- --asgardeo|--demo     provider asgardeo with the `asgardeo` / `demo` block (./config.yaml)
 *   npm start -- --upstream URL --idp-issuer URL [--port N] [--jwks-uri URL] [--audience A]
 *   npm start -- --stdio [--config FILE]  start the config's `stdio.user_command` as the upstream
 *   --debug                            log at level debug (the original's --debug)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type Config, ConfigError, parseConfig } from '../functions/shared/config/index.ts';
import { createLogger } from '../functions/shared/log.ts';
import { startDemoIdp } from './local/demo-idp.ts';
import { startDemoMcpServer } from './local/demo-mcp-server.ts';
import { startLocalSingleOrigin } from './local/runner.ts';
import { type StdioBridge, startStdioBridge } from './local/stdio-bridge.ts';

const HELP = `Usage:
  npm start                                  offline demo (IdP :9000, MCP server :8000, proxy + facade :8080)
  npm start -- [--port N] [--mcp-port N] [--idp-port N]
                                             the demo on other ports (proxy + facade, MCP server, IdP)
  npm start -- --config config.yaml          use a config file (original proxy's keys accepted)
  npm start -- --asgardeo [--config FILE]    provider asgardeo, \`asgardeo\` block (default file ./config.yaml)
  npm start -- --demo [--config FILE]        provider asgardeo, \`demo\` block (original's --demo)
  npm start -- --upstream URL --idp-issuer URL [--port N] [--jwks-uri URL] [--audience AUD]
  npm start -- --stdio [--config FILE]       start the config's \`stdio.user_command\` (a stdio MCP server)
                                             as the upstream (original's --stdio; default file ./config.yaml)
  --debug                                    log at level debug (original's --debug)
Options override the config file when both are given. The original's flags and keys: docs/migration.md.`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

// Long because it is the CLI's whole argument handling, read top to bottom: flags, the original
// proxy's modes, overrides of the config file, then the start.
async function main() {
  let args: ReturnType<typeof parseArgs>['values'];
  try {
    ({ values: args } = parseArgs({
      options: {
        config: { type: 'string', short: 'c' },
        upstream: { type: 'string' },
        'idp-issuer': { type: 'string' },
        'jwks-uri': { type: 'string' },
        audience: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'mcp-port': { type: 'string' },
        'idp-port': { type: 'string' },
        asgardeo: { type: 'boolean' },
        demo: { type: 'boolean' },
        stdio: { type: 'boolean' },
        debug: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  // Before any logger exists (the handlers make theirs when built).
  if (args.debug) process.env.LOG_LEVEL = 'debug';
  if (args.asgardeo && args.demo) fail(`--asgardeo and --demo are exclusive\n\n${HELP}`);
  const custom =
    args.config || args.upstream || args['idp-issuer'] || args.asgardeo || args.demo || args.stdio;
  if (!custom) {
    return demo({
      proxy: port(args.port, '--port', 8080),
      mcp: port(args['mcp-port'], '--mcp-port', 8000),
      idp: port(args['idp-port'], '--idp-port', 9000),
    });
  }
  for (const flag of ['mcp-port', 'idp-port'] as const) {
    if (args[flag] !== undefined) fail(`--${flag} is a demo option (npm start without --config/--upstream)`);
  }
  // Fronting your own server needs to know whose tokens to accept: refuse a half configuration.
  if (args.upstream !== undefined && args['idp-issuer'] === undefined && args.config === undefined) {
    fail(
      '--upstream needs --idp-issuer URL (the issuer of the access tokens your MCP clients present), ' +
        'or a --config file naming the identity provider',
    );
  }

  let raw: Record<string, unknown> = {};
  const file =
    typeof args.config === 'string'
      ? args.config
      : args.asgardeo || args.demo || args.stdio
        ? 'config.yaml'
        : undefined;
  if (file !== undefined) {
    if (!existsSync(file)) fail(`cannot read ${file}: no such file`);
    try {
      raw = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (e) {
      fail(`cannot read ${file}: ${(e as Error).message}`);
    }
  }
  // The original's modes: --asgardeo reads the `asgardeo` block, --demo the `demo` block.
  if (args.asgardeo) {
    if (!raw.asgardeo)
      fail(`--asgardeo needs an \`asgardeo\` block (org_name, client_id, client_secret) in ${file}`);
    raw.provider = 'asgardeo';
  }
  if (args.demo) {
    if (!raw.demo) fail(`--demo needs a \`demo\` block (org_name, client_id, client_secret) in ${file}`);
    raw.provider = 'asgardeo';
    delete raw.asgardeo;
  }
  // The original's --stdio: stdio transport, the `stdio` block enabled.
  if (args.stdio) {
    raw.transport_mode = 'stdio';
    raw.stdio = { ...((raw.stdio as Record<string, unknown> | undefined) ?? {}), enabled: true };
  }
  if (typeof args.upstream === 'string') raw.base_url = args.upstream;
  if (typeof args.port === 'string') raw.listen_port = args.port;
  const token = { ...((raw.token as Record<string, unknown> | undefined) ?? {}) };
  if (typeof args['idp-issuer'] === 'string') {
    token.issuer = args['idp-issuer'];
    if (!raw.provider && !raw.default && !raw.asgardeo && !raw.cognito) raw.provider = 'oidc';
    if (raw.provider === 'oidc' && !raw.default) raw.default = { base_url: args['idp-issuer'] };
  }
  if (typeof args['jwks-uri'] === 'string') token.jwks_uri = args['jwks-uri'];
  if (typeof args.audience === 'string') token.audience = [args.audience];
  raw.token = token;
  // The facade shares the proxy's origin unless the config says where it lives.
  const discovery = { ...((raw.discovery as Record<string, unknown> | undefined) ?? {}) };
  const listen = Number(raw.listen_port ?? 8080);
  discovery.base_url ??= `http://localhost:${listen}`;
  raw.discovery = discovery;

  await front(raw);
}

function parseOrFail(raw: Record<string, unknown>): Config {
  try {
    return parseConfig(raw, { spawnStdio: true });
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
}

/**
 * Front the config's upstream; with `transport_mode: stdio`, a bridge to the stdio server (its URL
 * is the upstream, so the config is parsed again with it). Stops everything on SIGINT / SIGTERM.
 */
async function front(raw: Record<string, unknown>) {
  const stdio = raw.transport_mode === 'stdio';
  // In stdio mode the bridge is the upstream: `base_url` may be absent, as in the original.
  let config = parseOrFail(stdio ? { base_url: 'http://127.0.0.1', ...raw } : raw);
  const log = createLogger('local-runner');
  let bridge: StdioBridge | undefined;
  if (config.transport.stdio) {
    bridge = await startStdioBridge(config.transport.stdio, config.paths, createLogger('stdio-bridge'));
    config = parseOrFail({ ...raw, base_url: bridge.url });
  }
  log.debug('config', {
    provider: config.provider,
    upstream: config.upstream.baseUrl,
    transport: config.transport.mode,
    issuer: config.token.issuer,
    jwksUri: config.token.jwksUri,
    audience: config.token.audience,
  });
  const server = await startLocalSingleOrigin(config);
  printReady(server.url, config);
  const stop = async () => {
    await Promise.allSettled([server.close(), bridge?.close()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function printReady(proxyUrl: string, config: Config) {
  const mcp = `${proxyUrl}${config.paths.streamableHttp}`;
  const as = config.discovery.baseUrl ?? proxyUrl;
  const { origin, pathname } = new URL(as);
  const asPath = pathname === '/' ? '' : pathname;
  process.stdout.write(`
MCP auth proxy (local Function URL emulation)
  Streamable HTTP  ${mcp}
  Legacy SSE       ${proxyUrl}${config.paths.sse}
  Metadata (PRM)   ${proxyUrl}/.well-known/oauth-protected-resource${config.paths.streamableHttp}
  Upstream         ${upstreamLine(config)}
  Token issuer     ${config.token.issuer}

Authorization server facade (discovery function, provider "${config.provider}")
  Issuer           ${as}
  AS metadata      ${origin}/.well-known/oauth-authorization-server${asPath}
  OIDC discovery   ${origin}/.well-known/openid-configuration${asPath}
  Register (DCR)   ${as}/register
  Authorize        ${as}/authorize
  Token            ${as}/token

Client config
  Claude Desktop (claude_desktop_config.json), through the mcp-remote stdio bridge:
    ${JSON.stringify({ mcpServers: { demo: { command: 'npx', args: ['-y', MCP_REMOTE, mcp] } } })}
  Clients that speak Streamable HTTP with OAuth themselves (Cursor, VS Code: mcp.json):
    ${JSON.stringify({ mcpServers: { demo: { type: 'http', url: mcp } } })}

`);
}

function upstreamLine(config: Config): string {
  const stdio = config.transport.stdio;
  if (!stdio) return config.upstream.baseUrl;
  return `stdio: ${stdio.command} (one process per MCP session, bridged at 127.0.0.1:${new URL(config.upstream.baseUrl).port})`;
}

/** The Inspector version the printed command runs (2.x needs Node.js >= 22: npx brings node@22). */
const INSPECTOR = '@modelcontextprotocol/inspector@2.12.0';
/** The mcp-remote version the tests sign in with (test/clients/mcp-remote.test.ts). */
const MCP_REMOTE = 'mcp-remote@0.15.1';

function port(value: unknown, flag: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${flag} must be a port number (got "${value}")`);
  return n;
}

/** Start one of the demo's servers; a port in use becomes one line naming the flag that moves it. */
async function listening<T>(
  what: string,
  portNumber: number,
  flag: string,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      fail(`port ${portNumber} (${what}) is in use: stop what runs there, or choose another with ${flag} N`);
    }
    throw e;
  }
}

/** The demo IdP's client for clients identified by metadata documents (with the facade's callback). */
const DEMO_FACADE_CLIENT = 'mcp-facade-cimd';

async function demo(ports: { proxy: number; mcp: number; idp: number }) {
  const origin = `http://localhost:${ports.proxy}`;
  // Only the facade may register clients at the demo IdP: it holds the IdP's initial access token.
  const registrationToken = randomBytes(32).toString('base64url');
  const raw = {
    provider: 'embedded',
    base_url: `http://localhost:${ports.mcp}`,
    listen_port: ports.proxy,
    embedded: { port: ports.idp, registration_token: registrationToken },
    // A fresh signing key turns on the authorization-response relay (RFC 9207 `iss` = the facade);
    // clients identified by metadata documents use the demo IdP's pre-registered facade client.
    discovery: {
      base_url: origin,
      signing_key: randomBytes(32).toString('base64url'),
      cimd_idp_client_id: DEMO_FACADE_CLIENT,
    },
    cors: { allowed_origins: ['http://localhost:6274', 'http://127.0.0.1:6274'] },
    protected_resource_metadata: {
      scopes_supported: ['mcp:tools', 'mcp:resources'],
      resource_name: 'Demo MCP server',
    },
  };
  const config = parseConfig(raw);
  const idp = await listening('demo identity provider', ports.idp, '--idp-port', () =>
    startDemoIdp({
      port: ports.idp,
      resourcePrefixes: [origin, `http://127.0.0.1:${ports.proxy}`],
      registrationToken,
      cimdClient: { clientId: DEMO_FACADE_CLIENT, redirectUri: `${origin}/callback` },
    }),
  );
  const mcp = await listening('demo MCP server', ports.mcp, '--mcp-port', () =>
    startDemoMcpServer({ port: ports.mcp, identityPrefix: config.identityHeaderPrefix }),
  );
  const proxy = await listening('auth proxy', ports.proxy, '--port', () => startLocalSingleOrigin(config));
  printReady(proxy.url, config);
  const { clientId, clientSecret } = idp.cliClient;
  const loopback = proxy.url.replace('//localhost:', '//127.0.0.1:');
  process.stdout.write(`Demo identity provider  ${idp.issuer}
  Sign in as        ${idp.user.username} / ${idp.user.password}
  Script client     client_id=${clientId} client_secret=${clientSecret}
Demo MCP server   ${mcp.url}/mcp (echo, countdown)

Try it:
  curl -i -X POST ${proxy.url}/mcp            # 401 with the resource_metadata challenge
  npx -y ${MCP_REMOTE} ${proxy.url}/mcp   # stdio bridge (Claude Desktop): signs in in your browser

A script's token (client_credentials, at the token endpoint the server's metadata advertises).
A token is valid only at the URL it was issued for (RFC 8707 resource indicators), so ask for the
endpoint you will call:
  TOKEN=$(curl -s -u ${clientId}:${clientSecret} -d grant_type=client_credentials -d scope=mcp:tools \\
    -d resource=${proxy.url}/mcp ${proxy.url}/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json, text/event-stream' \\
    -H 'Content-Type: application/json' ${proxy.url}/mcp -d '{"jsonrpc":"2.0","id":1,"method":"initialize",
    "params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
  npx -y --loglevel=error -p node@22 -p ${INSPECTOR} mcp-inspector --cli ${proxy.url}/mcp \\
    --header "Authorization: Bearer $TOKEN" --method tools/call --tool-name echo --tool-arg message=hi
  Other endpoints: resource=${proxy.url}/sse (legacy SSE), ${loopback}/mcp and ${loopback}/sse (via 127.0.0.1).
Press Ctrl+C to stop.
`);
  const stop = async () => {
    await Promise.allSettled([proxy.close(), mcp.close(), idp.close()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
