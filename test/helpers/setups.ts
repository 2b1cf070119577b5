/**
 * The three ways the browser tests meet the proxy, each on free loopback ports:
 * - `demo`: `npm start` itself (the CLI process a newcomer runs), moved with --port/--mcp-port/--idp-port;
 * - `single-origin`: proxy and facade behind one origin (the CloudFront variant), in process;
 * - `two-origin`: proxy and discovery function on their own Function URLs (no CloudFront).
 * All run the authorization-response relay (a signing key), like the demo. With `upstreamClient`
 * (in-process set-ups), the facade is the `oidc` provider in one-upstream-client mode in front of
 * the demo IdP with its registration endpoint turned off and one confidential client for the
 * facade (`discovery.upstream_client`).
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
  /** The demo IdP (in-process set-ups only). */
  readonly idp?: DemoIdp;
  /** The facade's one client at the IdP (with `upstreamClient`). */
  readonly upstreamClientId?: string;
  close(): Promise<void>;
}

export interface SetupOptions {
  /** Fixed ports, so a restart keeps the same URLs (the demo restarted by its user). */
  readonly ports?: { proxy: number; mcp: number; idp: number; discovery?: number };
  /** One upstream client at an IdP without dynamic client registration (not for `demo`). */
  readonly upstreamClient?: boolean;
}

const UPSTREAM_CLIENT_ID = 'mcp-facade';

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
  if (kind === 'demo') {
    if (opts.upstreamClient) throw new Error('startSetup: upstreamClient needs an in-process set-up');
    return startDemoCli(ports);
  }
  const proxyOrigin = `http://localhost:${ports.proxy}`;
  const facade = kind === 'single-origin' ? proxyOrigin : `http://localhost:${ports.discovery}`;
  const upstreamSecret = randomBytes(24).toString('base64url');
  const idp: DemoIdp = await startDemoIdp({
    port: ports.idp,
    resourcePrefixes: [proxyOrigin, `http://127.0.0.1:${ports.proxy}`],
    ...(opts.upstreamClient
      ? {
          registration: false,
          facadeClient: {
            clientId: UPSTREAM_CLIENT_ID,
            clientSecret: upstreamSecret,
            redirectUris: [`${facade}/callback`],
          },
        }
      : {}),
  });
  const mcp: DemoMcpServer = await startDemoMcpServer({ port: ports.mcp });
  const signingKey = randomBytes(32).toString('base64url');
  const provider = opts.upstreamClient
    ? {
        provider: 'oidc',
        default: { base_url: idp.issuer },
        discovery: {
          base_url: facade,
          signing_key: signingKey,
          upstream_client: { client_id: UPSTREAM_CLIENT_ID, client_secret: upstreamSecret },
        },
      }
    : {
        provider: 'embedded',
        embedded: { port: ports.idp, registration_token: idp.registrationToken },
        discovery: { base_url: facade, signing_key: signingKey },
      };
  const config = parseConfig({
    ...provider,
    base_url: mcp.url,
    listen_port: ports.proxy,
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
    idp,
    upstreamClientId: opts.upstreamClient ? UPSTREAM_CLIENT_ID : undefined,
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
