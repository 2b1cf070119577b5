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
import { parseConfig } from '../../functions/shared/config.ts';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.ts';

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
    body: '{}',
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
