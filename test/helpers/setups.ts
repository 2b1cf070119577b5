/**
 * The three ways the browser tests meet the proxy, each on free loopback ports:
 * - `demo`: `npm start` itself (the CLI process a newcomer runs), moved with --port/--mcp-port/--idp-port;
 * - `single-origin`: proxy and facade behind one origin (the CloudFront variant), in process;
 * - `two-origin`: proxy and discovery function on their own Function URLs (no CloudFront).
 * All run the authorization-response relay (a signing key), like the demo.
 */
import { randomBytes } from 'node:crypto';
import { type DemoIdp, startDemoIdp } from '../../bin/local/demo-idp.ts';
import { type DemoMcpServer, startDemoMcpServer } from '../../bin/local/demo-mcp-server.ts';
import { startLocalDiscovery, startLocalProxy, startLocalSingleOrigin } from '../../bin/local/runner.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { startCli } from './cli.ts';
import { freePort } from './net.ts';

export type SetupKind = 'demo' | 'single-origin' | 'two-origin';

export interface Setup {
  readonly kind: SetupKind;
  /** Origin of the MCP endpoints (`/mcp`, `/sse`). */
  readonly proxyOrigin: string;
  /** The facade's issuer (where the browser is sent first). */
  readonly facade: string;
  readonly idpIssuer: string;
  readonly user: { readonly username: string; readonly password: string };
  readonly cliClient: { readonly clientId: string; readonly clientSecret: string };
  /** Requests the demo MCP server received (only in-process set-ups can count them). */
  readonly upstreamHits?: () => number;
  close(): Promise<void>;
}

export interface SetupOptions {
  /** Fixed ports, so a restart keeps the same URLs (the demo restarted by its user). */
  readonly ports?: { proxy: number; mcp: number; idp: number; discovery?: number };
}

export async function freePorts(): Promise<{ proxy: number; mcp: number; idp: number; discovery: number }> {
  return {
    proxy: await freePort(),
    mcp: await freePort(),
    idp: await freePort(),
    discovery: await freePort(),
  };
}

export async function startSetup(kind: SetupKind, opts: SetupOptions = {}): Promise<Setup> {
  const ports = { ...(await freePorts()), ...opts.ports };
  if (kind === 'demo') return startDemoCli(ports);
  const proxyOrigin = `http://localhost:${ports.proxy}`;
  const facade = kind === 'single-origin' ? proxyOrigin : `http://localhost:${ports.discovery}`;
  const idp: DemoIdp = await startDemoIdp({
    port: ports.idp,
    resourcePrefixes: [proxyOrigin, `http://127.0.0.1:${ports.proxy}`],
  });
  const mcp: DemoMcpServer = await startDemoMcpServer({ port: ports.mcp });
  const config = parseConfig({
    provider: 'embedded',
    embedded: { port: ports.idp, registration_token: idp.registrationToken },
    base_url: mcp.url,
    listen_port: ports.proxy,
    discovery: { base_url: facade, signing_key: randomBytes(32).toString('base64url') },
    protected_resource_metadata: { scopes_supported: ['mcp:tools', 'mcp:resources'] },
  });
  const servers =
    kind === 'single-origin'
      ? [await startLocalSingleOrigin(config, { port: ports.proxy })]
      : [
          await startLocalProxy(config, { port: ports.proxy }),
          await startLocalDiscovery(config, { port: ports.discovery }),
        ];
  return {
    kind,
    proxyOrigin,
    facade,
    idpIssuer: idp.issuer,
    user: idp.user,
    cliClient: idp.cliClient,
    upstreamHits: () => [...mcp.hits.values()].reduce((a, b) => a + b, 0),
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await mcp.close();
      await idp.close();
    },
  };
}

async function startDemoCli(ports: { proxy: number; mcp: number; idp: number }): Promise<Setup> {
  const run = startCli([
    '--port',
    String(ports.proxy),
    '--mcp-port',
    String(ports.mcp),
    '--idp-port',
    String(ports.idp),
  ]);
  await run.waitFor('Press Ctrl+C to stop.');
  const out = run.output();
  const signIn = /Sign in as\s+(\S+) \/ (\S+)/.exec(out);
  const cli = /client_id=(\S+) client_secret=(\S+)/.exec(out);
  if (!signIn || !cli) throw new Error(`the demo did not print its credentials:\n${out}`);
  const proxyOrigin = `http://localhost:${ports.proxy}`;
  return {
    kind: 'demo',
    proxyOrigin,
    facade: proxyOrigin,
    idpIssuer: `http://localhost:${ports.idp}`,
    user: { username: signIn[1]!, password: signIn[2]! },
    cliClient: { clientId: cli[1]!, clientSecret: cli[2]! },
    close: () => run.stop(),
  };
}
