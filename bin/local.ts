/**
 * `npm start` — the local runner.
 *
 *   npm start                          offline demo: IdP :9000, MCP server :8000, proxy :8080
 *   npm start -- --config config.yaml  front the MCP server and IdP described in a config file
 *   npm start -- --upstream URL --idp-issuer URL [--port N] [--jwks-uri URL] [--audience A]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type Config, parseConfig } from '../functions/shared/config.ts';
import { startDemoIdp } from './local/demo-idp.ts';
import { startDemoMcpServer } from './local/demo-mcp-server.ts';
import { startLocalProxy } from './local/runner.ts';

const HELP = `Usage:
  npm start                                  offline demo (IdP :9000, MCP server :8000, proxy :8080)
  npm start -- --config config.yaml          use a config file (original proxy's keys accepted)
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
  const custom = args.config || args.upstream || args['idp-issuer'];
  if (!custom) return demo();

  let raw: Record<string, unknown> = {};
  if (typeof args.config === 'string') {
    try {
      raw = (parseYaml(readFileSync(args.config, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (e) {
      fail(`cannot read ${args.config}: ${(e as Error).message}`);
    }
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

  let config: Config;
  try {
    config = parseConfig(raw);
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
  const proxy = await startLocalProxy(config);
  printReady(proxy.url, config);
}

function printReady(proxyUrl: string, config: Config) {
  const mcp = `${proxyUrl}${config.paths.streamableHttp}`;
  process.stdout.write(`
MCP auth proxy (local Function URL emulation)
  Streamable HTTP  ${mcp}
  Legacy SSE       ${proxyUrl}${config.paths.sse}
  Metadata (PRM)   ${proxyUrl}/.well-known/oauth-protected-resource${config.paths.streamableHttp}
  Upstream         ${config.upstream.baseUrl}
  Token issuer     ${config.token.issuer}

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
    cors: { allowed_origins: ['http://localhost:6274', 'http://127.0.0.1:6274'] },
    protected_resource_metadata: { scopes_supported: ['mcp:tools', 'mcp:resources'], resource_name: 'Demo MCP server' },
  };
  const config = parseConfig(raw);
  const idp = await startDemoIdp({
    port: 9000,
    resourcePrefixes: [`http://localhost:${proxyPort}`, `http://127.0.0.1:${proxyPort}`],
  });
  const mcp = await startDemoMcpServer({ port: 8000, identityPrefix: config.identityHeaderPrefix });
  const proxy = await startLocalProxy(config);
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
