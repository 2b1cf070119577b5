/**
 * Hosts the functions' real handlers behind emulated Function URLs (see function-url-server.ts).
 * Used by `npm start` and by the tests, so all three hosts run the same core.
 */
import type { Config } from '../../functions/shared/config.ts';
import { type RunningServer, startFunctionUrlServer } from './function-url-server.ts';

export interface LocalProxyOptions {
  readonly port?: number;
  /** Lambda timeout of the proxy function (ms). @default 900000 */
  readonly timeoutMs?: number;
  readonly propagateDisconnect?: boolean;
}

export async function startLocalProxy(config: Config, opts: LocalProxyOptions = {}): Promise<RunningServer> {
  // The handler module calls `awslambda.streamifyResponse` when built: the server module installs the global first.
  const { buildHandler } = await import('../../functions/proxy/index.ts');
  return startFunctionUrlServer({
    fn: { name: 'mcp-auth-proxy', handler: buildHandler(config), timeoutMs: opts.timeoutMs },
    port: opts.port ?? config.listenPort,
    propagateDisconnect: opts.propagateDisconnect,
    onLog: (l) => process.stderr.write(`${l}\n`),
  });
}
