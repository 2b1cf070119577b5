/**
 * Faults of the upstream MCP server before it answers, through the real proxy handler behind the
 * local Function URL emulation, each played by a real server on loopback that counts what reaches
 * it: nothing listening (connection refused), a server that resets every connection, one that
 * never sends its headers (timeout), and one that resets the first request on a reused keep-alive
 * socket (a pooled connection the server dropped while the Lambda sandbox was frozen).
 */
import type http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { freePort, serve, sleep } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';

const AUD = 'mcp-faults';
let idp: TestIssuer;
beforeAll(async () => {
  idp = await startTestIssuer();
});
afterAll(() => idp?.close());

const proxyFor = (baseUrl: string, extra: Record<string, unknown> = {}) =>
  startProxy({
    provider: 'oidc',
    base_url: baseUrl,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { audience: [AUD] },
    ...extra,
  });

async function send(proxy: ProxyUnderTest, method: string, body?: string) {
  const res = await fetch(`${proxy.url}/mcp`, {
    method,
    headers: {
      authorization: `Bearer ${await idp.sign({ aud: AUD })}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

const rpcError = (id: unknown, code: number, message: string) => ({
  jsonrpc: '2.0',
  id,
  error: { code, message },
});
const UNAVAILABLE = (id: unknown) => rpcError(id, -32000, 'upstream unavailable');
const TIMED_OUT = (id: unknown) => rpcError(id, -32001, 'upstream timed out');

/** The requests each case sends, and the id their JSON-RPC error must carry. */
const CASES: readonly { name: string; method: string; body?: string; id: unknown }[] = [
  {
    name: 'a request (number id)',
    method: 'POST',
    body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
    id: 7,
  },
  {
    name: 'a request (string id)',
    method: 'POST',
    body: '{"jsonrpc":"2.0","id":"a-1","method":"ping"}',
    id: 'a-1',
  },
  {
    name: 'a notification',
    method: 'POST',
    body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    id: null,
  },
  {
    name: 'a batch',
    method: 'POST',
    body: '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]',
    id: null,
  },
  {
    name: "a client's response to a server request",
    method: 'POST',
    body: '{"jsonrpc":"2.0","id":3,"result":{}}',
    id: null,
  },
  { name: 'a GET (stream)', method: 'GET', id: null },
  { name: 'a DELETE (session end)', method: 'DELETE', id: null },
];

describe('upstream down: connection refused', () => {
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    proxy = await proxyFor(`http://127.0.0.1:${await freePort()}`); // nothing listens there
  });
  afterAll(() => proxy?.close());

  for (const c of CASES) {
    it(`answers ${c.name} with 502 and a JSON-RPC error carrying id ${JSON.stringify(c.id)}`, async () => {
      const res = await send(proxy, c.method, c.body);
      expect(res).toEqual({ status: 502, type: 'application/json', body: UNAVAILABLE(c.id) });
    });
  }
});

/** A TCP server that resets every connection it accepts, counting them. */
async function resetEveryConnection() {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.once('data', () => socket.resetAndDestroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('upstream down: every connection reset', () => {
  let up: Awaited<ReturnType<typeof resetEveryConnection>>;
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    up = await resetEveryConnection();
    proxy = await proxyFor(up.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
  });

  it('answers a POST with 502 and its id after exactly one attempt (never retried)', async () => {
    const before = up.connections();
    const res = await send(proxy, 'POST', CASES[0]!.body);
    expect(res).toEqual({ status: 502, type: 'application/json', body: UNAVAILABLE(7) });
    expect(up.connections() - before).toBe(1);
  });

  for (const method of ['GET', 'DELETE']) {
    it(`answers a ${method} with 502 after one retry, no more`, async () => {
      const before = up.connections();
      const res = await send(proxy, method);
      expect(res).toEqual({ status: 502, type: 'application/json', body: UNAVAILABLE(null) });
      expect(up.connections() - before).toBe(2);
    });
  }
});

describe('slow upstream: no headers within upstream timeout_seconds', () => {
  const arrived: string[] = [];
  const closed: string[] = [];
  let up: Awaited<ReturnType<typeof serve>>;
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    // Reads the request, then never answers; records when the proxy gives up on the socket.
    up = await serve((req: http.IncomingMessage) => {
      arrived.push(req.method ?? '');
      req.resume();
      req.socket.once('close', () => closed.push(req.method ?? ''));
    });
    proxy = await proxyFor(up.url, { timeout_seconds: 1 });
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
  });

  for (const [method, body, id] of [
    ['POST', CASES[0]!.body, 7],
    ['GET', undefined, null],
  ] as const) {
    it(`answers a ${method} with 504 and a JSON-RPC error, and aborts the upstream request`, async () => {
      arrived.length = 0;
      closed.length = 0;
      const started = Date.now();
      const res = await send(proxy, method, body);
      expect(res).toEqual({ status: 504, type: 'application/json', body: TIMED_OUT(id) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(950); // the configured second, not sooner
      for (let i = 0; i < 50 && closed.length === 0; i++) await sleep(20);
      expect({ arrived, closed }).toEqual({ arrived: [method], closed: [method] }); // one attempt, its socket closed
    });
  }
});

/**
 * A keep-alive HTTP server that answers the first request on each socket and resets the socket on
 * any later request, without answering: what a client sees when its pooled connection was closed
 * by the server while the Lambda sandbox was frozen. Counts arrivals per method.
 */
async function resetReusedSockets() {
  const arrivals: Record<string, number> = {};
  const served = new WeakMap<object, number>();
  const up = await serve((req, res) => {
    const method = req.method ?? '';
    arrivals[method] = (arrivals[method] ?? 0) + 1;
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) return void req.socket.resetAndDestroy();
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
      res.end('{"jsonrpc":"2.0","id":7,"result":{}}');
    });
  });
  return { ...up, arrivals };
}

describe('a reused keep-alive socket reset by the upstream', () => {
  let up: Awaited<ReturnType<typeof resetReusedSockets>>;
  let proxy: ProxyUnderTest;
  beforeAll(async () => {
    up = await resetReusedSockets();
    proxy = await proxyFor(up.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.close();
  });

  it('retries a GET and a DELETE once on a fresh socket; never a POST (502 with its id)', async () => {
    // A first POST opens the pooled socket, answered.
    expect((await send(proxy, 'POST', CASES[0]!.body)).status).toBe(200);
    // Each next request goes out on the pooled socket, which the server resets.
    expect((await send(proxy, 'GET')).status).toBe(200);
    expect((await send(proxy, 'DELETE')).status).toBe(200);
    expect(await send(proxy, 'POST', CASES[0]!.body)).toEqual({
      status: 502,
      type: 'application/json',
      body: UNAVAILABLE(7),
    });
    // GET and DELETE: the reset attempt and its one retry; POST: the first one and the reset one.
    expect(up.arrivals).toEqual({ POST: 2, GET: 2, DELETE: 2 });
  });
});
