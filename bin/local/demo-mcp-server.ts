/**
 * The demo upstream MCP server (official TypeScript SDK): an `echo` tool and a `countdown` tool
 * that streams progress notifications, served over Streamable HTTP at `/mcp` and the legacy
 * HTTP+SSE transport at `/sse` + `/messages`. It trusts the proxy and shows the identity
 * headers it receives. Local use only.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface DemoMcpServer {
  readonly url: string;
  readonly port: number;
  /** Requests received, by path (tests assert nothing unauthenticated arrives). */
  readonly hits: Map<string, number>;
  /** Headers of the last request received. */
  lastHeaders(): http.IncomingHttpHeaders | undefined;
  close(): Promise<void>;
}

function buildServer(
  identityPrefix: string,
  headersOf: () => http.IncomingHttpHeaders | undefined,
): McpServer {
  const server = new McpServer({ name: 'demo-mcp-server', version: '1.0.0' });
  server.registerTool(
    'echo',
    {
      description: 'Echoes the message back, with the caller identity the proxy asserted',
      inputSchema: { message: z.string() },
    },
    async ({ message }) => {
      const who = headersOf()?.[`${identityPrefix}subject`];
      return {
        content: [{ type: 'text', text: message }],
        _meta: { caller: typeof who === 'string' ? who : null },
      };
    },
  );
  server.registerTool(
    'countdown',
    {
      description: 'Counts down from n, sending a progress notification each step',
      inputSchema: {
        n: z.number().int().min(1).max(50),
        delayMs: z.number().int().min(0).max(5000).optional(),
      },
    },
    async ({ n, delayMs }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: n, message: `step ${i}` },
          });
        }
        await new Promise((r) => setTimeout(r, delayMs ?? 20));
      }
      return { content: [{ type: 'text', text: `done after ${n} steps` }] };
    },
  );
  return server;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

// Long because it wires both MCP transports (Streamable HTTP sessions, legacy SSE) onto one
// node:http server, route by route.
export async function startDemoMcpServer(
  opts: { port?: number; identityPrefix?: string } = {},
): Promise<DemoMcpServer> {
  const prefix = opts.identityPrefix ?? 'x-mcp-auth-';
  const hits = new Map<string, number>();
  let last: http.IncomingHttpHeaders | undefined;
  const streamable = new Map<string, StreamableHTTPServerTransport>();
  const sse = new Map<string, SSEServerTransport>();

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    last = req.headers;
    try {
      if (url.pathname === '/mcp') {
        const sid = req.headers['mcp-session-id'] as string | undefined;
        let transport = sid ? streamable.get(sid) : undefined;
        if (sid && !transport) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              jsonrpc: '2.0',
              error: { code: -32001, message: 'Session not found' },
              id: null,
            }),
          );
          return;
        }
        const body = req.method === 'POST' ? await readJson(req) : undefined;
        if (!transport) {
          const t = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => {
              streamable.set(id, t);
            },
          });
          t.onclose = () => {
            if (t.sessionId) streamable.delete(t.sessionId);
          };
          await buildServer(prefix, () => last).connect(t);
          transport = t;
        }
        await transport.handleRequest(req, res, body);
        return;
      }
      if (url.pathname === '/sse' && req.method === 'GET') {
        const t = new SSEServerTransport('/messages', res);
        sse.set(t.sessionId, t);
        res.on('close', () => sse.delete(t.sessionId));
        await buildServer(prefix, () => last).connect(t);
        return;
      }
      if ((url.pathname === '/messages' || url.pathname === '/messages/') && req.method === 'POST') {
        const t = sse.get(url.searchParams.get('sessionId') ?? '');
        if (!t) {
          res.writeHead(404).end('Session not found');
          return;
        }
        await t.handlePostMessage(req, res, await readJson(req));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    hits,
    lastHeaders: () => last,
    close: async () => {
      for (const t of streamable.values()) await t.close().catch(() => {});
      for (const t of sse.values()) await t.close().catch(() => {});
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    },
  };
}
