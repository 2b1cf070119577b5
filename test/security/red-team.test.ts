/**
 * Regression tests for the red team's findings (issue 9), through the real proxy handler behind
 * the local Function URL emulation, with a scriptable upstream that records what reached it.
 */
import http from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventToRequest } from '../../functions/shared/function-url.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;
let resource: string;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
  });
  resource = `${proxy.url}/mcp`;
});

afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});

const authed = async (headers: Record<string, string> = {}) => ({
  authorization: `Bearer ${await idp.sign({ aud: resource })}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...headers,
});

describe('finding 6: request-override headers never reach the upstream', () => {
  const OVERRIDES = {
    'X-Original-URL': '/admin',
    'X-Rewrite-URL': '/admin',
    'X-Original-URI': '/admin',
    'X-Forwarded-Uri': '/admin',
    'X-Forwarded-Path': '/admin',
    'X-Forwarded-Prefix': '/admin',
    'X-Envoy-Original-Path': '/admin',
    'X-HTTP-Method-Override': 'DELETE',
    'X-HTTP-Method': 'DELETE',
    'X-Method-Override': 'DELETE',
    'X-Original-Method': 'DELETE',
    X_Original_URL: '/admin', // the `_` spelling CGI-style servers fold into `-`
    'X-Original-Host': 'admin.internal',
    'X-Host': 'admin.internal',
    'X-Forwarded-Server': 'admin.internal',
    'X-Forwarded-Scheme': 'https',
    'X-Middleware-Subrequest': 'middleware:middleware:middleware:middleware:middleware',
  };
  it('the request is forwarded without any of them', async () => {
    upstream.seen.length = 0;
    const res = await fetch(resource, {
      method: 'POST',
      headers: await authed(OVERRIDES),
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    const seen = Object.keys(upstream.seen[0]!.headers).map((k) => k.replace(/_/g, '-'));
    for (const name of Object.keys(OVERRIDES))
      expect(seen).not.toContain(name.toLowerCase().replace(/_/g, '-'));
    expect(upstream.seen[0]!.url).toBe('/mcp');
    expect(upstream.seen[0]!.method).toBe('POST');
  });
});

describe("finding 2: an upstream cannot set the facade's cookies on a shared origin", () => {
  it('drops Set-Cookie for __Host-mcp-* / __Secure-mcp-* (any case), keeps the upstream’s own cookies', async () => {
    upstream.setHandler((_r, res) => {
      res.setHeader('set-cookie', [
        '__Host-mcp-consent=planted; Path=/; Secure; HttpOnly; SameSite=Strict',
        '__host-MCP-relay-AAAAAAAA=planted; Path=/; Secure',
        '__Secure-mcp-x=planted; Path=/; Secure',
        '=__Host-mcp-consent=planted; Path=/; Secure',
        ' __HOST-mcp-consent=planted; Path=/; Secure',
        'AWSALB=sticky; Path=/',
      ]);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    try {
      const res = await fetch(resource, {
        method: 'POST',
        headers: await authed(),
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toEqual(['AWSALB=sticky; Path=/']);
    } finally {
      upstream.setHandler((_r, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    }
  });
});

/** A raw HTTP/1.1 request with a Host header of our choosing (fetch cannot set Host). */
function rawRequest(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string>,
  body = '{"jsonrpc":"2.0","id":1,"method":"ping"}',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { ...headers, host, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('finding 7: the local runner answers only at its own host names', () => {
  it('a foreign Host with a token minted for it is refused (421) and nothing reaches the upstream', async () => {
    upstream.seen.length = 0;
    const token = await idp.sign({ aud: 'https://other.example/mcp' });
    for (const host of [
      'other.example',
      `localhost:${proxy.port}/mcp?`,
      'localhost',
      `evil.localhost:${proxy.port}`,
    ]) {
      const forged = await rawRequest(proxy.port, host, '/mcp', {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      });
      expect(forged.status, host).toBe(421);
    }
    expect(upstream.seen).toHaveLength(0);
  });

  it('its own names work (localhost and 127.0.0.1 with its port)', async () => {
    for (const host of [`localhost:${proxy.port}`, `127.0.0.1:${proxy.port}`]) {
      const token = await idp.sign({ aud: `http://${host}/mcp` });
      const ok = await rawRequest(proxy.port, host, '/mcp', {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      });
      expect(ok.status, host).toBe(200);
    }
  });
});

describe('finding 14: abandoned streams do not starve the local runner', () => {
  it('after 80 streams opened and dropped, a request is answered at once', async () => {
    upstream.setHandler((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\n\n'); // then silence, as an idle MCP stream
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    try {
      const token = await idp.sign({ aud: resource });
      for (let i = 0; i < 80; i++) {
        const ctl = new AbortController();
        const res = await fetch(resource, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          signal: AbortSignal.any([ctl.signal, AbortSignal.timeout(5000)]),
        });
        expect(res.status).toBe(200);
        ctl.abort();
      }
      const t0 = Date.now();
      const res = await fetch(resource, {
        method: 'POST',
        headers: await authed(),
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        signal: AbortSignal.timeout(5000),
      });
      expect(res.status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      upstream.setHandler((_r, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    }
  });
});

describe('finding 11: request shapes that used to cost a 5xx', () => {
  it('Expect: 100-continue (curl, bodies over 1 MB) is answered and forwarded without the header', async () => {
    upstream.seen.length = 0;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { pad: 'x'.repeat(1_200_000) },
    });
    const token = await idp.sign({ aud: resource });
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: proxy.port,
          path: '/mcp',
          method: 'POST',
          headers: {
            host: `localhost:${proxy.port}`,
            expect: '100-continue',
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
        },
        (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode ?? 0));
        },
      );
      req.on('continue', () => req.end(body));
      req.on('error', reject);
    });
    expect(res).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]!.headers.expect).toBeUndefined();
    expect(upstream.seen[0]!.body.length).toBe(Buffer.byteLength(body));
  });
});

describe('finding 5: the legacy SSE endpoint rewrite cannot be escaped by event syntax', () => {
  const sseResource = () => `${proxy.url}/sse`;
  async function readSse(ms: number): Promise<string> {
    const res = await fetch(sseResource(), {
      headers: {
        authorization: `Bearer ${await idp.sign({ aud: sseResource() })}`,
        accept: 'text/event-stream',
      },
      signal: AbortSignal.timeout(ms),
    });
    expect(res.status).toBe(200);
    let text = '';
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    } catch {
      // the timeout, or a failed stream
    }
    return text;
  }

  it.each([
    ['the last event field wins', 'event: message\nevent: endpoint\ndata: https://evil.example/messages\n\n'],
    ['an event ended by LF CR LF', 'event: endpoint\ndata: https://evil.example/messages\n\r\n'],
    [
      'a second endpoint event',
      'event: endpoint\ndata: /messages?s=1\n\nevent: endpoint\ndata: https://evil.example/m\n\n',
    ],
  ])('%s', async (_name, events) => {
    upstream.setHandler((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${events}event: message\ndata: after\n\n`);
    });
    const text = await readSse(3000);
    expect(text).not.toContain('evil.example');
    expect(text).toContain('data: after');
    for (const m of text.matchAll(/event: endpoint\r?\ndata: (\S+)/g))
      expect(m[1]!.startsWith(proxy.url)).toBe(true);
  });

  it('one event may not grow without bound: the stream fails and the upstream is let go', async () => {
    let sentWhenLetGo = -1;
    upstream.setHandler((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const blob = 'x'.repeat(64 * 1024);
      let sent = 0;
      res.on('close', () => {
        sentWhenLetGo = sent;
      });
      const timer = setInterval(() => {
        if (res.destroyed || sent > 4 * 1024 * 1024) {
          clearInterval(timer);
          res.destroy();
          return;
        }
        res.write(sent === 0 ? `data: ${blob}` : blob);
        sent += blob.length;
      }, 1);
    });
    const text = await readSse(10_000);
    expect(text.length).toBeLessThan(1024); // nothing of the oversized event reached the client
    await new Promise((r) => setTimeout(r, 200));
    // The proxy gave up on the upstream soon after the 1 MiB bound, not at the upstream's 4 MiB.
    expect(sentWhenLetGo).toBeGreaterThan(1024 * 1024);
    expect(sentWhenLetGo).toBeLessThan(3 * 1024 * 1024);
  });
});

describe('finding 12: a stream ends when its token expires', () => {
  it('an SSE stream opened with a token valid for 2 more seconds ends cleanly about then, and lets the upstream go', async () => {
    let upstreamClosedAt = 0;
    upstream.setHandler((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: open\n\n'); // then silence, as an idle stream
      res.on('close', () => {
        upstreamClosedAt = Date.now();
      });
    });
    const short = await startProxy({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      token: { clock_skew_seconds: 0 },
      stream: { max_duration_seconds: 30, heartbeat_seconds: 1 },
    });
    try {
      const exp = Math.floor(Date.now() / 1000) + 2;
      const token = await idp.sign({ aud: `${short.url}/mcp`, exp });
      const t0 = Date.now();
      const res = await fetch(`${short.url}/mcp`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: AbortSignal.timeout(15_000),
      });
      expect(res.status).toBe(200);
      const text = await res.text(); // ends (cleanly) instead of running to the 30 s bound
      const ms = Date.now() - t0;
      expect(text).toContain('data: open');
      expect(ms).toBeLessThan(exp * 1000 - t0 + 1500);
      expect(ms).toBeGreaterThan(500);
      await new Promise((r) => setTimeout(r, 100));
      expect(upstreamClosedAt).toBeGreaterThan(0);
    } finally {
      await short.close();
      upstream.setHandler((_r, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    }
  });
});

describe('finding 12: open streams per subject are capped on one instance', () => {
  it('a subject holding the maximum gets 429 for one more, nothing reaches the upstream; a closed one frees a slot; others are unaffected', async () => {
    const open: http.ServerResponse[] = [];
    upstream.setHandler((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: open\n\n');
      open.push(res);
    });
    const capped = await startProxy({
      provider: 'oidc',
      base_url: upstream.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      stream: { max_per_subject: 2 },
    });
    const aborts: AbortController[] = [];
    const openStream = async (sub: string) => {
      const a = new AbortController();
      aborts.push(a);
      const res = await fetch(`${capped.url}/mcp`, {
        headers: {
          authorization: `Bearer ${await idp.sign({ aud: `${capped.url}/mcp`, sub })}`,
          accept: 'text/event-stream',
        },
        signal: a.signal,
      });
      if (res.status === 200) {
        const reader = res.body!.getReader();
        await reader.read(); // the first event: the stream is open end to end
      } else await res.body?.cancel();
      return res;
    };
    try {
      expect((await openStream('alice')).status).toBe(200);
      expect((await openStream('alice')).status).toBe(200);
      const seenBefore = upstream.seen.length;
      const third = await openStream('alice');
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('5');
      expect(upstream.seen.length).toBe(seenBefore);
      // POSTs (one request, one answer) are not streams held open: they still pass.
      const post = await fetch(`${capped.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await idp.sign({ aud: `${capped.url}/mcp`, sub: 'alice' })}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(post.status).toBe(200);
      await post.body?.cancel();
      expect((await openStream('bob')).status).toBe(200);
      // Alice leaves one stream: the proxy sees the disconnect and frees the slot.
      aborts[0]!.abort();
      let again: Response | undefined;
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 50));
        again = await openStream('alice');
        if (again.status === 200) break;
      }
      expect(again?.status).toBe(200);
    } finally {
      for (const a of aborts) a.abort();
      for (const r of open) r.end();
      await capped.close();
      upstream.setHandler((_r, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    }
  });

  it('slots are counted per key and given back once', async () => {
    const { createStreamSlots } = await import('../../functions/proxy/stream-slots.ts');
    const s = createStreamSlots(1);
    const r = s.acquire('a')!;
    expect(s.acquire('a')).toBeUndefined();
    expect(s.acquire('b')).toBeDefined();
    r();
    r(); // idempotent: the second call gives nothing back twice
    expect(s.open('a')).toBe(0);
    expect(s.acquire('a')).toBeDefined();
    expect(s.acquire('a')).toBeUndefined();
    const unlimited = createStreamSlots(0);
    for (let i = 0; i < 100; i++) expect(unlimited.acquire('a')).toBeDefined();
  });
});

describe('finding 11: methods a Web Request cannot carry', () => {
  it.each(['TRACE'])(
    '%s gets 405 with Allow, not a 502, and nothing reaches the upstream',
    async (method) => {
      upstream.seen.length = 0;
      const res = await new Promise<{ status: number; allow?: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: proxy.port,
            path: '/mcp',
            method,
            headers: { host: `localhost:${proxy.port}` },
          },
          (r) => {
            r.resume();
            r.on('end', () =>
              resolve({ status: r.statusCode ?? 0, allow: r.headers.allow as string | undefined }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(405);
      expect(res.allow).toContain('POST');
      expect(upstream.seen).toHaveLength(0);
    },
  );
});

describe('eventToRequest for methods a Request cannot carry (the Function URL adapter)', () => {
  it.each(['TRACE', 'TRACK', 'CONNECT', 'GET X'])('%s → 405', async (method) => {
    const out = eventToRequest(
      {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/mcp',
        rawQueryString: '',
        headers: {},
        isBase64Encoded: false,
        requestContext: { http: { method }, domainName: 'x.lambda-url.eu-west-1.on.aws' },
      } as unknown as APIGatewayProxyEventV2,
      'https://x.lambda-url.eu-west-1.on.aws',
    );
    expect(out).toBeInstanceOf(Response);
    expect((out as Response).status).toBe(405);
  });
});
