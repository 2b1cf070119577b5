/** Start the proxy's real Lambda handler behind the local Function URL emulation. */

import type { RunningServer } from '../../bin/local/function-url-server.ts';
import { startLocalProxy } from '../../bin/local/runner.ts';
import { type Config, parseConfig } from '../../functions/shared/config/index.ts';
import { freePort } from './net.ts';

export interface ProxyUnderTest extends RunningServer {
  readonly config: Config;
}

export async function startProxy(
  raw: Record<string, unknown>,
  opts: { timeoutMs?: number; propagateDisconnect?: boolean } = {},
): Promise<ProxyUnderTest> {
  const port = typeof raw.listen_port === 'number' ? raw.listen_port : await freePort();
  const config = parseConfig({ ...raw, listen_port: port });
  const server = await startLocalProxy(config, { port, ...opts });
  return Object.assign(server, { config });
}
