/**
 * The bench's MCP upstream, in a process of its own: answers every POST with a small
 * `tools/call` result, and holds SSE streams (GET, `?id=` names the stream) on which it emits
 * events when told, each carrying its emit time (`process.hrtime`, the one monotonic clock all
 * processes on the machine share) so the client can tell the delay of every event.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveCommands, usage } from './ipc.ts';

const streams = new Map<string, Set<http.ServerResponse>>();

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const set = streams.get(id) ?? new Set();
    streams.set(id, set.add(res));
    req.on('close', () => set.delete(res));
    return;
  }
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
  });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"${size}"}]}}`);
  });
});
server.keepAliveTimeout = 60_000;

/** Emit `n` events on the streams named `id`, one per timer tick, so each is measured alone. */
function emit({ id, n }: { id: string; n: number }): Promise<number> {
  const set = streams.get(id) ?? new Set();
  return new Promise((resolve) => {
    let i = 0;
    const tick = () => {
      if (i++ >= n) return resolve(set.size);
      const line = `id: ${i}\ndata: {"t":"${process.hrtime.bigint()}"}\n\n`;
      for (const res of set) res.write(line);
      setTimeout(tick, 0);
    };
    tick();
  });
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveCommands({ url: `http://127.0.0.1:${port}` }, { usage, emit: (a) => emit(a as never) });
});
