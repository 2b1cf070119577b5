/**
 * The local Function URL emulation must behave like AWS where our code depends on it: the
 * payload 2.0 event shape, the streaming metadata prelude, and the runtime's quirks.
 */
import http from 'node:http';
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, startFunctionUrlServer } from '../../bin/local/function-url-server.ts';
import {
  eventToRequest,
  originOf,
  toBufferedResult,
  writeStreamingResponse,
} from '../../functions/shared/function-url.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('payload format 2.0 event', () => {
  it('has lower-cased headers, joined repeats, cookies split out, raw query and base64 binary bodies', async () => {
    let seen: APIGatewayProxyEventV2 | undefined;
    server = await startFunctionUrlServer({
      fn: {
        name: 'f',
        handler: async (e: APIGatewayProxyEventV2) => {
          seen = e;
          return { statusCode: 204 };
        },
      },
    });
    const body = new Uint8Array([0, 1, 2, 255]);
    // node:http sends repeated headers as separate lines (fetch would pre-join them).
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${server!.url}/a/b%20c?x=1&x=2&y`, {
        method: 'PUT',
        headers: [
          'Host',
          `localhost:${server!.port}`,
          'X-Custom',
          'one',
          'x-custom',
          'two',
          'Cookie',
          'a=1; b=2',
          'Content-Type',
          'application/octet-stream',
        ],
      });
      req.on('response', (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      req.end(Buffer.from(body));
    });
    expect(status).toBe(204);
    expect(seen).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/a/b%20c',
      rawQueryString: 'x=1&x=2&y',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { x: '1,2', y: '' },
      isBase64Encoded: true,
      body: Buffer.from(body).toString('base64'),
      requestContext: { http: { method: 'PUT', path: '/a/b%20c' }, domainName: `localhost:${server.port}` },
    });
    expect(seen!.headers['x-custom']).toBe('one,two');
    expect(seen!.headers.cookie).toBeUndefined();
    const req = eventToRequest(seen!, originOf(seen!));
    expect(req.url).toBe(`http://localhost:${server.port}/a/b%20c?x=1&x=2&y`);
    expect(req.headers.get('cookie')).toBe('a=1; b=2');
    expect(new Uint8Array(await req.arrayBuffer())).toEqual(body);
  });

  it('uses https for real Function URL hosts and a configured public origin when given', () => {
    const e = { requestContext: { domainName: 'abc.lambda-url.eu-west-1.on.aws' } } as APIGatewayProxyEventV2;
    expect(originOf(e)).toBe('https://abc.lambda-url.eu-west-1.on.aws');
    expect(originOf(e, 'https://mcp.example.com')).toBe('https://mcp.example.com');
  });

  it('refuses bodies over 6 MB with 413 before invoking', async () => {
    let invoked = false;
    server = await startFunctionUrlServer({
      fn: {
        name: 'f',
        handler: async () => {
          invoked = true;
          return { statusCode: 200 };
        },
      },
    });
    const res = await fetch(server.url, { method: 'POST', body: new Uint8Array(6 * 1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(invoked).toBe(false);
  });
});

describe('response streaming', () => {
  it('takes status, headers and cookies from the prelude and streams the rest', async () => {
    server = await startFunctionUrlServer({
      fn: {
        name: 's',
        handler: awslambda.streamifyResponse(async (_e, stream: Writable) => {
          const res = new Response('hello', {
            status: 201,
            headers: [
              ['x-a', '1'],
              ['set-cookie', 'k=v; Path=/'],
              ['content-type', 'text/plain'],
            ],
          });
          await writeStreamingResponse(res, stream);
        }),
      },
    });
    const res = await fetch(server.url);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-a')).toBe('1');
    expect(res.headers.getSetCookie()).toEqual(['k=v; Path=/']);
    expect(await res.text()).toBe('hello');
  });

  it('emits the prelude for an empty body (404 stays 404)', async () => {
    server = await startFunctionUrlServer({
      fn: {
        name: 's',
        handler: awslambda.streamifyResponse(async (_e, stream: Writable) =>
          writeStreamingResponse(new Response(null, { status: 404 }), stream),
        ),
      },
    });
    expect((await fetch(server.url)).status).toBe(404);
  });

  it('reproduces the runtime quirk: end() without any write loses the status', async () => {
    server = await startFunctionUrlServer({
      fn: {
        name: 's',
        handler: awslambda.streamifyResponse(async (_e, stream: Writable) => {
          const out = awslambda.HttpResponseStream.from(stream, {
            statusCode: 404,
            headers: {},
          }) as unknown as Writable;
          out.end();
        }),
      },
    });
    expect((await fetch(server.url)).status).toBe(200);
  });

  it('cuts the response at the function timeout', async () => {
    server = await startFunctionUrlServer({
      fn: {
        name: 's',
        timeoutMs: 500,
        handler: awslambda.streamifyResponse(async (_e, stream: Writable) => {
          const out = awslambda.HttpResponseStream.from(stream, {
            statusCode: 200,
            headers: {},
          }) as unknown as Writable;
          out.write('partial');
          await new Promise((r) => setTimeout(r, 1500));
          out.end();
        }),
      },
    });
    const res = await fetch(server.url);
    await expect(res.text()).rejects.toThrow();
  });
});

describe('buffered results', () => {
  it('base64-encodes binary bodies and keeps text as text', async () => {
    const bin = await toBufferedResult(
      new Response(new Uint8Array([1, 2]), { headers: { 'content-type': 'image/png' } }),
    );
    expect(bin).toMatchObject({ isBase64Encoded: true, body: 'AQI=' });
    const text = await toBufferedResult(
      new Response('{"a":1}', { status: 201, headers: { 'content-type': 'application/json' } }),
    );
    expect(text).toMatchObject({ statusCode: 201, isBase64Encoded: false, body: '{"a":1}' });
  });
});
