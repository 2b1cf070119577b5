/**
 * The local runner's upstream for `transport_mode: stdio`: an HTTP server on 127.0.0.1 (a free
 * port) that serves a stdio MCP server over Streamable HTTP (`paths.streamable_http`) and the
 * legacy HTTP+SSE transport (`paths.sse` + `paths.messages`), as the original runs supergateway.
 *
 * - Each MCP session gets its own child process (stdio-child.ts): a stdio server speaks to one
 *   client. Messages are relayed both ways unchanged by the SDK's server transports.
 * - A session ends with `DELETE` (Streamable HTTP), with its SSE stream (legacy), when its
 *   child exits, after `IDLE_MS` without a request, or when the bridge closes; its child is
 *   stopped then. At most `MAX_SESSIONS` at once (503 beyond).
 * - Its paths start with a random segment (`url` includes it; the proxy forwards below
 *   `base_url`): another local user who finds the port cannot reach the server past the proxy.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { StdioServerConfig } from '../../functions/shared/config/index.ts';
import type { PathsConfig } from '../../functions/shared/config/paths.ts';
import type { Logger } from '../../functions/shared/log.ts';
import { StdioChild } from './stdio-child.ts';

export const MAX_SESSIONS = 32;
export const IDLE_MS = 30 * 60_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface StdioBridge {
  /** The base URL to use as `base_url` (with its random path segment). */
  readonly url: string;
  /** Process groups of the children running now (tests check none is left after `close`). */
  pids(): number[];
  close(): Promise<void>;
}

interface Session {
  readonly front: StreamableHTTPServerTransport | SSEServerTransport;
  readonly child: StdioChild;
  lastSeen: number;
}

/** Relay messages both ways; either side closing closes the other. */
function relay(front: Transport, child: StdioChild, log: Logger): void {
  // Progress notifications go out on the stream of the request that asked for them.
  const byProgressToken = new Map<unknown, string | number>();
  front.onmessage = (m) => {
    const token = 'id' in m && 'params' in m ? m.params?._meta?.progressToken : undefined;
    if (token !== undefined && 'id' in m && m.id !== undefined) byProgressToken.set(token, m.id);
    child.send(m).catch((e) => log.warn('stdio server did not take a message', { reason: String(e) }));
  };
  child.onmessage = (m: JSONRPCMessage) => {
    const token = 'method' in m && !('id' in m) ? m.params?.progressToken : undefined;
    const relatedRequestId = token === undefined ? undefined : byProgressToken.get(token);
    front.send(m, relatedRequestId === undefined ? undefined : { relatedRequestId }).catch(() => {});
  };
  child.onerror = (e) => log.warn(e.message);
  child.onclose = () => void front.close().catch(() => {});
  front.onclose = () => void child.close();
}

function jsonRpcError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** The bridge's sessions and its three routes. */
class Bridge {
  readonly prefix = `/${randomBytes(16).toString('hex')}`;
  readonly sessions = new Map<string, Session>();

  constructor(
    private readonly server: StdioServerConfig,
    private readonly paths: PathsConfig,
    private readonly log: Logger,
    private readonly maxSessions: number,
  ) {}

  async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const { prefix, paths } = this;
    const path = url.pathname.startsWith(`${prefix}/`)
      ? url.pathname.slice(prefix.length).replace(/(.)\/$/, '$1')
      : '';
    try {
      if (path === paths.streamableHttp) return await this.streamable(req, res);
      if (path === paths.sse && req.method === 'GET') return await this.legacySse(res);
      if (path === paths.messages && req.method === 'POST') return await this.messages(req, res, url);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } catch (e) {
      this.log.warn('stdio bridge request failed', { reason: String(e) });
      if (!res.headersSent) jsonRpcError(res, e instanceof SyntaxError ? 400 : 500, 'request failed');
      else res.end();
    }
  }

  async end(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    await Promise.allSettled([s.front.close(), s.child.close()]);
    this.log.debug('MCP session ended, its stdio server stopped', { pid: s.child.pid });
  }

  /** A new session's child, started and relayed to `front`; undefined (and answered) if it cannot start. */
  private async open(front: Session['front'], res: http.ServerResponse): Promise<StdioChild | undefined> {
    const child = new StdioChild(this.server);
    try {
      await child.start();
    } catch (e) {
      this.log.error('stdio server did not start', { reason: String(e) });
      jsonRpcError(res, 502, 'the stdio MCP server did not start');
      return undefined;
    }
    relay(front, child, this.log);
    this.log.debug('stdio server started for a new MCP session', { pid: child.pid });
    return child;
  }

  private async streamable(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const sid = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (typeof sid === 'string') {
      const s = this.sessions.get(sid);
      if (!s || !(s.front instanceof StreamableHTTPServerTransport))
        return jsonRpcError(res, 404, 'Session not found');
      s.lastSeen = Date.now();
      return s.front.handleRequest(req, res, body);
    }
    if (!isInitializeRequest(body))
      return jsonRpcError(res, 400, 'Bad Request: no valid session ID provided');
    if (this.sessions.size >= this.maxSessions) return jsonRpcError(res, 503, 'too many MCP sessions');
    const front: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) =>
        void this.sessions.set(id, { front, child: child!, lastSeen: Date.now() }),
      onsessionclosed: (id) => void this.end(id),
    });
    const child = await this.open(front, res);
    if (!child) return;
    await front.handleRequest(req, res, body);
    if (!front.sessionId) await child.close(); // initialize refused: no session
  }

  private async legacySse(res: http.ServerResponse): Promise<void> {
    if (this.sessions.size >= this.maxSessions) return jsonRpcError(res, 503, 'too many MCP sessions');
    const front = new SSEServerTransport(`${this.prefix}${this.paths.messages}`, res);
    const child = await this.open(front, res);
    if (!child) return;
    this.sessions.set(front.sessionId, { front, child, lastSeen: Date.now() });
    res.on('close', () => void this.end(front.sessionId));
    await front.start();
  }

  private async messages(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const s = this.sessions.get(url.searchParams.get('sessionId') ?? '');
    if (!s || !(s.front instanceof SSEServerTransport)) return jsonRpcError(res, 404, 'Session not found');
    s.lastSeen = Date.now();
    await s.front.handlePostMessage(req, res, await readJson(req));
  }
}

export async function startStdioBridge(
  server: StdioServerConfig,
  paths: PathsConfig,
  log: Logger,
  maxSessions = MAX_SESSIONS,
): Promise<StdioBridge> {
  const bridge = new Bridge(server, paths, log, maxSessions);
  const httpServer = http.createServer((req, res) => void bridge.route(req, res));
  const sweep = setInterval(() => {
    for (const [id, s] of bridge.sessions) if (Date.now() - s.lastSeen > IDLE_MS) void bridge.end(id);
  }, 60_000);
  sweep.unref();
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${bridge.prefix}`,
    pids: () => [...bridge.sessions.values()].map((s) => s.child.pid!).filter((p) => p !== undefined),
    async close() {
      clearInterval(sweep);
      await Promise.allSettled([...bridge.sessions.keys()].map((id) => bridge.end(id)));
      await new Promise<void>((r) => {
        httpServer.closeAllConnections();
        httpServer.close(() => r());
      });
    },
  };
}
