/**
 * Under the local runner every open stream holds one upstream connection of the proxy's pool
 * (forward/upstream.ts). With a pool of 64 the 65th stream waited for ever; 100 streams of one
 * subject (its limit raised to allow them) must all get their answer.
 */
import type http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { serve, type TestServer } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';

let idp: TestIssuer;
let upstream: TestServer;
let proxy: ProxyUnderTest;
const held = new Set<http.ServerResponse>();

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
    held.add(res);
  });
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { audience: ['many'] },
    stream: { max_per_subject: 200 },
  });
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});

it('100 open streams through the local runner all get their answer', async () => {
  const token = await idp.sign({ aud: 'many' });
  const aborts = Array.from({ length: 100 }, () => new AbortController());
  try {
    const statuses = await Promise.all(
      aborts.map(async (a) => {
        const res = await fetch(`${proxy.url}/mcp`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          signal: AbortSignal.any([a.signal, AbortSignal.timeout(20_000)]),
        });
        return res.status;
      }),
    );
    expect(statuses).toEqual(Array(100).fill(200));
    expect(held.size).toBe(100);
  } finally {
    for (const a of aborts) a.abort();
  }
}, 30_000);
