/**
 * `npm run bench` — what the proxy costs, as ratios against a baseline measured in the same run:
 * the same requests sent straight to the upstream. Everything runs on loopback: a plain
 * upstream, a real JWKS issuer, and the proxy's real Lambda handler behind the local Function
 * URL emulation (so the numbers include the emulation; on Lambda the network dominates).
 *
 *   npm run bench [-- --requests 2000 --concurrency 16 --events 200]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { createProxy } from '../functions/proxy/pipeline.ts';
import { createJwtVerifier } from '../functions/proxy/token.ts';
import { silentLogger } from '../functions/shared/log.ts';
import { startTestIssuer } from '../test/helpers/issuer.ts';
import { startProxy } from '../test/helpers/proxy.ts';
import { parseCost } from './mcp-parse.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    events: { type: 'string', default: '200' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const EVENTS = Number(values.events);

const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message: 'x'.repeat(200) } },
});

async function startUpstream() {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/sse-bench')) {
      // One event per request-query tick: the client asks for the next via /tick.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      sseClients.add(res);
      req.on('close', () => sseClients.delete(res));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"${Buffer.concat(chunks).length}"}]}}`,
      );
    });
  });
  const sseClients = new Set<http.ServerResponse>();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    emit: (data: string) => {
      for (const c of sseClients) c.write(`data: ${data}\n\n`);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function load(url: string, headers: Record<string, string>) {
  const agent = new Agent({ connections: CONCURRENCY });
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        const s = performance.now();
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: BODY,
          dispatcher: agent,
        });
        await res.body.text();
        if (res.statusCode !== 200) errors++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await agent.close();
  return { rps: REQUESTS / secs, p50: pct(lat, 50), p99: pct(lat, 99), errors };
}

/** Sequential requests: straight to the upstream, or through the proxy core without any HTTP host. */
async function sequential(send: () => Promise<void>) {
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const s = performance.now();
    await send();
    lat.push(performance.now() - s);
  }
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function sseLatency(url: string, headers: Record<string, string>, emit: (d: string) => void) {
  const res = await fetch(url, { headers });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const lat: number[] = [];
  let buf = '';
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < EVENTS; i++) {
    const s = performance.now();
    emit(String(i));
    while (!buf.includes('\n\n')) {
      const r = await reader.read();
      if (r.done) throw new Error('SSE stream ended early');
      buf += dec.decode(r.value, { stream: true });
    }
    buf = buf.slice(buf.indexOf('\n\n') + 2);
    lat.push(performance.now() - s);
  }
  await reader.cancel();
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function main() {
  const idp = await startTestIssuer();
  const upstream = await startUpstream();
  const proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { audience: ['bench'] },
    paths: { streamable_http: '/mcp', sse: '/sse-bench' },
    stream: { heartbeat_seconds: 0 },
  });
  process.env.LOG_LEVEL = 'error';
  const token = await idp.sign({ aud: 'bench' });
  const auth = { authorization: `Bearer ${token}` };

  // Warm both paths (JIT, JWKS cache, keep-alive pools).
  await load(`${upstream.url}/mcp`, {});
  await load(`${proxy.url}/mcp`, auth);

  const direct = await load(`${upstream.url}/mcp`, {});
  const proxied = await load(`${proxy.url}/mcp`, auth);
  const rejected = await load(`${proxy.url}/mcp`, { authorization: 'Bearer invalid.token.value' });
  // The core alone (what Lambda runs, minus the runtime): Web Request in, Web Response out.
  const core = createProxy(proxy.config, {
    verifier: createJwtVerifier(proxy.config.token),
    log: silentLogger,
  });
  const agent = new Agent({ connections: 1 });
  const seqDirect = async () => {
    const r = await request(`${upstream.url}/mcp`, {
      method: 'POST',
      body: BODY,
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
    });
    await r.body.text();
  };
  const seqCore = async () => {
    const r = await core(
      new Request('http://localhost/mcp', {
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json', ...auth },
      }),
    );
    await r.arrayBuffer();
  };
  await sequential(seqDirect);
  await sequential(seqCore);
  const coreDirect = await sequential(seqDirect);
  const coreProxied = await sequential(seqCore);
  await agent.close();
  const sseDirect = await sseLatency(`${upstream.url}/sse-bench`, {}, upstream.emit);
  const sseProxied = await sseLatency(`${proxy.url}/sse-bench`, auth, upstream.emit);

  const f = (n: number) => n.toFixed(2);
  const rows = [
    [
      'JSON-RPC POST, direct (baseline)',
      `${direct.rps.toFixed(0)} req/s`,
      `${f(direct.p50)} ms`,
      `${f(direct.p99)} ms`,
      '1.00',
    ],
    [
      'JSON-RPC POST, through proxy (JWT verified)',
      `${proxied.rps.toFixed(0)} req/s`,
      `${f(proxied.p50)} ms`,
      `${f(proxied.p99)} ms`,
      f(direct.rps / proxied.rps),
    ],
    [
      'Invalid token, refused by proxy',
      `${rejected.rps.toFixed(0)} req/s`,
      `${f(rejected.p50)} ms`,
      `${f(rejected.p99)} ms`,
      f(direct.rps / rejected.rps),
    ],
    ['Sequential POST, direct (baseline)', '', `${f(coreDirect.p50)} ms`, `${f(coreDirect.p99)} ms`, '1.00'],
    [
      'Sequential POST, proxy core only (no HTTP host)',
      '',
      `${f(coreProxied.p50)} ms`,
      `${f(coreProxied.p99)} ms`,
      f(coreProxied.p50 / coreDirect.p50),
    ],
    ['SSE event latency, direct (baseline)', '', `${f(sseDirect.p50)} ms`, `${f(sseDirect.p99)} ms`, '1.00'],
    [
      'SSE event latency, through proxy',
      '',
      `${f(sseProxied.p50)} ms`,
      `${f(sseProxied.p99)} ms`,
      f(sseProxied.p50 / sseDirect.p50),
    ],
  ];
  process.stdout.write(
    `\nrequests=${REQUESTS} concurrency=${CONCURRENCY} sse_events=${EVENTS} node=${process.version}\n\n` +
      `| case | throughput | p50 | p99 | cost ratio vs baseline |\n|---|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n\n` +
      `(cost ratio: baseline throughput / case throughput for concurrent POSTs; case p50 / baseline p50 otherwise)\n`,
  );
  const parse = parseCost();
  process.stdout.write(
    `strict JSON-RPC parse + header check, ${parse.bytes}-byte tools/call: ${parse.strictUs.toFixed(1)} µs median ` +
      `(decode + JSON.parse alone ${parse.plainUs.toFixed(1)} µs, ratio ${parse.ratio.toFixed(2)})\n`,
  );
  if (proxied.errors || direct.errors || rejected.errors !== REQUESTS) {
    process.stderr.write(
      `unexpected statuses: direct=${direct.errors} proxied=${proxied.errors} rejected-non-401=${REQUESTS - rejected.errors}\n`,
    );
    process.exitCode = 1;
  }
  await proxy.close();
  await upstream.close();
  await idp.close();
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
