/**
 * The floor for an HTTP proxy in Node: a bare pass-through that pipes each request to the
 * upstream over a keep-alive agent and pipes the answer back, with no checks at all. What our
 * proxy adds is measured against this as well as against calling the upstream directly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { childArg, serveCommands, usage } from './ipc.ts';

const { upstream } = childArg<{ upstream: string }>();
const target = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const up = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
      agent,
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (/^text\/event-stream/.test(String(upRes.headers['content-type']))) res.flushHeaders();
      upRes.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveCommands({ url: `http://127.0.0.1:${port}` }, { usage });
});
