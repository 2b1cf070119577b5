/**
 * Hosts the functions' real handlers behind emulated Function URLs (see function-url-server.ts).
 * Used by `npm start` and by the tests, so all three hosts run the same core.
 */
import type { DiscoveryHandlerOptions } from '../../functions/discovery/index.ts';
import type { Config } from '../../functions/shared/config/index.ts';
import { writeLogLine } from '../../functions/shared/log.ts';
import {
  createOriginGuard,
  ORIGIN_SECRET_HEADER,
  type OriginGuard,
} from '../../functions/shared/origin-secret.ts';
import { type HostedFunction, type RunningServer, startFunctionUrlServer } from './function-url-server.ts';

/** Host names the config says the functions are reached at (a public origin in front of the runner). */
function publicHosts(config: Config): string[] {
  return [config.proxyBaseUrl, config.discovery.baseUrl]
    .filter((u): u is string => u !== undefined)
    .map((u) => new URL(u).host);
}

export interface LocalProxyOptions {
  readonly port?: number;
  /** Lambda timeout of the proxy function (ms). @default 900000 */
  readonly timeoutMs?: number;
  readonly propagateDisconnect?: boolean;
  /**
   * The CloudFront variant: the functions refuse requests without this origin secret (403). The
   * single-origin runner adds it to every request, as CloudFront does; the one-function runners
   * do not, like a direct call to a Function URL. @default no origin check
   */
  readonly originSecret?: string;
}

/** The origin check of the CloudFront variant, with a fixed secret instead of Secrets Manager. */
function localOriginGuard(secret: string | undefined): OriginGuard | undefined {
  return secret === undefined ? undefined : createOriginGuard(async () => [secret]);
}

export async function startLocalProxy(config: Config, opts: LocalProxyOptions = {}): Promise<RunningServer> {
  // The handler module calls `awslambda.streamifyResponse` when built: the server module installs the global first.
  const { buildHandler } = await import('../../functions/proxy/index.ts');
  return startFunctionUrlServer({
    fn: {
      name: 'mcp-auth-proxy',
      handler: buildHandler(config, { originGuard: localOriginGuard(opts.originSecret) }),
      timeoutMs: opts.timeoutMs,
    },
    port: opts.port ?? config.listenPort,
    propagateDisconnect: opts.propagateDisconnect,
    publicHosts: publicHosts(config),
    onLog: writeLogLine,
  });
}

export interface LocalDiscoveryOptions {
  readonly port?: number;
  /** Lambda timeout of the discovery function (ms). @default 30000 */
  readonly timeoutMs?: number;
  /** Seams for the handler (fetch, secret resolver, provider deps). */
  readonly handler?: DiscoveryHandlerOptions;
  /** As `LocalProxyOptions.originSecret`. */
  readonly originSecret?: string;
}

async function discoveryFunction(config: Config, opts: LocalDiscoveryOptions): Promise<HostedFunction> {
  const { buildHandler } = await import('../../functions/discovery/index.ts');
  return {
    name: 'mcp-auth-discovery',
    handler: buildHandler(config, { originGuard: localOriginGuard(opts.originSecret), ...opts.handler }),
    timeoutMs: opts.timeoutMs ?? 30_000,
  };
}

/** The discovery/registration function alone behind its own emulated Function URL. */
export async function startLocalDiscovery(
  config: Config,
  opts: LocalDiscoveryOptions = {},
): Promise<RunningServer> {
  return startFunctionUrlServer({
    fn: await discoveryFunction(config, opts),
    port: opts.port ?? 0,
    publicHosts: publicHosts(config),
    onLog: writeLogLine,
  });
}

/**
 * Both functions behind ONE origin, like the CloudFront single-origin variant: the facade's
 * paths (authorization server metadata, /authorize, /token, /register) go to the discovery
 * function, everything else (MCP endpoints, PRM) to the proxy. The config's
 * `discovery.base_url` must be this origin so the PRM lists it as the authorization server.
 */
export async function startLocalSingleOrigin(
  config: Config,
  opts: LocalProxyOptions & { readonly discovery?: LocalDiscoveryOptions } = {},
): Promise<RunningServer> {
  const { buildHandler } = await import('../../functions/proxy/index.ts');
  const { discoveryRoute } = await import('../../functions/discovery/metadata.ts');
  const issuer = config.discovery.baseUrl;
  if (!issuer) throw new Error('startLocalSingleOrigin: config.discovery.base_url must be the shared origin');
  const proxy: HostedFunction = {
    name: 'mcp-auth-proxy',
    handler: buildHandler(config, { originGuard: localOriginGuard(opts.originSecret) }),
    timeoutMs: opts.timeoutMs,
  };
  const discovery = await discoveryFunction(config, { originSecret: opts.originSecret, ...opts.discovery });
  return startFunctionUrlServer({
    fn: (path) => (discoveryRoute(issuer, path).kind === 'none' ? proxy : discovery),
    port: opts.port ?? config.listenPort,
    propagateDisconnect: opts.propagateDisconnect,
    publicHosts: publicHosts(config),
    originHeaders:
      opts.originSecret === undefined ? undefined : { [ORIGIN_SECRET_HEADER]: opts.originSecret },
    onLog: writeLogLine,
  });
}
