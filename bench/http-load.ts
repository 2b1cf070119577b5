/**
 * The client side of the HTTP figures: sequential `tools/call` POSTs interleaved over the
 * targets (one request to each in turn, the order rotating), throughput at a fixed concurrency,
 * SSE per-event delay, and many open streams at once.
 */
import http from 'node:http';
import { Agent, request } from 'undici';
import { type Summary, summarize } from './stats.ts';

export const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message: 'x'.repeat(200) } },
});

export interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

async function post(t: Target, agent: Agent): Promise<void> {
  const res = await request(`${t.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...t.headers,
    },
    body: BODY,
    dispatcher: agent,
  });
  await res.body.arrayBuffer();
  if (res.statusCode !== 200) throw new Error(`${t.name} answered ${res.statusCode}`);
}

/** `rounds` requests to each target, one at a time, interleaved. */
export async function sequential(
  targets: readonly Target[],
  rounds: number,
): Promise<Record<string, Summary>> {
  const agents = targets.map(() => new Agent({ connections: 1, keepAliveTimeout: 60_000 }));
  const lat = targets.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < targets.length; j++) {
      const k = (i + j) % targets.length;
      const t0 = performance.now();
      await post(targets[k]!, agents[k]!);
      lat[k]!.push(performance.now() - t0);
    }
  }
  await Promise.all(agents.map((a) => a.close()));
  return Object.fromEntries(targets.map((t, k) => [t.name, summarize(lat[k]!)]));
}

/** Requests per second with `concurrency` in flight, `requests` in all. */
export async function throughput(t: Target, requests: number, concurrency: number): Promise<number> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) await post(t, agent);
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await agent.close();
  return requests / secs;
}

/** An open SSE stream: its events' delays (emit → receive, ms) and a way to close it. */
export interface OpenStream {
  readonly delays: number[];
  /** Resolves once `count` events in all have arrived. */
  until(count: number): Promise<void>;
  close(): void;
}

export function openStream(t: Target, id: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.url}/mcp?id=${id}`);
    const req = http.get(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        headers: t.headers,
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`${t.name} SSE answered ${res.statusCode}`));
        const delays: number[] = [];
        let buf = '';
        let want = Number.POSITIVE_INFINITY;
        let reached: () => void = () => {};
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = process.hrtime.bigint();
          buf += chunk;
          for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
            const m = /"t":"(\d+)"/.exec(buf.slice(0, at));
            buf = buf.slice(at + 2);
            if (m) delays.push(Number(now - BigInt(m[1]!)) / 1e6);
          }
          if (delays.length >= want) reached();
        });
        resolve({
          delays,
          until: (count) =>
            new Promise<void>((r) => {
              if (delays.length >= count) return r();
              want = count;
              reached = r;
            }),
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
  });
}
