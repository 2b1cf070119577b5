/**
 * Our proxy as a client meets it locally: the real Lambda handler behind the local Function URL
 * emulation (bin/local), in a process of its own so its CPU and RSS are measured alone. Logs at
 * the deployed default level (info: one access line per request), written to stdout as on Lambda.
 */
import { startLocalProxy } from '../bin/local/runner.ts';
import { parseConfig } from '../functions/shared/config/index.ts';
import { freePort } from '../test/helpers/net.ts';
import { childArg, serveCommands, usage } from './ipc.ts';

const { config } = childArg<{ config: Record<string, unknown> }>();
const port = await freePort();
const server = await startLocalProxy(parseConfig({ ...config, listen_port: port }), { port });
serveCommands({ url: server.url.replace('localhost', '127.0.0.1') }, { usage });
