/**
 * The response stream through the real proxy handler behind the local Function URL emulation, against a
 * scriptable upstream on loopback: streaming without buffering, legacy SSE endpoint rewrite,
 * Streamable HTTP methods and headers, pass-through of upstream errors, header policy, bounds.
 */
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { sleep } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    cors: { allowed_origins: ['https://app.example'] },
    token: { audience: ['mcp-test'] },
    stream: { heartbeat_seconds: 0 },
    // Transport mechanics with the upstream's own ids; the binding: test/security/mcp-session-hostile.test.ts.
    session_binding: { enabled: false },
  });
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});
afterEach(() => {
  upstream.seen.length = 0;
});

const auth = async (claims = {}) => ({
  authorization: `Bearer ${await idp.sign({ aud: 'mcp-test', ...claims })}`,
  'content-type': 'application/json',
});

/** Read an SSE body event by event (blank-line framed). */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  return {
    async next(timeoutMs = 5000): Promise<string | undefined> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = buf.indexOf('\n\n');
        if (i >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          return ev;
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no complete event within ${timeoutMs} ms (have: ${JSON.stringify(buf)})`);
        const r = await Promise.race([reader.read(), sleep(left).then(() => 'timeout' as const)]);
        if (r === 'timeout') continue;
        if (r.done) return undefined;
        buf += dec.decode(r.value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('SSE streaming', () => {
  it('delivers each event before the upstream produces the next one (no buffering)', async () => {
    const gates: (() => void)[] = [];
    const waitGate = (i: number) => new Promise<void>((r) => (gates[i] = r));
    upstream.setHandler(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 1; i <= 5; i++) {
        res.write(`id: ${i}\nevent: message\ndata: {"n":${i}}\n\n`);
        if (i < 5) await waitGate(i); // event i+1 is only produced once the client has seen event i
      }
      res.end();
    });
    const res = await fetch(`${proxy.url}/mcp`, {
      headers: { ...(await auth()), accept: 'text/event-stream' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const events = eventReader(res.body!);
    for (let i = 1; i <= 5; i++) {
      const ev = await events.next(3000);
      expect(ev).toBe(`id: ${i}\nevent: message\ndata: {"n":${i}}`);
      gates[i]?.();
    }
    expect(await events.next()).toBeUndefined();
  });

  it('answers with the stream headers before the upstream sends its first event', async () => {
    let release!: () => void;
    upstream.setHandler(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'early' });
      res.flushHeaders();
      await new Promise<void>((r) => (release = r));
      res.end('data: late\n\n');
    });
    const res = await fetch(`${proxy.url}/mcp`, { headers: await auth() }); // would hang if headers waited for data
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBe('early');
    release();
    expect(await res.text()).toBe('data: late\n\n');
  });

  it('passes an event larger than 64 KiB intact', async () => {
    const big = 'x'.repeat(300_000);
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`event: message\ndata: ${big}\n\n`);
    });
    const res = await fetch(`${proxy.url}/mcp`, {
      headers: { ...(await auth()), accept: 'text/event-stream' },
    });
    expect(await res.text()).toBe(`event: message\ndata: ${big}\n\n`);
  });

  for (const [name, endpoint] of [
    ['relative', '/messages?sessionId=abc'],
    ['absolute', 'UPSTREAM/messages?sessionId=abc'],
  ] as const) {
    it(`rewrites a ${name} legacy endpoint event onto the proxy origin`, async () => {
      upstream.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: endpoint\ndata: ${endpoint.replace('UPSTREAM', upstream.url)}\n\n`);
        res.end('event: message\ndata: {"jsonrpc":"2.0"}\n\n');
      });
      const res = await fetch(`${proxy.url}/sse`, {
        headers: { ...(await auth()), accept: 'text/event-stream' },
      });
      const text = await res.text();
      expect(text).toBe(
        `event: endpoint\ndata: ${proxy.url}/messages?sessionId=abc\n\nevent: message\ndata: {"jsonrpc":"2.0"}\n\n`,
      );
      expect(upstream.seen[0]!.url).toBe('/sse');
    });
  }

  it('drops an endpoint event that points away from the upstream', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: endpoint\ndata: https://evil.example/messages?sessionId=1\n\n');
    });
    const res = await fetch(`${proxy.url}/sse`, { headers: await auth() });
    expect(await res.text()).toBe('');
  });

  it('authenticates every legacy POST /messages', async () => {
    const anon = await fetch(`${proxy.url}/messages?sessionId=abc`, {
      method: 'POST',
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${proxy.url}/.well-known/oauth-protected-resource/sse"`,
    );
    expect(upstream.seen).toHaveLength(0);
    upstream.setHandler((_req, res) => res.writeHead(202).end('Accepted'));
    const ok = await fetch(`${proxy.url}/messages?sessionId=abc`, {
      method: 'POST',
      headers: { ...(await auth()), 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    });
    expect(ok.status).toBe(202);
    expect(upstream.seen[0]).toMatchObject({
      method: 'POST',
      url: '/messages?sessionId=abc',
      body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    });
  });
});

describe('routing', () => {
  for (const [method, path] of [
    ['GET', '/messages/anything'],
    ['POST', '/messages/..%2Fadmin%2Fdelete'],
    ['POST', '/messages/anything/else?sessionId=abc'],
    ['POST', '/messages//'],
    ['GET', '/mcp/tools'],
    ['GET', '/sse/x'],
  ] as const) {
    it(`answers ${method} ${path} with 404 and forwards nothing (exact MCP paths only)`, async () => {
      const res = await fetch(`${proxy.url}${path}`, {
        method,
        headers: await auth(),
        body: method === 'POST' ? '{"jsonrpc":"2.0","id":1,"method":"ping"}' : undefined,
      });
      expect(res.status).toBe(404);
      expect(upstream.seen).toHaveLength(0);
    });
  }

  it('forwards /messages/ (python SDK style) and /messages with its query string', async () => {
    upstream.setHandler((_req, res) => res.writeHead(202).end('Accepted'));
    for (const path of ['/messages/?session_id=py1', '/messages?sessionId=ts1']) {
      const res = await fetch(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { ...(await auth()), 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(202);
    }
    expect(upstream.seen.map((s) => s.url)).toEqual(['/messages/?session_id=py1', '/messages?sessionId=ts1']);
  });
});

describe('broken upstream bodies', () => {
  it('fails the client response (no clean end) when a JSON body is cut mid-way', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { data: 'x'.repeat(2000) } });
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.write(body.slice(0, 1000));
      setTimeout(() => res.socket?.destroy(), 50); // connection reset before the rest
    });
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: await auth(),
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(200); // headers were already sent
    await expect(res.text()).rejects.toThrow();
  });

  it('fails the client response when an SSE stream breaks, after forwarding what arrived', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.socket?.destroy(), 100);
    });
    const res = await fetch(`${proxy.url}/mcp`, { headers: await auth() });
    const events = eventReader(res.body!);
    expect(await events.next()).toBe('data: one');
    await expect(events.next()).rejects.toThrow();
  });

  it('still ends a complete body cleanly', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { data: 'y'.repeat(2000) } });
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.write(body.slice(0, 1000));
      setTimeout(() => res.end(body.slice(1000)), 50);
    });
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: await auth(),
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(await res.text()).toBe(body);
  });
});

describe('Streamable HTTP', () => {
  it('POST answered with JSON: method, query, body and session headers pass both ways', async () => {
    upstream.setHandler((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'mcp-session-id': 'sess-1',
        'mcp-protocol-version': '2025-11-25',
      });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { echoed: JSON.parse(req.body) } }));
    });
    const res = await fetch(`${proxy.url}/mcp?x=1&y=%20z`, {
      method: 'POST',
      headers: {
        ...(await auth()),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 'sess-1',
        'mcp-protocol-version': '2025-11-25',
        'last-event-id': '42',
        'mcp-method': 'tools/call',
        'mcp-param-foo': 'bar',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBe('sess-1');
    expect(res.headers.get('mcp-protocol-version')).toBe('2025-11-25');
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { echoed: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } } },
    });
    const seen = upstream.seen[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/mcp?x=1&y=%20z');
    expect(seen.headers['mcp-session-id']).toBe('sess-1');
    expect(seen.headers['mcp-protocol-version']).toBe('2025-11-25');
    expect(seen.headers['last-event-id']).toBe('42');
    expect(seen.headers['mcp-method']).toBe('tools/call');
    expect(seen.headers['mcp-param-foo']).toBe('bar');
  });

  it('POST answered with an SSE stream', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n');
      res.end('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
    });
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { ...(await auth()), 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe(
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\nevent: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
    );
  });

  it('GET opens a stream and DELETE ends a session', async () => {
    upstream.setHandler((req, res) => {
      if (req.method === 'DELETE') {
        res.writeHead(200).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('id: 7\ndata: {}\n\n');
    });
    const get = await fetch(`${proxy.url}/mcp`, {
      headers: { ...(await auth()), 'mcp-session-id': 's9', 'last-event-id': '6' },
    });
    expect(await get.text()).toBe('id: 7\ndata: {}\n\n');
    const del = await fetch(`${proxy.url}/mcp`, {
      method: 'DELETE',
      headers: { ...(await auth()), 'mcp-session-id': 's9' },
    });
    expect(del.status).toBe(200);
    expect(
      upstream.seen.map((s) => [s.method, s.headers['mcp-session-id'], s.headers['last-event-id']]),
    ).toEqual([
      ['GET', 's9', '6'],
      ['DELETE', 's9', undefined],
    ]);
  });

  for (const status of [400, 404, 405]) {
    it(`passes an upstream ${status} through unaltered`, async () => {
      const body = `{"jsonrpc":"2.0","error":{"code":-32000,"message":"upstream says ${status}"},"id":null}`;
      upstream.setHandler((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json', allow: 'POST', 'x-upstream': 'yes' });
        res.end(body);
      });
      const res = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: await auth(),
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(status);
      expect(res.headers.get('x-upstream')).toBe('yes');
      expect(res.headers.get('allow')).toBe('POST');
      expect(await res.text()).toBe(body);
    });
  }

  it('answers 502 (not a hang or a 500) when the upstream is down', async () => {
    const down = await startProxy({
      provider: 'oidc',
      base_url: 'http://127.0.0.1:9', // discard port: connection refused
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      token: { audience: ['mcp-test'] },
    });
    try {
      const res = await fetch(`${down.url}/mcp`, {
        method: 'POST',
        headers: await auth(),
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(502);
      // A JSON-RPC error carrying the request's id (test/faults/upstream.test.ts has every case).
      expect(await res.json()).toEqual({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32000, message: 'upstream unavailable' },
      });
    } finally {
      await down.close();
    }
  });
});

describe('header policy', () => {
  it('never forwards the client token or cookies, adds identity, strips spoofed identity and hop-by-hop headers', async () => {
    upstream.setHandler((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{}'),
    );
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: {
        ...(await auth({ sub: 'alice', client_id: 'cli-7', scope: 'mcp:tools mcp:read' })),
        cookie: 'session=secret',
        'x-mcp-auth-subject': 'mallory',
        'X-MCP-AUTH-ROLE': 'admin',
        'x-custom': 'kept',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(200);
    const h = upstream.seen[0]!.headers;
    expect(h.authorization).toBeUndefined();
    expect(h.cookie).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-mcp-auth-subject']).toBe('alice');
    expect(h['x-mcp-auth-client-id']).toBe('cli-7');
    expect(h['x-mcp-auth-scopes']).toBe('mcp:tools mcp:read');
    expect(h['x-mcp-auth-issuer']).toBe(idp.issuer);
    expect(h['x-mcp-auth-role']).toBeUndefined();
    expect(h['x-custom']).toBe('kept');
    expect(h['x-forwarded-host']).toBe(new URL(proxy.url).host);
    expect(res.headers.get('connection')).not.toBe('close');
  });

  it('strips inbound identity headers spelled with underscores or mixed case (normalised names)', async () => {
    upstream.setHandler((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: {
        ...(await auth({ sub: 'alice' })),
        x_mcp_auth_subject: 'admin',
        'x-mcp-auth_subject': 'root',
        'X_MCP-AUTH-SCOPES': 'admin:all',
        x_mcp_auth_role: 'admin',
        x_forwarded_host: 'evil.example',
        proxy_authorization: 'Basic Zm9vOmJhcg==',
        x_custom: 'kept',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(200);
    const h = upstream.seen[0]!.headers;
    const identity = Object.keys(h).filter((k) => /^x.mcp.auth./i.test(k));
    expect(identity.sort()).toEqual([
      'x-mcp-auth-client-id',
      'x-mcp-auth-issuer',
      'x-mcp-auth-scopes',
      'x-mcp-auth-subject',
    ]);
    expect(h['x-mcp-auth-subject']).toBe('alice');
    expect(h['x-mcp-auth-scopes']).toBe('mcp:tools');
    expect(Object.keys(h).filter((k) => /forwarded.host|proxy.authorization/i.test(k))).toEqual([
      'x-forwarded-host',
    ]);
    expect(h['x-forwarded-host']).toBe(new URL(proxy.url).host);
    expect(h.x_custom).toBe('kept');
  });

  it('gives distinct subjects distinct, decodable identity headers', async () => {
    upstream.setHandler((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const subjects = ['é', '%C3%A9', ' alice', 'alice', 'ålice\r\nx-mcp-auth-subject: admin'];
    const seen: string[] = [];
    for (const sub of subjects) {
      const res = await fetch(`${proxy.url}/mcp`, {
        method: 'POST',
        headers: await auth({ sub }),
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      });
      expect(res.status).toBe(200);
      seen.push(String(upstream.seen.at(-1)!.headers['x-mcp-auth-subject']));
    }
    expect(seen).toEqual([
      '%C3%A9',
      '%25C3%25A9',
      '%20alice',
      'alice',
      '%C3%A5lice%0D%0Ax-mcp-auth-subject: admin',
    ]);
    expect(seen.map(decodeURIComponent)).toEqual(subjects);
  });

  it('never lets upstream CORS or WWW-Authenticate headers reach the client', async () => {
    upstream.setHandler((_req, res) =>
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
          'access-control-expose-headers': 'x-secret',
          'www-authenticate': 'Basic realm="upstream"',
          'x-upstream': 'yes',
        })
        .end('{}'),
    );
    const noOrigin = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: await auth(),
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(noOrigin.status).toBe(200);
    expect(noOrigin.headers.get('access-control-allow-origin')).toBeNull();
    expect(noOrigin.headers.get('access-control-allow-credentials')).toBeNull();
    expect(noOrigin.headers.get('access-control-expose-headers')).toBeNull();
    expect(noOrigin.headers.get('www-authenticate')).toBeNull();
    expect(noOrigin.headers.get('x-upstream')).toBe('yes');
    const allowed = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { ...(await auth()), origin: 'https://app.example' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull(); // not configured
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    expect(allowed.headers.get('access-control-expose-headers')).not.toContain('x-secret');
    expect(allowed.headers.get('www-authenticate')).toBeNull();
  });

  it('refuses a disallowed Origin with 403 and allows a configured one with CORS headers', async () => {
    const bad = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { ...(await auth()), origin: 'https://evil.example' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(bad.status).toBe(403);
    expect(upstream.seen).toHaveLength(0);
    upstream.setHandler((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const good = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { ...(await auth()), origin: 'https://app.example' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(good.headers.get('access-control-expose-headers')).toContain('Mcp-Session-Id');
    const pre = await fetch(`${proxy.url}/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
    const unauth = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { origin: 'https://app.example' },
    });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  });

  it('refuses an invalid MCP-Protocol-Version with 400 before forwarding', async () => {
    const res = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { ...(await auth()), 'mcp-protocol-version': 'junk' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(400);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('protected resource metadata (RFC 9728)', () => {
  for (const [path, resource] of [
    ['/.well-known/oauth-protected-resource/mcp', '/mcp'],
    ['/.well-known/oauth-protected-resource/sse', '/sse'],
    ['/.well-known/oauth-protected-resource', '/mcp'],
  ]) {
    it(`serves ${path}`, async () => {
      const res = await fetch(`${proxy.url}${path}`, { headers: { origin: 'https://anything.example' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        resource: `${proxy.url}${resource}`,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
      });
    });
  }

  it('answers OPTIONS with CORS and 404 for unknown paths', async () => {
    const pre = await fetch(`${proxy.url}/.well-known/oauth-protected-resource/mcp`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
    expect((await fetch(`${proxy.url}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
    expect((await fetch(`${proxy.url}/admin`, { headers: await auth() })).status).toBe(404);
    expect(upstream.seen).toHaveLength(0);
  });
});

/*
 * Timing: lower bounds prove which mechanism ended the stream (the maximum duration, not
 * something earlier); upper bounds are generous sanity checks for a busy CI machine. A missing
 * bound never resolves at all, so each test still fails (by its timeout) if the mechanism breaks.
 */
describe('bounded streams', () => {
  /** Open an SSE stream with node:http so the test can drop the connection abruptly. */
  function openAndDrop(url: string, headers: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => (e.message.includes('socket hang up') ? resolve() : reject(e)));
    });
  }

  it('aborts the upstream when the client goes away, at the latest at the maximum duration', async () => {
    const fresh = await startFakeUpstream();
    const proxied = await startProxy(
      {
        provider: 'oidc',
        base_url: fresh.url,
        default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
        token: { audience: ['mcp-test'] },
        stream: { max_duration_seconds: 2, heartbeat_seconds: 1 },
      },
      { propagateDisconnect: false }, // as on Lambda: the handler is not told the client left
    );
    try {
      fresh.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n'); // then silence forever
      });
      const t0 = Date.now();
      await openAndDrop(`${proxied.url}/mcp`, await auth());
      await fresh.aborted;
      const ms = Date.now() - t0;
      expect(ms).toBeGreaterThan(1500); // Lambda cannot see the disconnect: the 2 s bound does the work
      expect(ms).toBeLessThan(15_000);
    } finally {
      await proxied.close();
      await fresh.close();
    }
  });

  it('aborts the upstream at once when the host reports the disconnect', async () => {
    const fresh = await startFakeUpstream();
    const proxied = await startProxy(
      {
        provider: 'oidc',
        base_url: fresh.url,
        default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
        token: { audience: ['mcp-test'] },
        stream: { max_duration_seconds: 60 },
      },
      { propagateDisconnect: true },
    );
    try {
      fresh.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
      });
      const t0 = Date.now();
      await openAndDrop(`${proxied.url}/mcp`, await auth());
      await fresh.aborted;
      // Far below the 60 s bound: the reported disconnect, not the bound, aborted the upstream.
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      await proxied.close();
      await fresh.close();
    }
  });

  it('ends a stream cleanly at the maximum duration with heartbeats only between events', async () => {
    const fresh = await startFakeUpstream();
    const proxied = await startProxy({
      provider: 'oidc',
      base_url: fresh.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      token: { audience: ['mcp-test'] },
      stream: { max_duration_seconds: 3, heartbeat_seconds: 1 },
    });
    try {
      fresh.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: a\n\n');
        setTimeout(() => res.write('data: partial-'), 300); // an unfinished event: no heartbeat may split it
        setTimeout(() => res.write('end\n\n'), 1700); // well before the 3 s bound, even on a busy machine
      });
      const t0 = Date.now();
      const res = await fetch(`${proxied.url}/mcp`, { headers: await auth() });
      const text = await res.text(); // resolves only when the proxy ends the stream
      const ms = Date.now() - t0;
      expect(ms).toBeGreaterThan(2800); // the bound ended it, not the upstream
      expect(ms).toBeLessThan(15_000);
      expect(text.startsWith('data: a\n\ndata: partial-end\n\n')).toBe(true);
      expect(text).not.toMatch(/partial-: keepalive/);
      await fresh.aborted;
    } finally {
      await proxied.close();
      await fresh.close();
    }
  });

  it('sends heartbeats on an idle stream', async () => {
    const fresh = await startFakeUpstream();
    const proxied = await startProxy({
      provider: 'oidc',
      base_url: fresh.url,
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
      token: { audience: ['mcp-test'] },
      stream: { max_duration_seconds: 4, heartbeat_seconds: 1 },
    });
    try {
      fresh.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: hello\n\n');
      });
      const res = await fetch(`${proxied.url}/mcp`, { headers: await auth() });
      const text = await res.text();
      expect(text.startsWith('data: hello\n\n')).toBe(true);
      expect(text.match(/: keepalive\n\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      await proxied.close();
      await fresh.close();
    }
  });
});
