/**
 * The deployed handler itself, invoked the way the Lambda runtime invokes it (event, response
 * stream, context), without the HTTP emulation in between.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DELIMITER,
  installAwsLambdaGlobal,
  RuntimeResponseStream,
  STREAMING,
} from '../../bin/local/awslambda.ts';
import { parseConfig } from '../../functions/shared/config/index.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';
import { startFakeUpstream } from '../helpers/upstream.ts';

installAwsLambdaGlobal();
let idp: TestIssuer;
beforeAll(async () => {
  idp = await startTestIssuer();
});
afterAll(() => idp?.close());

it('is a streaming handler that releases the event loop and writes the prelude first', async () => {
  const { buildHandler } = await import('../../functions/proxy/index.ts');
  const handler = buildHandler(
    parseConfig({
      provider: 'oidc',
      base_url: 'http://127.0.0.1:9',
      default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
    }),
  );
  expect((handler as unknown as Record<symbol, unknown>)[STREAMING]).toBe('response');
  const chunks: Buffer[] = [];
  const stream = new RuntimeResponseStream(
    (c) => chunks.push(c),
    () => {},
  );
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: 'r1',
    getRemainingTimeInMillis: () => 60_000,
  } as unknown as Context;
  const event = {
    version: '2.0',
    rawPath: '/mcp',
    rawQueryString: '',
    headers: { host: 'abc.lambda-url.eu-west-1.on.aws' },
    requestContext: { domainName: 'abc.lambda-url.eu-west-1.on.aws', http: { method: 'POST' } },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  await handler(event, stream as never, context);
  expect(context.callbackWaitsForEmptyEventLoop).toBe(false);
  const all = Buffer.concat(chunks);
  const at = all.indexOf(DELIMITER);
  const prelude = JSON.parse(all.subarray(0, at).toString());
  expect(prelude.statusCode).toBe(401);
  expect(prelude.headers['www-authenticate']).toBe(
    'Bearer resource_metadata="https://abc.lambda-url.eu-west-1.on.aws/.well-known/oauth-protected-resource/mcp"',
  );
  expect(JSON.parse(all.subarray(at + 8).toString())).toEqual({
    error: 'invalid_token',
    error_description: 'authorization required',
  });
  expect(stream.writableFinished).toBe(true);
});

it('rejects (so the runtime fails the stream) and never ends the stream when the upstream body breaks', async () => {
  const { buildHandler } = await import('../../functions/proxy/index.ts');
  const upstream = await startFakeUpstream();
  try {
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"jsonrpc":"2.0","id":1,');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const handler = buildHandler(
      parseConfig({
        provider: 'oidc',
        base_url: upstream.url,
        default: { base_url: idp.issuer, jwks_url: idp.jwksUri },
        token: { audience: ['mcp-test'] },
      }),
    );
    const chunks: Buffer[] = [];
    let ended = false;
    const stream = new RuntimeResponseStream(
      (c) => chunks.push(c),
      () => {
        ended = true;
      },
    );
    const context = { awsRequestId: 'r2', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const event = {
      version: '2.0',
      rawPath: '/mcp',
      rawQueryString: '',
      headers: {
        host: 'abc.lambda-url.eu-west-1.on.aws',
        authorization: `Bearer ${await idp.sign({ aud: 'mcp-test' })}`,
        'content-type': 'application/json',
      },
      requestContext: { domainName: 'abc.lambda-url.eu-west-1.on.aws', http: { method: 'POST' } },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    await expect(handler(event, stream as never, context)).rejects.toThrow('response body failed');
    expect(ended).toBe(false);
    expect(stream.writableFinished).toBe(false);
    const all = Buffer.concat(chunks);
    const at = all.indexOf(DELIMITER);
    expect(JSON.parse(all.subarray(0, at).toString()).statusCode).toBe(200);
    expect(all.subarray(at + 8).toString()).toBe('{"jsonrpc":"2.0","id":1,');
  } finally {
    await upstream.close();
  }
});
