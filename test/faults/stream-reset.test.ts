/**
 * The upstream resets its TCP connection (RST, not a clean close) in the middle of an SSE
 * response, through the real proxy handler behind the local runner's Function URL emulation. The
 * client must see the events that arrived and then a failed transfer — never a clean end, never a
 * hang: each test is bounded far below the stream limit (max_duration_seconds 840 by default).
 * The clean-close (FIN) variants are in test/proxy/stream.test.ts › broken upstream bodies, the
 * Lambda handler's own rejection in test/proxy/handler.test.ts.
 */
import type http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { sleep } from '../helpers/net.ts';
import { type ProxyUnderTest, startProxy } from '../helpers/proxy.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/upstream.ts';

const AUD = 'mcp-faults';
const HANG_BOUND_MS = 3000;
let idp: TestIssuer;
let upstream: FakeUpstream;
let proxy: ProxyUnderTest;
const logs: string[] = [];
const origLog = console.log;

beforeAll(async () => {
  idp = await startTestIssuer();
  upstream = await startFakeUpstream();
  proxy = await startProxy({
    provider: 'oidc',
    base_url: upstream.url,
    default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    token: { audience: [AUD] },
    stream: { heartbeat_seconds: 0 },
  });
  console.log = (...a: unknown[]) => {
    logs.push(a.map(String).join(' '));
    origLog(...a);
  };
});
afterAll(async () => {
  console.log = origLog;
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});
afterEach(() => {
  upstream.seen.length = 0;
  logs.length = 0;
});

/** Two events, then a TCP reset of the upstream connection. */
function resetAfterTwoEvents(_req: unknown, res: http.ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('id: 1\ndata: {"n":1}\n\n');
  res.write('id: 2\ndata: {"n":2}\n\n');
  setTimeout(() => res.socket?.resetAndDestroy(), 100);
}

/** Once the proxy has logged the stream's end, its reason. */
async function closeReason(): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = logs.find((l) => l.includes('"stream closed"'));
    if (line) return JSON.parse(line).why;
    await sleep(20);
  }
  return undefined;
}

describe('upstream TCP reset mid-stream', () => {
  for (const method of ['GET', 'POST'] as const) {
    it(`${method}: the client gets both events, then a body that errors (not done), in bounded time`, async () => {
      upstream.setHandler(resetAfterTwoEvents);
      const res = await fetch(`${proxy.url}/mcp`, {
        method,
        headers: {
          authorization: `Bearer ${await idp.sign({ aud: AUD })}`,
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
        },
        body:
          method === 'POST'
            ? '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}'
            : undefined,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let text = '';
      const started = Date.now();
      const outcome = await (async () => {
        for (;;) {
          const r = await Promise.race([reader.read(), sleep(HANG_BOUND_MS).then(() => 'hang' as const)]);
          if (r === 'hang') return 'hang';
          if (r.done) return 'clean end';
          text += dec.decode(r.value, { stream: true });
        }
      })().catch((e: Error) => `error: ${e.name}`);
      expect(text).toBe('id: 1\ndata: {"n":1}\n\nid: 2\ndata: {"n":2}\n\n');
      expect(outcome).toBe('error: TypeError'); // undici's "terminated"
      expect(Date.now() - started).toBeLessThan(HANG_BOUND_MS);
      expect(await closeReason()).toBe('upstream-error');
      expect(upstream.seen.map((s) => s.method)).toEqual([method]);
    });
  }

  it('on the wire: the chunked body has no terminating chunk and the connection is closed', async () => {
    upstream.setHandler(resetAfterTwoEvents);
    const token = await idp.sign({ aud: AUD });
    const raw = await new Promise<{ text: string; how: string }>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const sock = net.connect(proxy.port, '127.0.0.1', () => {
        sock.write(
          `GET /mcp HTTP/1.1\r\nhost: localhost:${proxy.port}\r\nauthorization: Bearer ${token}\r\n` +
            'accept: text/event-stream\r\nconnection: keep-alive\r\n\r\n',
        );
      });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connection still open after ${HANG_BOUND_MS} ms`));
      }, HANG_BOUND_MS);
      const done = (how: string) => {
        clearTimeout(timer);
        resolve({ text: Buffer.concat(chunks).toString('utf8'), how });
      };
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('end', () => done('end'));
      sock.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    });
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.text.toLowerCase()).toContain('transfer-encoding: chunked');
    expect(raw.text).toContain('id: 2\ndata: {"n":2}\n\n');
    // A complete chunked body ends with a zero-size chunk; a cut one does not.
    expect(raw.text.endsWith('0\r\n\r\n')).toBe(false);
    expect(['end', 'ECONNRESET']).toContain(raw.how);
    expect(await closeReason()).toBe('upstream-error');
  });
});
