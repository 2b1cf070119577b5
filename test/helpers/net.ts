import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A free TCP port on loopback (bound and released). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Start a real HTTP server on 127.0.0.1 with a free port. */
export async function serve(handler: http.RequestListener, port = 0): Promise<TestServer> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${p}`,
    port: p,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
