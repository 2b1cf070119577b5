/**
 * A scriptable upstream MCP-like server on loopback for relay tests: counts requests, keeps
 * the headers it saw, and lets each test decide the response (including paced SSE).
 */
import type http from 'node:http';
import { serve, type TestServer } from './net.ts';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface FakeUpstream extends TestServer {
  readonly seen: SeenRequest[];
  /** Resolves when a request's response is closed by the proxy/client side before it ended. */
  aborted: Promise<void>;
  setHandler(h: (req: SeenRequest, res: http.ServerResponse) => unknown): void;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  let handler: (req: SeenRequest, res: http.ServerResponse) => unknown = (_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  let markAborted: () => void = () => {};
  const self = {} as FakeUpstream;
  self.aborted = new Promise<void>((r) => {
    markAborted = r;
  });
  const server = await serve(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(r);
    res.on('close', () => {
      if (!res.writableEnded) markAborted();
    });
    await handler(r, res);
  });
  return Object.assign(self, server, {
    seen,
    setHandler(h: typeof handler) {
      handler = h;
    },
  });
}
