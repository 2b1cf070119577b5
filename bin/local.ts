/**
 * `npm start` — the local runner. Both functions share one origin (like the CloudFront
 * single-origin deployment): the proxy serves the MCP endpoints and PRM, the discovery function
 * the authorization-server facade (metadata, /authorize, /token, /register).
 *
 *   npm start                          offline demo: IdP :9000, MCP server :8000, proxy + facade :8080
 *   npm start -- --config config.yaml  front the MCP server and IdP described in a config file
 *   npm start -- --asgardeo|--demo     provider asgardeo with the `asgardeo` / `demo` block (./config.yaml)
 *   npm start -- --upstream URL --idp-issuer URL [--port N] [--jwks-uri URL] [--audience A]
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type Config, ConfigError, parseConfig } from '../functions/shared/config.ts';
import { startDemoIdp } from './local/demo-idp.ts';
import { startDemoMcpServer } from './local/demo-mcp-server.ts';
import { startLocalSingleOrigin } from './local/runner.ts';

const HELP = `Usage:
  npm start                                  offline demo (IdP :9000, MCP server :8000, proxy + facade :8080)
  npm start -- --config config.yaml          use a config file (original proxy's keys accepted)
  npm start -- --asgardeo [--config FILE]    provider asgardeo, \`asgardeo\` block (default file ./config.yaml)
  npm start -- --demo [--config FILE]        provider asgardeo, \`demo\` block (original's --demo)
  npm start -- --upstream URL --idp-issuer URL [--port N] [--jwks-uri URL] [--audience AUD]
Options override the config file when both are given.`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

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
        asgardeo: { type: 'boolean' },
        demo: { type: 'boolean' },
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
  if (args.asgardeo && args.demo) fail(`--asgardeo and --demo are exclusive\n\n${HELP}`);
  const custom = args.config || args.upstream || args['idp-issuer'] || args.asgardeo || args.demo;
  if (!custom) return demo();

  let raw: Record<string, unknown> = {};
  const file =
    typeof args.config === 'string' ? args.config : args.asgardeo || args.demo ? 'config.yaml' : undefined;
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

  let config: Config;
  try {
    config = parseConfig(raw);
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
  const server = await startLocalSingleOrigin(config);
  printReady(server.url, config);
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
  Upstream         ${config.upstream.baseUrl}
  Token issuer     ${config.token.issuer}

Authorization server facade (discovery function, provider "${config.provider}")
  Issuer           ${as}
  AS metadata      ${origin}/.well-known/oauth-authorization-server${asPath}
  OIDC discovery   ${origin}/.well-known/openid-configuration${asPath}
  Register (DCR)   ${as}/register
  Authorize        ${as}/authorize
  Token            ${as}/token

Client config (Claude Desktop / Cursor / VS Code "mcp.json"):
${JSON.stringify({ mcpServers: { demo: { type: 'http', url: mcp } } }, null, 2)}
`);
}

async function demo() {
  const proxyPort = 8080;
  const raw = {
    provider: 'embedded',
    base_url: 'http://localhost:8000',
    listen_port: proxyPort,
    embedded: { port: 9000 },
    // A fresh signing key turns on the authorization-response relay (RFC 9207 `iss` = the facade).
    discovery: {
      base_url: `http://localhost:${proxyPort}`,
      signing_key: randomBytes(32).toString('base64url'),
    },
    cors: { allowed_origins: ['http://localhost:6274', 'http://127.0.0.1:6274'] },
    protected_resource_metadata: {
      scopes_supported: ['mcp:tools', 'mcp:resources'],
      resource_name: 'Demo MCP server',
    },
  };
  const config = parseConfig(raw);
  const idp = await startDemoIdp({
    port: 9000,
    resourcePrefixes: [`http://localhost:${proxyPort}`, `http://127.0.0.1:${proxyPort}`],
  });
  const mcp = await startDemoMcpServer({ port: 8000, identityPrefix: config.identityHeaderPrefix });
  const proxy = await startLocalSingleOrigin(config);
  printReady(proxy.url, config);
  process.stdout.write(`Demo identity provider  ${idp.issuer}
  Sign in as        ${idp.user.username} / ${idp.user.password}
  Script client     client_id=${idp.cliClient.clientId} client_secret=${idp.cliClient.clientSecret}
Demo MCP server   ${mcp.url}/mcp (echo, countdown)

Try it:
  curl -i -X POST ${proxy.url}/mcp            # 401 with the resource_metadata challenge
  TOKEN=$(curl -s -u ${idp.cliClient.clientId}:${idp.cliClient.clientSecret} -d grant_type=client_credentials \\
    -d resource=${proxy.url}/mcp -d scope=mcp:tools ${idp.issuer}/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  npx @modelcontextprotocol/inspector        # then connect to ${proxy.url}/mcp (Streamable HTTP)
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
